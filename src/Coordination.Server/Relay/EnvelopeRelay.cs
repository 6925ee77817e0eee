using Coordination.Protocol;
using Coordination.Server.InputLimits;
using Coordination.Server.Operations;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Relay;

/// <summary>
/// A refusal with the HTTP status it maps to (the hub sends the detail as its error) and a fixed,
/// low-cardinality word for what was refused, used as the metrics label.
/// </summary>
public sealed record RelayRefusal(int Status, string Detail, string Kind);

/// <summary>
/// Send, acknowledge and fetch, shared by the REST endpoints and the hub so both enforce exactly
/// the same rules.
/// </summary>
public sealed class EnvelopeRelay(RelayWriter writer, ConversationDirectory conversations, RateLimits limits, TimeProvider clock, RelayMetrics metrics)
{
    /// <summary>Sends over the hub carry the sender's connection id; REST sends have none.</summary>
    public async Task<(SendResult? Result, RelayRefusal? Refusal)> SendAsync(Guid accountId, Guid deviceId, SendEnvelope? envelope, string? connectionId, CancellationToken ct)
    {
        string transport = connectionId is null ? RelayMetrics.Rest : RelayMetrics.Hub;
        string? invalid = EnvelopeRules.Validate(envelope);
        if (invalid is not null)
        {
            return Refuse(transport, new RelayRefusal(StatusCodes.Status400BadRequest, invalid, EnvelopeRules.KindOf(envelope)));
        }

        if (!limits.TrySend(deviceId))
        {
            return Refuse(transport, new RelayRefusal(StatusCodes.Status429TooManyRequests, "Too many sends from this device; slow down.", "rate_limited"));
        }

        ConversationDirectory.Entry? conversation = await conversations.ForParticipantAsync(envelope!.ConversationId, accountId, ct);
        if (conversation is null)
        {
            return Refuse(transport, new RelayRefusal(StatusCodes.Status404NotFound, "No such conversation.", "no_conversation"));
        }

        RelayRefusal? refusal = CheckGroupRules(conversation, accountId, envelope.Ciphertext);
        if (refusal is not null)
        {
            return Refuse(transport, refusal);
        }

        SendResult result = await writer.SendAsync(envelope, EnvelopeRules.ExpiresAt(envelope, clock), connectionId).WaitAsync(ct);
        metrics.SendStored(transport, result.Duplicate);
        return (result, null);
    }

    private (SendResult? Result, RelayRefusal? Refusal) Refuse(string transport, RelayRefusal refusal)
    {
        metrics.SendRefused(transport, refusal.Kind);
        return (null, refusal);
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
            return new RelayRefusal(StatusCodes.Status403Forbidden, "Only the cell's organizers post announcements.", "not_writer");
        }

        if (conversation.Kind is not (ConversationKind.Cell or ConversationKind.GrasGroup or ConversationKind.Announcements or ConversationKind.TaskThread))
        {
            return null;
        }

        if (ciphertext[0] != 0x01 || ciphertext[1] is not (0x01 or 0x02))
        {
            return new RelayRefusal(StatusCodes.Status400BadRequest, "In a cell or group, an envelope starts with version 0x01 and type 0x01 (pairwise) or 0x02 (group).", "group_header");
        }

        if (ciphertext[1] == 0x02)
        {
            uint epoch = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ciphertext.AsSpan(2, 4));
            if (epoch != (uint)conversation.Epoch)
            {
                return new RelayRefusal(StatusCodes.Status409Conflict,
                    $"This group message is sealed for epoch {epoch}, but the conversation is at epoch {conversation.Epoch}: membership changed. Fetch the conversation, re-key and send again.", "stale_epoch");
            }
        }

        return null;
    }

    public async Task<RelayRefusal?> AckAsync(Guid deviceId, AckRequest? request, CancellationToken ct)
    {
        string? invalid = EnvelopeRules.Validate(request);
        if (invalid is not null)
        {
            metrics.AckRefused();
            return new RelayRefusal(StatusCodes.Status400BadRequest, invalid, "invalid_ack");
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
