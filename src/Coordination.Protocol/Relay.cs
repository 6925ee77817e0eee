namespace Coordination.Protocol;

public enum ConversationKind
{
    Direct = 1,
    Cell = 2,
    GrasGroup = 3,
    TaskThread = 4,

    /// <summary>A cell's announcements: organizers write, every member (newcomers too) reads.</summary>
    Announcements = 5,
}

/// <summary>POST /api/v1/conversations/direct: the direct conversation with another account (created once).</summary>
public sealed record OpenDirectConversationRequest(Guid PeerAccountId);

public sealed record ConversationInfo(Guid ConversationId, ConversationKind Kind, int Epoch, IReadOnlyList<Guid> Participants);

/// <summary>A recipient device of a conversation, with the keys to encrypt to it.</summary>
public sealed record RecipientDevice(Guid AccountId, byte[] AccountPublicKey, DeviceInfo Device);

/// <summary>
/// A message to store and forward. <paramref name="Ciphertext"/> is opaque and exactly one of
/// <see cref="Limits.EnvelopeBuckets"/> long. <paramref name="MessageId"/> is chosen by the client; a
/// retry with the same id returns the first result.
/// </summary>
public sealed record SendEnvelope(Guid ConversationId, Guid MessageId, byte[] Ciphertext, int? TtlSeconds = null);

/// <summary>The durable acknowledgement of a send.</summary>
/// <param name="MessageId">The client's message id.</param>
/// <param name="ExpiresAt">When the relay deletes it at the latest (Unix milliseconds).</param>
/// <param name="Seq">Position in the relay's order; increases with every stored envelope.</param>
/// <param name="Duplicate">True when this was a retry of a message already stored.</param>
public sealed record SendResult(Guid MessageId, long Seq, long ExpiresAt, bool Duplicate);

/// <summary>An envelope as delivered to a recipient device (live or fetched). The sender is not part of it.</summary>
public sealed record EnvelopeDelivery(Guid ConversationId, long Seq, Guid MessageId, byte[] Ciphertext, long ExpiresAt);

/// <summary>A page of what a device has not acknowledged yet, in <c>Seq</c> order.</summary>
public sealed record InboxPage(IReadOnlyList<EnvelopeDelivery> Envelopes, bool More);

/// <summary>Everything up to and including <paramref name="Seq"/> in the conversation is processed on this device.</summary>
public sealed record Ack(Guid ConversationId, long Seq);

public sealed record AckRequest(IReadOnlyList<Ack> Acks);
