using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Coordination.Server.Cells;

internal sealed class CellConfiguration : IEntityTypeConfiguration<Cell>
{
    public void Configure(EntityTypeBuilder<Cell> builder)
    {
        builder.ToTable("Cells");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.LogHead).HasMaxLength(32);
        builder.HasOne<Conversation>().WithOne().HasForeignKey<Cell>(c => c.Id).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(c => c.EndsAt);
    }
}

internal sealed class MembershipConfiguration : IEntityTypeConfiguration<Membership>
{
    public void Configure(EntityTypeBuilder<Membership> builder)
    {
        builder.ToTable("Memberships");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.HasIndex(m => new { m.CellId, m.AccountId }).IsUnique();
        builder.HasIndex(m => m.AccountId);
        builder.HasOne<Cell>().WithMany().HasForeignKey(m => m.CellId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Account>().WithMany().HasForeignKey(m => m.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MembershipLogRecordConfiguration : IEntityTypeConfiguration<MembershipLogRecord>
{
    public void Configure(EntityTypeBuilder<MembershipLogRecord> builder)
    {
        builder.ToTable("MembershipLog");
        builder.HasKey(r => new { r.CellId, r.Index });
        builder.Property(r => r.Signature).HasMaxLength(64);
        builder.HasOne<Cell>().WithMany().HasForeignKey(r => r.CellId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InviteConfiguration : IEntityTypeConfiguration<Invite>
{
    public void Configure(EntityTypeBuilder<Invite> builder)
    {
        builder.ToTable("Invites");
        builder.HasKey(i => i.LookupId);
        builder.Property(i => i.LookupId).HasMaxLength(32);
        builder.HasIndex(i => i.CellId);
        builder.HasIndex(i => i.ExpiresAt);
        builder.HasOne<Cell>().WithMany().HasForeignKey(i => i.CellId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AdmissionCandidateConfiguration : IEntityTypeConfiguration<AdmissionCandidate>
{
    public void Configure(EntityTypeBuilder<AdmissionCandidate> builder)
    {
        builder.ToTable("AdmissionCandidates");
        builder.HasKey(a => new { a.LookupId, a.AccountId });
        builder.HasIndex(a => a.CellId);
        builder.HasOne<Invite>().WithMany().HasForeignKey(a => a.LookupId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Account>().WithMany().HasForeignKey(a => a.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class VouchRecordConfiguration : IEntityTypeConfiguration<VouchRecord>
{
    public void Configure(EntityTypeBuilder<VouchRecord> builder)
    {
        builder.ToTable("Vouches");
        builder.HasKey(v => new { v.LookupId, v.AccountId, v.VoucherAccountId });
        builder.Property(v => v.Signature).HasMaxLength(64);
        builder.HasOne<AdmissionCandidate>().WithMany().HasForeignKey(v => new { v.LookupId, v.AccountId }).OnDelete(DeleteBehavior.Cascade);
    }
}
