using Coordination.Protocol;

namespace Coordination.Client.Cells;

/// <summary>What kind of tampering with a membership the SDK detected.</summary>
public enum MembershipAlertKind
{
    /// <summary>The relay lists a member (or a member's devices) that no valid log entry admitted: refused.</summary>
    GhostMember = 1,

    /// <summary>The log does not verify: a bad signature, a broken chain, an entry nobody was entitled to make.</summary>
    BrokenLog = 2,

    /// <summary>The log is shorter than, or diverges from, what this device verified before: entries were dropped or rewritten.</summary>
    RolledBackLog = 3,

    /// <summary>The log starts from another founding entry than the one this device knows the cell by.</summary>
    ForeignLog = 4,
}

/// <summary>A detected attempt by the relay (or whoever controls its database) to change a membership without a valid signature.</summary>
public sealed record MembershipAlert(Guid CellId, MembershipAlertKind Kind, string Detail, Guid? AccountId = null);

/// <summary>
/// Thrown when the membership of a cell cannot be trusted, so nothing is encrypted to it. The
/// <see cref="Alert"/> says what was found.
/// </summary>
public sealed class MembershipTamperingException : Exception
{
    public MembershipTamperingException()
    {
    }

    public MembershipTamperingException(string message)
        : base(message)
    {
    }

    public MembershipTamperingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MembershipTamperingException(MembershipAlert alert)
        : base(alert?.Detail)
    {
        Alert = alert;
    }

    public MembershipAlert? Alert { get; }
}

/// <summary>
/// Tells the messaging client whom it may encrypt to in a conversation: for cells and groups, the
/// accounts (with their keys) that the verified membership log lists.
/// </summary>
public interface IConversationTrust
{
    /// <summary>
    /// The accounts the conversation may include, each with its account public key; null when the
    /// conversation has no membership log to check (direct conversations), or when this device
    /// cannot read it (a newcomer reading announcements). Throws
    /// <see cref="MembershipTamperingException"/> when the log does not verify.
    /// </summary>
    Task<IReadOnlyDictionary<Guid, byte[]>?> TrustedAccountsAsync(ConversationInfo conversation, CancellationToken ct);

    /// <summary>The relay listed an account the log does not: it was left out.</summary>
    void ReportUntrusted(Guid conversationId, Guid accountId);
}
