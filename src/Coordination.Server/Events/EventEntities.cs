namespace Coordination.Server.Events;

/// <summary>
/// An event in a GRAS group. The relay keeps the details (place, time, topic) sealed under the cell
/// key, which it cannot read, the membership that created it (to let it cancel), and whether it was
/// cancelled. No time is stored: when an event happens is inside the ciphertext. It is deleted with
/// its group.
/// </summary>
public sealed class GroupEvent
{
    public Guid Id { get; set; }

    public Guid CellId { get; set; }

    /// <summary>The creator's membership in the group. Not a foreign key: the event outlives the creator leaving.</summary>
    public Guid CreatorMembershipId { get; set; }

    /// <summary>nonce || ciphertext under the cell key. Opaque to the relay.</summary>
    public required byte[] SealedDetails { get; set; }

    public bool Cancelled { get; set; }
}

/// <summary>
/// One membership's answer to an event, sealed under the cell key: the relay learns only that the
/// membership answered. Replaced by a later answer; gone when the member leaves or the event is cancelled.
/// </summary>
public sealed class EventRsvp
{
    public Guid EventId { get; set; }

    public Guid MembershipId { get; set; }

    /// <summary>nonce || ciphertext under the cell key. Opaque to the relay.</summary>
    public required byte[] SealedAnswer { get; set; }
}
