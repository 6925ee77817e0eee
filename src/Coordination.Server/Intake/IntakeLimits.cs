using Coordination.Crypto;

namespace Coordination.Server.Intake;

/// <summary>Every bound the intake enforces on what reporters and the intake team send.</summary>
public static class IntakeLimits
{
    public const int PublicKeyBytes = X25519PublicKey.Size;

    /// <summary>nonce(24) || the 32-byte private key || tag(16).</summary>
    public const int SealedPrivateKeyBytes = XChaCha20Poly1305.NonceSize + X25519KeyPair.PrivateKeySize + XChaCha20Poly1305.TagSize;

    public const int MinRetentionDays = 1;
    public const int MaxRetentionDays = 90;
    public const int MinPowDifficulty = 8;
    public const int MaxPowDifficulty = 28;

    /// <summary>Report plaintext is padded (sodium_pad) to a multiple of this.</summary>
    public const int ReportBlockBytes = 1024;

    /// <summary>The largest padded report.</summary>
    public const int MaxPaddedReportBytes = 64 * 1024;

    public const int MinSealedReportBytes = ReportBlockBytes + SealedBox.Overhead;
    public const int MaxSealedReportBytes = MaxPaddedReportBytes + SealedBox.Overhead;

    /// <summary>Reply plaintext is padded to a multiple of this, then sealed as nonce || ciphertext || tag.</summary>
    public const int ReplyBlockBytes = 256;

    public const int MaxPaddedReplyBytes = 4096;
    public const int ReplyOverheadBytes = XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize;
    public const int MinSealedReplyBytes = ReplyBlockBytes + ReplyOverheadBytes;
    public const int MaxSealedReplyBytes = MaxPaddedReplyBytes + ReplyOverheadBytes;

    public const int LookupSecretBytes = 32;
    public const int LookupIdBytes = 32;
    public const int PowNonceBytes = 32;

    public const int MaxIntakesPerCell = 16;
    public const int MaxReportsPerIntake = 10_000;
    public const int MaxRepliesPerReport = 100;

    public const int MaxFlowKeyLength = 64;
    public const int MaxLanguageLength = 16;

    /// <summary>The longest answer to any one step (a text step's own maxLength is usually lower).</summary>
    public const int MaxAnswerLength = 20_000;

    /// <summary>A text step without a maxLength.</summary>
    public const int DefaultTextMaxLength = 4000;

    public static TimeSpan ChallengeLifetime { get; } = TimeSpan.FromMinutes(5);

    public static TimeSpan ConversationIdleTimeout { get; } = TimeSpan.FromMinutes(15);

    /// <summary>A sealed report's length is a whole number of blocks plus the sealed box overhead.</summary>
    public static bool IsSealedReportLength(int length) =>
        length is >= MinSealedReportBytes and <= MaxSealedReportBytes && (length - SealedBox.Overhead) % ReportBlockBytes == 0;

    /// <summary>A sealed reply's length is a whole number of blocks plus the nonce and tag.</summary>
    public static bool IsSealedReplyLength(int length) =>
        length is >= MinSealedReplyBytes and <= MaxSealedReplyBytes && (length - ReplyOverheadBytes) % ReplyBlockBytes == 0;
}

/// <summary>Intake settings (section <c>Intake</c>).</summary>
public sealed class IntakeOptions
{
    /// <summary>
    /// The flows document. Relative paths are resolved against the content root. Default: the
    /// copy of seeds/intake-flows.json next to the server binary.
    /// </summary>
    public string? FlowsPath { get; set; }

    /// <summary>
    /// 32 random bytes in base64 that salt receipt lookups. When unset, the relay keeps them in
    /// {Storage:DataDirectory}/intake-pepper.key, created (0600) at first start. Never in the database.
    /// </summary>
    public string? Pepper { get; set; }

    /// <summary>Solved proof-of-work challenges remembered at most per intake (to refuse their reuse until they expire).</summary>
    public int MaxChallenges { get; set; } = 10_000;

    /// <summary>Bot conversations held in memory at most.</summary>
    public int MaxConversations { get; set; } = 10_000;

    /// <summary>Argon2id receipt lookups computed at the same time at most (each takes 64 MiB); default the processor count, at most 4.</summary>
    public int MaxConcurrentLookups { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    public IntakeOptions Validate()
    {
        if (MaxChallenges < 1 || MaxConversations < 1 || MaxConcurrentLookups < 1)
        {
            throw new InvalidOperationException("Intake:MaxChallenges, Intake:MaxConversations and Intake:MaxConcurrentLookups must be at least 1.");
        }

        return this;
    }
}
