namespace Coordination.Protocol;

/// <summary>
/// POST /api/v1/cells: a new cell (or GRAS group) with its founding log entry. The id is chosen by
/// the client (it is inside the signed entry). Names and descriptions arrive sealed under the cell key.
/// </summary>
/// <param name="Kind"><see cref="ConversationKind.Cell"/> or <see cref="ConversationKind.GrasGroup"/>.</param>
/// <param name="Genesis">Entry 0 (<see cref="MembershipAction.Create"/>), signed by the founder's account key.</param>
/// <param name="SealedProfile">The name and description, encrypted under the cell key.</param>
/// <param name="SealedDisplayName">The founder's display name in this cell, encrypted under the cell key (optional).</param>
/// <param name="EndsAt">GRAS groups only: when the relay deletes the group, its messages and events (Unix milliseconds).</param>
public sealed record CreateCellRequest(
    Guid CellId,
    ConversationKind Kind,
    SignedMembershipEntry Genesis,
    byte[] SealedProfile,
    byte[]? SealedDisplayName = null,
    long? EndsAt = null);

/// <summary>A cell as one of its members sees it.</summary>
/// <param name="AnnouncementsId">Cells only: the conversation where organizers post and newcomers read.</param>
/// <param name="Epoch">Advances with every membership change; group messages must carry the current one.</param>
/// <param name="LogLength">Entries in the membership log.</param>
/// <param name="LogHead">The hash of the last entry.</param>
public sealed record CellInfo(
    Guid CellId,
    ConversationKind Kind,
    Guid? AnnouncementsId,
    int Epoch,
    long LogLength,
    byte[] LogHead,
    byte[] SealedProfile,
    long? EndsAt,
    CellMembershipInfo Membership);

/// <summary>The caller's own membership.</summary>
public sealed record CellMembershipInfo(Guid MembershipId, MemberRole Role, RiskLevel Ceiling);

/// <summary>One member as the roster lists them (members and organizers only).</summary>
public sealed record CellMemberInfo(Guid MembershipId, Guid AccountId, MemberRole Role, RiskLevel Ceiling, byte[]? SealedDisplayName);

/// <summary>A page of the membership log, from <paramref name="From"/>.</summary>
public sealed record MembershipLogPage(long From, IReadOnlyList<SignedMembershipEntry> Entries, bool More);

/// <summary>POST /api/v1/cells/{cellId}/log: append a signed entry (role, ceiling, removal, leaving, burn).</summary>
public sealed record AppendEntryRequest(SignedMembershipEntry Entry);

/// <summary>The log after an append.</summary>
public sealed record AppendEntryResponse(long LogLength, byte[] LogHead, int Epoch);

/// <summary>
/// POST /api/v1/cells/{cellId}/invites: an organizer offers an invite. The relay stores the grant
/// under its lookup id (derived from the code, which it never sees).
/// </summary>
/// <param name="Grant">The encoded <see cref="InviteGrant"/>.</param>
/// <param name="GrantSignature">The issuer's account signature over <paramref name="Grant"/>.</param>
/// <param name="SealedCellKey">The cell key, encrypted under a key derived from the invite code.</param>
public sealed record CreateInviteRequest(byte[] Grant, byte[] GrantSignature, byte[] SealedCellKey);

/// <summary>GET /api/v1/invites/{lookupId}: what an invitee needs to join, and the vouches gathered so far for them.</summary>
public sealed record InviteOffer(
    Guid CellId,
    ConversationKind Kind,
    byte[] Grant,
    byte[] GrantSignature,
    byte[] SealedCellKey,
    byte[] SealedProfile,
    long LogLength,
    byte[] LogHead,
    IReadOnlyList<Vouch> Vouches);

/// <summary>POST /api/v1/invites/{lookupId}/admission: the invitee's signed Admit entry (with the vouches it needs).</summary>
public sealed record AdmissionRequest(SignedMembershipEntry Entry, byte[]? SealedDisplayName = null);

/// <summary>An invitee waiting for vouches, as members of the cell see them.</summary>
public sealed record PendingAdmission(Guid AccountId, byte[] AccountPublicKey, byte[] LookupId, int RequiredVouches, int Vouches);

/// <summary>POST /api/v1/cells/{cellId}/admissions/{accountId}/vouches: a member's signature over the vouch statement.</summary>
public sealed record VouchRequest(byte[] LookupId, byte[] Signature);

/// <summary>PUT /api/v1/cells/{cellId}/members/me/display-name: the caller's display name, sealed under the cell key.</summary>
public sealed record DisplayNameRequest(byte[] SealedDisplayName);
