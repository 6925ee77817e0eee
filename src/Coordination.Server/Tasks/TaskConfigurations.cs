using Coordination.Server.Cells;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Coordination.Server.Tasks;

internal sealed class CellTaskConfiguration : IEntityTypeConfiguration<CellTask>
{
    public void Configure(EntityTypeBuilder<CellTask> builder)
    {
        builder.ToTable("Tasks");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).ValueGeneratedNever();
        builder.HasIndex(t => t.CellId);
        builder.HasOne<Cell>().WithMany().HasForeignKey(t => t.CellId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(t => t.ThreadId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TaskAssignmentConfiguration : IEntityTypeConfiguration<TaskAssignment>
{
    public void Configure(EntityTypeBuilder<TaskAssignment> builder)
    {
        builder.ToTable("TaskAssignments");
        builder.HasKey(a => new { a.TaskId, a.MembershipId });
        builder.HasIndex(a => a.MembershipId);
        builder.HasIndex(a => new { a.State, a.OfferExpiresAt });
        builder.HasOne<CellTask>().WithMany().HasForeignKey(a => a.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MembershipTagConfiguration : IEntityTypeConfiguration<MembershipTag>
{
    public void Configure(EntityTypeBuilder<MembershipTag> builder)
    {
        builder.ToTable("MembershipTags");
        builder.HasKey(t => new { t.MembershipId, t.Tag });
        builder.Property(t => t.Tag).HasMaxLength(32);
        builder.HasOne<Membership>().WithMany().HasForeignKey(t => t.MembershipId).OnDelete(DeleteBehavior.Cascade);
    }
}
