using System.Globalization;
using Coordination.Protocol;

namespace Coordination.Server.Relay;

/// <summary>Checks the shape of an envelope; the content is never looked at.</summary>
public static class EnvelopeRules
{
    /// <summary>Null when the envelope is acceptable, else what is wrong with it.</summary>
    public static string? Validate(SendEnvelope? envelope)
    {
        if (envelope is null)
        {
            return "The envelope is missing.";
        }

        if (envelope.ConversationId == Guid.Empty)
        {
            return "conversationId is required.";
        }

        if (envelope.MessageId == Guid.Empty)
        {
            return "messageId is required.";
        }

        if (envelope.Ciphertext is null || !Limits.IsEnvelopeBucket(envelope.Ciphertext.Length))
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"ciphertext must be padded to exactly one of {string.Join(", ", Limits.EnvelopeBuckets)} bytes; got {envelope.Ciphertext?.Length ?? 0}.");
        }

        if (envelope.TtlSeconds is { } ttl && (ttl < Limits.MinEnvelopeTtl.TotalSeconds || ttl > Limits.MaxEnvelopeTtl.TotalSeconds))
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"ttlSeconds must be between {Limits.MinEnvelopeTtl.TotalSeconds} and {Limits.MaxEnvelopeTtl.TotalSeconds}.");
        }

        return null;
    }

    /// <summary>
    /// What <see cref="Validate(SendEnvelope?)"/> refused, as a fixed word for the metrics label
    /// (missing, missing_id, envelope_size, ttl); only called for a refused envelope.
    /// </summary>
    public static string KindOf(SendEnvelope? envelope) =>
        envelope is null ? "missing"
        : envelope.ConversationId == Guid.Empty || envelope.MessageId == Guid.Empty ? "missing_id"
        : envelope.Ciphertext is null || !Limits.IsEnvelopeBucket(envelope.Ciphertext.Length) ? "envelope_size"
        : "ttl";

    public static long ExpiresAt(SendEnvelope envelope, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(clock);
        TimeSpan ttl = envelope.TtlSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : Limits.DefaultEnvelopeTtl;
        return clock.GetUtcNow().Add(ttl).ToUnixTimeMilliseconds();
    }

    public static string? Validate(AckRequest? request)
    {
        if (request?.Acks is null || request.Acks.Count == 0)
        {
            return "acks must list at least one acknowledgement.";
        }

        if (request.Acks.Count > Limits.MaxAcksPerRequest)
        {
            return string.Create(CultureInfo.InvariantCulture, $"at most {Limits.MaxAcksPerRequest} acks per request.");
        }

        foreach (Ack ack in request.Acks)
        {
            if (ack is null || ack.ConversationId == Guid.Empty || ack.Seq < 0)
            {
                return "every ack needs a conversationId and a seq of 0 or more.";
            }
        }

        return null;
    }
}
