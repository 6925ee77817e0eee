namespace Coordination.Protocol;

/// <summary>
/// POST /api/v1/cells/{cellId}/events: a new event in a GRAS group. The id is chosen by the client,
/// because the sealed details are bound to it; the place, time and topic arrive sealed under the
/// cell key (protocol section 9), so the relay learns only that the group has one more event.
/// </summary>
/// <param name="EventId">A random UUID.</param>
/// <param name="SealedDetails">nonce (24) || AEAD(cell key, nonce, padded details, ad); 1 to <see cref="Limits.MaxSealedEventBytes"/> bytes.</param>
public sealed record CreateEventRequest(Guid EventId, byte[] SealedDetails);

/// <summary>An event as the members of its group see it: ciphertext, who created it, and the answers given so far.</summary>
/// <param name="CreatorMembershipId">The membership that created it (the relay's record; the details are not signed).</param>
/// <param name="Cancelled">Cancelled by its creator or an organizer; a cancelled event keeps its details and has no answers.</param>
/// <param name="Rsvps">One sealed answer per membership that answered.</param>
public sealed record GroupEventInfo(Guid EventId, Guid CreatorMembershipId, byte[] SealedDetails, bool Cancelled, IReadOnlyList<EventRsvpInfo> Rsvps);

/// <summary>One membership's answer to an event, sealed under the cell key; the relay knows only that it answered.</summary>
public sealed record EventRsvpInfo(Guid MembershipId, byte[] SealedAnswer);

/// <summary>POST /api/v1/cells/{cellId}/events/{eventId}/rsvps: the caller's answer, replacing any earlier one.</summary>
/// <param name="SealedAnswer">nonce (24) || AEAD(cell key, nonce, padded answer, ad); 1 to <see cref="EventLimits.MaxSealedRsvpBytes"/> bytes.</param>
public sealed record RsvpRequest(byte[] SealedAnswer);

/// <summary>An answer to an event: the first byte of the sealed RSVP plaintext. The relay never sees it.</summary>
public enum RsvpAnswer : byte
{
    Going = 1,
    Maybe = 2,
    No = 3,
}

/// <summary>Bounds on events, in addition to <see cref="Limits.MaxSealedEventBytes"/> for the sealed details.</summary>
public static class EventLimits
{
    /// <summary>
    /// Largest sealed RSVP. A client seals one padded byte (56 bytes in all); the bound keeps a
    /// group's event list small however many members answer.
    /// </summary>
    public const int MaxSealedRsvpBytes = 256;

    /// <summary>Events one group may hold, cancelled ones included; they go when the group goes.</summary>
    public const int MaxEventsPerGroup = 200;
}
