using Coordination.Protocol;

namespace Coordination.Server.Cells;

/// <summary>
/// A cell or GRAS group. Its id is also its main conversation's id. The relay keeps the sealed
/// profile (name, description) it cannot read, and the head of the membership log so appends can
/// be checked without replaying it.
/// </summary>
public sealed class Cell
{
    public Guid Id { get; set; }

    /// <summary><see cref="ConversationKind.Cell"/> or <see cref="ConversationKind.GrasGroup"/>.</summary>
    public ConversationKind Kind { get; set; }

    /// <summary>Cells only: the announcements conversation (organizers write, newcomers read).</summary>
    public Guid? AnnouncementsId { get; set; }

    /// <summary>The name and description, encrypted under the cell key. Opaque to the relay.</summary>
    public required byte[] SealedProfile { get; set; }

    /// <summary>GRAS groups only: when the relay deletes the group and everything in it (Unix ms).</summary>
    public long? EndsAt { get; set; }

    public long LogLength { get; set; }

    public required byte[] LogHead { get; set; }
}

/// <summary>A current member: the relay's copy of what the verified log says, for enforcing access.</summary>
public sealed class Membership
{
    public Guid Id { get; set; }

    public Guid CellId { get; set; }

    public Guid AccountId { get; set; }

    public MemberRole Role { get; set; }

    public RiskLevel Ceiling { get; set; }

    /// <summary>The member's display name in this cell, encrypted under the cell key. Optional, opaque.</summary>
    public byte[]? SealedDisplayName { get; set; }
}

/// <summary>One signed entry of a cell's membership log, exactly as the signer sent it.</summary>
public sealed class MembershipLogRecord
{
    public Guid CellId { get; set; }

    public long Index { get; set; }

    public required byte[] Body { get; set; }

    public required byte[] Signature { get; set; }
}

/// <summary>
/// An open invite, stored under its lookup id (a keyed hash of the code; the code itself never
/// reaches the relay) with the organizer's signed grant and the cell key sealed under the code.
/// </summary>
public sealed class Invite
{
    public required byte[] LookupId { get; set; }

    public Guid CellId { get; set; }

    public required byte[] Grant { get; set; }

    public required byte[] GrantSignature { get; set; }

    public required byte[] SealedCellKey { get; set; }

    public long ExpiresAt { get; set; }

    public int UsesLeft { get; set; }
}

/// <summary>An invitee waiting for vouches. Gone when admitted or when the invite expires.</summary>
public sealed class AdmissionCandidate
{
    public required byte[] LookupId { get; set; }

    public Guid AccountId { get; set; }

    public Guid CellId { get; set; }

    public long ExpiresAt { get; set; }
}

/// <summary>A member's signature vouching for a candidate.</summary>
public sealed class VouchRecord
{
    public required byte[] LookupId { get; set; }

    public Guid AccountId { get; set; }

    public Guid VoucherAccountId { get; set; }

    public required byte[] Signature { get; set; }
}
