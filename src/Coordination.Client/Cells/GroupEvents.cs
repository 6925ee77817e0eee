using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Cells;

/// <summary>What an event is: where, when and about what. Sealed under the group's cell key before it leaves the device.</summary>
public sealed record EventDetails(string Place, DateTimeOffset StartsAt, string Topic);

/// <summary>How the members answered, counting only the answers this device could open.</summary>
/// <param name="Unreadable">Answers that did not open with this device's cell key (tampered with, moved, or sealed under another key).</param>
public sealed record RsvpTally(int Going, int Maybe, int No, int Unreadable);

/// <summary>An event as this device sees it.</summary>
/// <param name="Details">Null when the details do not open with this device's key for the group.</param>
/// <param name="CreatedByMe">The relay says this account's membership created it (the details themselves are not signed).</param>
/// <param name="MyAnswer">This account's own answer, if it gave one and it opens.</param>
public sealed record GroupEventView(
    Guid CellId,
    Guid EventId,
    EventDetails? Details,
    bool Cancelled,
    Guid CreatorMembershipId,
    bool CreatedByMe,
    RsvpTally Tally,
    RsvpAnswer? MyAnswer);

/// <summary>
/// Events in GRAS groups for one device (protocol section 9). The place, time and topic of an
/// event, and every member's answer to it, are sealed under the group's cell key (XChaCha20-Poly1305,
/// padded, bound to the group, the event and for an answer the membership), so the relay stores
/// only ciphertext and learns no more than that an event exists and which memberships answered.
/// The cell key comes from the device's <see cref="CellKeyring"/> in the same local store the
/// <see cref="CellClient"/> that created or joined the group uses.
/// </summary>
public sealed class GroupEventClient
{
    /// <summary>The associated data of sealed details: this label, then the cell id and the event id.</summary>
    public const string DetailsLabel = "coordination/v1/event";

    /// <summary>The associated data of a sealed answer: this label, then the cell id, the event id and the membership id.</summary>
    public const string AnswerLabel = "coordination/v1/event-rsvp";

    /// <summary>Details are padded to a multiple of this many bytes before sealing, so their length shows only coarsely.</summary>
    public const int DetailsBlockBytes = 1024;

    /// <summary>An answer (one byte) is padded to exactly this many bytes.</summary>
    public const int AnswerBlockBytes = 16;

    private const int Overhead = XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly RelayApi _api;
    private readonly LocalMessageStore _store;

