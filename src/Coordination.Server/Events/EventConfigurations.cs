using Coordination.Server.Cells;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Coordination.Server.Events;

internal sealed class GroupEventConfiguration : IEntityTypeConfiguration<GroupEvent>
{
    public void Configure(EntityTypeBuilder<GroupEvent> builder)
    {
        builder.ToTable("GroupEvents");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.HasIndex(e => e.CellId);
        builder.HasOne<Cell>().WithMany().HasForeignKey(e => e.CellId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EventRsvpConfiguration : IEntityTypeConfiguration<EventRsvp>
{
    public void Configure(EntityTypeBuilder<EventRsvp> builder)
    {
        builder.ToTable("EventRsvps");
        builder.HasKey(r => new { r.EventId, r.MembershipId });
        builder.HasIndex(r => r.MembershipId);
        builder.HasOne<GroupEvent>().WithMany().HasForeignKey(r => r.EventId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Membership>().WithMany().HasForeignKey(r => r.MembershipId).OnDelete(DeleteBehavior.Cascade);
    }
}
