using Coordination.Protocol;
using Coordination.Server.InputLimits;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Relay;

/// <summary>A refusal with the HTTP status it maps to (the hub sends the detail as its error).</summary>
public sealed record RelayRefusal(int Status, string Detail);

/// <summary>
/// Send, acknowledge and fetch, shared by the REST endpoints and the hub so both enforce exactly
/// the same rules.
/// </summary>
public sealed class EnvelopeRelay(RelayWriter writer, ConversationDirectory conversations, RateLimits limits, TimeProvider clock)
{
    public async Task<(SendResult? Result, RelayRefusal? Refusal)> SendAsync(Guid accountId, Guid deviceId, SendEnvelope? envelope, string? connectionId, CancellationToken ct)
    {
        string? invalid = EnvelopeRules.Validate(envelope);
        if (invalid is not null)
        {
            return (null, new RelayRefusal(StatusCodes.Status400BadRequest, invalid));
        }

        if (!limits.TrySend(deviceId))
        {
            return (null, new RelayRefusal(StatusCodes.Status429TooManyRequests, "Too many sends from this device; slow down."));
        }

        ConversationDirectory.Entry? conversation = await conversations.ForParticipantAsync(envelope!.ConversationId, accountId, ct);
        if (conversation is null)
        {
            return (null, new RelayRefusal(StatusCodes.Status404NotFound, "No such conversation."));
        }

        RelayRefusal? refusal = CheckGroupRules(conversation, accountId, envelope.Ciphertext);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        SendResult result = await writer.SendAsync(envelope, EnvelopeRules.ExpiresAt(envelope, clock), connectionId).WaitAsync(ct);
        return (result, null);
    }

    /// <summary>
    /// In cells, groups and task threads the relay reads the first six bytes of an envelope (protocol section 6):
    /// version 0x01, then type 0x01 (pairwise) or 0x02 (group, followed by its epoch, big-endian).
    /// A group message for any epoch but the current one is refused, so a removed member's keys
    /// stop working the moment the new epoch is announced. Announcements are for organizers.
    /// </summary>
    private static RelayRefusal? CheckGroupRules(ConversationDirectory.Entry conversation, Guid accountId, byte[] ciphertext)
    {
        if (conversation.Writers is not null && !conversation.Writers.Contains(accountId))
        {
            return new RelayRefusal(StatusCodes.Status403Forbidden, "Only the cell's organizers post announcements.");
        }

        if (conversation.Kind is not (ConversationKind.Cell or ConversationKind.GrasGroup or ConversationKind.Announcements or ConversationKind.TaskThread))
        {
            return null;
        }

        if (ciphertext[0] != 0x01 || ciphertext[1] is not (0x01 or 0x02))
        {
            return new RelayRefusal(StatusCodes.Status400BadRequest, "In a cell or group, an envelope starts with version 0x01 and type 0x01 (pairwise) or 0x02 (group).");
        }

        if (ciphertext[1] == 0x02)
        {
            uint epoch = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ciphertext.AsSpan(2, 4));
            if (epoch != (uint)conversation.Epoch)
            {
                return new RelayRefusal(StatusCodes.Status409Conflict,
                    $"This group message is sealed for epoch {epoch}, but the conversation is at epoch {conversation.Epoch}: membership changed. Fetch the conversation, re-key and send again.");
            }
        }

        return null;
    }

    public async Task<RelayRefusal?> AckAsync(Guid deviceId, AckRequest? request, CancellationToken ct)
    {
        string? invalid = EnvelopeRules.Validate(request);
        if (invalid is not null)
        {
            return new RelayRefusal(StatusCodes.Status400BadRequest, invalid);
        }

        await writer.AckAsync(deviceId, request!.Acks).WaitAsync(ct);
        return null;
    }

    public static async Task<InboxPage> FetchAsync(CoordinationDbContext db, Guid deviceId, int limit, long now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        int take = Math.Clamp(limit <= 0 ? Limits.DefaultFetchPageSize : limit, 1, Limits.MaxFetchPageSize);
        List<EnvelopeDelivery> rows = await (
            from c in db.DeliveryCursors
            where c.DeviceId == deviceId
            join e in db.Envelopes on c.ConversationId equals e.ConversationId
            where e.Seq > c.AckedSeq && e.ExpiresAt > now
            orderby e.Seq
            select new EnvelopeDelivery(e.ConversationId, e.Seq, e.MessageId, e.Ciphertext, e.ExpiresAt))
            .AsNoTracking()
            .Take(take + 1)
            .ToListAsync(ct);
        bool more = rows.Count > take;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new InboxPage(rows, more);
    }
}