    public GroupEventClient(RelayApi api, LocalMessageStore store)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(store);
        _api = api;
        _store = store;
    }

    /// <summary>The most UTF-8 bytes the details' JSON may take (3,071: three blocks less the padding marker).</summary>
    public static int MaxDetailsJsonBytes => ((Limits.MaxSealedEventBytes - Overhead) / DetailsBlockBytes * DetailsBlockBytes) - 1;

    /// <summary>Creates an event in the group; its details are sealed on this device.</summary>
    public async Task<GroupEventView> CreateAsync(Guid cellId, EventDetails details, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(details);
        ArgumentException.ThrowIfNullOrWhiteSpace(details.Place);
        ArgumentException.ThrowIfNullOrWhiteSpace(details.Topic);
        byte[] key = CellKey(cellId);
        EventDetails normalized = new(details.Place.Trim(), DateTimeOffset.FromUnixTimeMilliseconds(details.StartsAt.ToUnixTimeMilliseconds()), details.Topic.Trim());
        Guid eventId = Guid.NewGuid();
        GroupEventInfo info = await _api.CreateEventAsync(cellId, new CreateEventRequest(eventId, SealDetails(key, cellId, eventId, normalized)), ct);
        return new GroupEventView(cellId, info.EventId, normalized, info.Cancelled, info.CreatorMembershipId, CreatedByMe: true, new RsvpTally(0, 0, 0, 0), null);
    }

    /// <summary>
    /// The group's events, soonest first (events whose details do not open come last), each with
    /// the answers this device could open counted and this account's own answer.
    /// </summary>
    public async Task<List<GroupEventView>> ListAsync(Guid cellId, CancellationToken ct)
    {
        List<GroupEventInfo> events = await _api.ListEventsAsync(cellId, ct);
        Guid me = (await _api.GetCellAsync(cellId, ct)).Membership.MembershipId;
        byte[]? key = new CellKeyring(_store).Get(cellId)?.CellKey;
        List<GroupEventView> views = [];
        foreach (GroupEventInfo info in events)
        {
            int going = 0, maybe = 0, no = 0, unreadable = 0;
            RsvpAnswer? mine = null;
            foreach (EventRsvpInfo rsvp in info.Rsvps)
            {
                RsvpAnswer? answer = key is null ? null : OpenAnswer(key, cellId, info.EventId, rsvp.MembershipId, rsvp.SealedAnswer);
                switch (answer)
                {
                    case RsvpAnswer.Going:
                        going++;
                        break;
                    case RsvpAnswer.Maybe:
                        maybe++;
                        break;
                    case RsvpAnswer.No:
                        no++;
                        break;
                    default:
                        unreadable++;
                        break;
                }

                if (rsvp.MembershipId == me)
                {
                    mine = answer;
                }
            }

            EventDetails? details = key is null ? null : OpenDetails(key, cellId, info.EventId, info.SealedDetails);
            views.Add(new GroupEventView(cellId, info.EventId, details, info.Cancelled, info.CreatorMembershipId, info.CreatorMembershipId == me,
                new RsvpTally(going, maybe, no, unreadable), mine));
        }

        return [.. views.OrderBy(v => v.Details is null).ThenBy(v => v.Details?.StartsAt).ThenBy(v => v.EventId)];
    }

    /// <summary>Answers an event (going, maybe or no), replacing this account's earlier answer.</summary>
    public async Task RsvpAsync(Guid cellId, Guid eventId, RsvpAnswer answer, CancellationToken ct)
    {
        if (!Enum.IsDefined(answer))
        {
            throw new ArgumentOutOfRangeException(nameof(answer), answer, "The answer is going, maybe or no.");
        }

        byte[] key = CellKey(cellId);
        Guid me = (await _api.GetCellAsync(cellId, ct)).Membership.MembershipId;
        await _api.AnswerEventAsync(cellId, eventId, new RsvpRequest(SealAnswer(key, cellId, eventId, me, answer)), ct);
    }

    /// <summary>Cancels an event this account created, or any event of a group it organizes.</summary>
    public Task CancelAsync(Guid cellId, Guid eventId, CancellationToken ct) => _api.CancelEventAsync(cellId, eventId, ct);

    /// <summary>
    /// The sealed details: nonce (24) || AEAD(cell key, nonce, pad(JSON, 1024-byte blocks), ad =
    /// "coordination/v1/event" || cell id || event id). Throws when they would not fit the relay's bound.
    /// </summary>
    public static byte[] SealDetails(byte[] cellKey, Guid cellId, Guid eventId, EventDetails details)
    {
        ArgumentNullException.ThrowIfNull(details);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new DetailsJson(details.Place, details.StartsAt.ToUnixTimeMilliseconds(), details.Topic), s_json);
        if (json.Length > MaxDetailsJsonBytes)
        {
            throw new ArgumentException($"The event's place and topic are too long: {json.Length} bytes encoded, at most {MaxDetailsJsonBytes} fit.", nameof(details));
        }

        return Seal(cellKey, Padding.Pad(json, DetailsBlockBytes), DetailsAd(cellId, eventId));
    }

    /// <summary>The details, or null if they do not open with <paramref name="cellKey"/> for this group and event, or are malformed.</summary>
    public static EventDetails? OpenDetails(byte[] cellKey, Guid cellId, Guid eventId, byte[] sealedDetails)
    {
        ArgumentNullException.ThrowIfNull(sealedDetails);
        byte[]? padded = Open(cellKey, sealedDetails, DetailsAd(cellId, eventId));
        if (padded is null || !Padding.TryUnpad(padded, DetailsBlockBytes, out int length))
        {
            return null;
        }

        try
        {
            DetailsJson? json = JsonSerializer.Deserialize<DetailsJson>(padded.AsSpan(0, length), s_json);
            return json is { Place: { } place, Topic: { } topic } ? new EventDetails(place, DateTimeOffset.FromUnixTimeMilliseconds(json.StartsAt), topic) : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// A sealed answer: nonce (24) || AEAD(cell key, nonce, pad(answer (u8), 16), ad =
    /// "coordination/v1/event-rsvp" || cell id || event id || membership id): 56 bytes.
    /// </summary>
    public static byte[] SealAnswer(byte[] cellKey, Guid cellId, Guid eventId, Guid membershipId, RsvpAnswer answer) =>
        Seal(cellKey, Padding.Pad([(byte)answer], AnswerBlockBytes), AnswerAd(cellId, eventId, membershipId));

    /// <summary>The answer, or null if it does not open for this group, event and membership, or is not one of the three.</summary>
    public static RsvpAnswer? OpenAnswer(byte[] cellKey, Guid cellId, Guid eventId, Guid membershipId, byte[] sealedAnswer)
    {
        ArgumentNullException.ThrowIfNull(sealedAnswer);
        byte[]? padded = Open(cellKey, sealedAnswer, AnswerAd(cellId, eventId, membershipId));
        return padded is not null && Padding.TryUnpad(padded, AnswerBlockBytes, out int length) && length == 1 && Enum.IsDefined((RsvpAnswer)padded[0])
            ? (RsvpAnswer)padded[0]
            : null;
    }

    private byte[] CellKey(Guid cellId) =>
        new CellKeyring(_store).Get(cellId)?.CellKey ?? throw new InvalidOperationException($"This device does not hold the key of group {cellId}: join it with an invite first.");

    private static byte[] DetailsAd(Guid cellId, Guid eventId) =>
        [.. Encoding.ASCII.GetBytes(DetailsLabel), .. cellId.ToByteArray(bigEndian: true), .. eventId.ToByteArray(bigEndian: true)];

    private static byte[] AnswerAd(Guid cellId, Guid eventId, Guid membershipId) =>
        [.. Encoding.ASCII.GetBytes(AnswerLabel), .. cellId.ToByteArray(bigEndian: true), .. eventId.ToByteArray(bigEndian: true), .. membershipId.ToByteArray(bigEndian: true)];

    private static byte[] Seal(byte[] key, byte[] plaintext, byte[] ad)
    {
        ArgumentNullException.ThrowIfNull(key);
        using SecretKey secret = SecretKey.Import(key);
        byte[] nonce = SecureRandom.Nonce();
        return [.. nonce, .. XChaCha20Poly1305.Encrypt(secret, nonce, plaintext, ad)];
    }

    private static byte[]? Open(byte[] key, byte[] sealedBytes, byte[] ad)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (sealedBytes.Length < Overhead)
        {
            return null;
        }

        using SecretKey secret = SecretKey.Import(key);
        return XChaCha20Poly1305.TryDecrypt(secret, sealedBytes.AsSpan(0, XChaCha20Poly1305.NonceSize), sealedBytes.AsSpan(XChaCha20Poly1305.NonceSize), ad, out byte[]? plaintext)
            ? plaintext
            : null;
    }

    /// <summary>The sealed JSON: <c>{"place":"...","startsAt":1764605400000,"topic":"..."}</c>.</summary>
    private sealed record DetailsJson(string? Place, long StartsAt, string? Topic);
}
