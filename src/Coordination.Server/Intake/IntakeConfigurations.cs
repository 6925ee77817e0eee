using Coordination.Server.Cells;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Coordination.Server.Intake;

internal sealed class CellIntakeConfiguration : IEntityTypeConfiguration<CellIntake>
{
    public void Configure(EntityTypeBuilder<CellIntake> builder)
    {
        builder.ToTable("Intakes");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Id).ValueGeneratedNever();
        builder.Property(i => i.PublicKey).HasMaxLength(IntakeLimits.PublicKeyBytes);
        builder.Property(i => i.SealedPrivateKey).HasMaxLength(IntakeLimits.SealedPrivateKeyBytes);
        builder.HasIndex(i => i.CellId);
        builder.HasOne<Cell>().WithMany().HasForeignKey(i => i.CellId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class IntakeReportConfiguration : IEntityTypeConfiguration<IntakeReport>
{
    public void Configure(EntityTypeBuilder<IntakeReport> builder)
    {
        builder.ToTable("IntakeReports");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.ReceiptLookupId).HasMaxLength(IntakeLimits.LookupIdBytes);
        builder.HasIndex(r => r.IntakeId);
        builder.HasIndex(r => r.ReceiptLookupId);
        builder.HasIndex(r => r.ExpiresAt);
        builder.HasOne<CellIntake>().WithMany().HasForeignKey(r => r.IntakeId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class IntakeReplyConfiguration : IEntityTypeConfiguration<IntakeReply>
{
    public void Configure(EntityTypeBuilder<IntakeReply> builder)
    {
        builder.ToTable("IntakeReplies");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.HasIndex(r => r.ReportId);
        builder.HasIndex(r => r.ExpiresAt);
        builder.HasOne<IntakeReport>().WithMany().HasForeignKey(r => r.ReportId).OnDelete(DeleteBehavior.Cascade);
    }
}
