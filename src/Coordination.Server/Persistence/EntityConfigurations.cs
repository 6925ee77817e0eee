using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Coordination.Server.Persistence;

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.PublicKey).HasMaxLength(32);
        builder.HasIndex(a => a.PublicKey).IsUnique();
    }
}

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> builder)
    {
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.SigningPublicKey).HasMaxLength(32);
        builder.Property(d => d.AgreementPublicKey).HasMaxLength(32);
        builder.Property(d => d.AccountSignature).HasMaxLength(64);
        builder.HasIndex(d => d.SigningPublicKey).IsUnique();
        builder.HasIndex(d => d.AccountId);
        builder.HasOne<Account>().WithMany().HasForeignKey(d => d.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class LinkCodeConfiguration : IEntityTypeConfiguration<LinkCode>
{
    public void Configure(EntityTypeBuilder<LinkCode> builder)
    {
        builder.HasKey(l => l.LookupId);
        builder.Property(l => l.LookupId).HasMaxLength(32);
        builder.HasOne<Account>().WithMany().HasForeignKey(l => l.AccountId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(l => l.ExpiresAt);
    }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.HasKey(s => s.TokenHash);
        builder.Property(s => s.TokenHash).HasMaxLength(32);
        builder.HasIndex(s => s.DeviceId);
        builder.HasIndex(s => s.ExpiresAt);
        builder.HasOne<Device>().WithMany().HasForeignKey(s => s.DeviceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ConversationConfiguration : IEntityTypeConfiguration<Conversation>
{
    public void Configure(EntityTypeBuilder<Conversation> builder)
    {
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Kind).HasConversion<int>();
        builder.Property(c => c.DirectPairKey).HasMaxLength(32);
        builder.HasIndex(c => c.DirectPairKey).IsUnique();
    }
}

internal sealed class ConversationParticipantConfiguration : IEntityTypeConfiguration<ConversationParticipant>
{
    public void Configure(EntityTypeBuilder<ConversationParticipant> builder)
    {
        builder.HasKey(p => new { p.ConversationId, p.AccountId });
        builder.HasIndex(p => p.AccountId);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(p => p.ConversationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Account>().WithMany().HasForeignKey(p => p.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EnvelopeConfiguration : IEntityTypeConfiguration<Envelope>
{
    public void Configure(EntityTypeBuilder<Envelope> builder)
    {
        builder.HasKey(e => e.Seq);
        builder.Property(e => e.Seq).ValueGeneratedOnAdd();
        builder.HasIndex(e => new { e.ConversationId, e.Seq });
        builder.HasIndex(e => e.ExpiresAt);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(e => e.ConversationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SendReceiptConfiguration : IEntityTypeConfiguration<SendReceipt>
{
    public void Configure(EntityTypeBuilder<SendReceipt> builder)
    {
        builder.HasKey(r => new { r.ConversationId, r.MessageId });
        builder.HasIndex(r => r.ExpiresAt);
    }
}

internal sealed class DeliveryCursorConfiguration : IEntityTypeConfiguration<DeliveryCursor>
{
    public void Configure(EntityTypeBuilder<DeliveryCursor> builder)
    {
        builder.HasKey(c => new { c.DeviceId, c.ConversationId });
        builder.HasIndex(c => c.ConversationId);
        builder.HasOne<Device>().WithMany().HasForeignKey(c => c.DeviceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(c => c.ConversationId).OnDelete(DeleteBehavior.Cascade);
    }
}
