using Coordination.Protocol;

namespace Coordination.Server.Persistence;

/// <summary>An account: nothing but a random id and an Ed25519 public key. No phone, e-mail or name.</summary>
public sealed class Account
{
    public Guid Id { get; set; }

    /// <summary>Ed25519 public key (32 bytes). Public.</summary>
    public required byte[] PublicKey { get; set; }
}

/// <summary>A device of an account, with its public keys and the account's signature over them.</summary>
public sealed class Device
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>Ed25519 (32 bytes): verifies login signatures. Public.</summary>
    public required byte[] SigningPublicKey { get; set; }

    /// <summary>X25519 (32 bytes): what other devices encrypt to. Public.</summary>
    public required byte[] AgreementPublicKey { get; set; }

    /// <summary>The account key's Ed25519 signature over the device statement (64 bytes). Public.</summary>
    public required byte[] AccountSignature { get; set; }

    /// <summary>A revoked device can never log in again; its sessions and delivery cursors are gone.</summary>
    public bool Revoked { get; set; }
}

/// <summary>A one-time device link offer. The code itself never reaches the server.</summary>
public sealed class LinkCode
{
    /// <summary>32 bytes derived from the code by the client.</summary>
    public required byte[] LookupId { get; set; }

    public Guid AccountId { get; set; }

    /// <summary>Ciphertext under a key derived from the code. Opaque to the server.</summary>
    public required byte[] Payload { get; set; }

    /// <summary>Unix milliseconds.</summary>
    public long ExpiresAt { get; set; }
}

/// <summary>A login session. Only the BLAKE2b-256 hash of the bearer token is stored.</summary>
public sealed class Session
{
    public required byte[] TokenHash { get; set; }

    public Guid DeviceId { get; set; }

    /// <summary>Unix milliseconds.</summary>
    public long ExpiresAt { get; set; }
}

/// <summary>A relay conversation: a direct pair now; cells, GRAS groups and task threads later.</summary>
public sealed class Conversation
{
    public Guid Id { get; set; }

    public ConversationKind Kind { get; set; }

    /// <summary>Group key epoch; advances when someone leaves. Direct conversations stay at 0.</summary>
    public int Epoch { get; set; }

    /// <summary>For direct pairs: BLAKE2b of the two sorted account ids, so a pair has one conversation.</summary>
    public byte[]? DirectPairKey { get; set; }
}

/// <summary>An account taking part in a conversation.</summary>
public sealed class ConversationParticipant
{
    public Guid ConversationId { get; set; }

    public Guid AccountId { get; set; }
}

/// <summary>
/// A stored envelope, kept once however many devices receive it. The sender is not stored.
/// </summary>
public sealed class Envelope
{
    /// <summary>Relay order; AUTOINCREMENT so a number is never reused after deletion.</summary>
    public long Seq { get; set; }

    public Guid ConversationId { get; set; }

    public Guid MessageId { get; set; }

    /// <summary>End-to-end ciphertext, padded to a size bucket. Opaque to the server.</summary>
    public required byte[] Ciphertext { get; set; }

    /// <summary>Unix milliseconds; deleted then at the latest.</summary>
    public long ExpiresAt { get; set; }
}

/// <summary>
/// Remembers a (conversation, message id) for a day so that a retried send returns the first result
/// even after the envelope itself was delivered and deleted.
/// </summary>
public sealed class SendReceipt
{
    public Guid ConversationId { get; set; }

    public Guid MessageId { get; set; }

    public long Seq { get; set; }

    public long EnvelopeExpiresAt { get; set; }

    /// <summary>Unix milliseconds; the receipt is forgotten then.</summary>
    public long ExpiresAt { get; set; }
}

/// <summary>How far a device has acknowledged a conversation (cumulative).</summary>
public sealed class DeliveryCursor
{
    public Guid DeviceId { get; set; }

    public Guid ConversationId { get; set; }

    public long AckedSeq { get; set; }
}
