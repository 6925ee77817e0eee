using Coordination.Protocol;

namespace Coordination.Server.Intake;

/// <summary>
/// An open intake of a cell (table <c>Intakes</c>): the X25519 public key reporters seal to, and
/// the private half sealed under the cell key, which the relay cannot open. It goes with its cell.
/// </summary>
public sealed class CellIntake
{
    public Guid Id { get; set; }

    public Guid CellId { get; set; }

    /// <summary>X25519, 32 bytes.</summary>
    public required byte[] PublicKey { get; set; }

    /// <summary>nonce(24) || XChaCha20-Poly1305 under the cell key of the 32-byte private key. Opaque to the relay.</summary>
    public required byte[] SealedPrivateKey { get; set; }

    public int RetentionDays { get; set; }

    public int PowDifficulty { get; set; }
}

/// <summary>
/// A report: only the sealed box, the Argon2id lookup id of its receipt, the day it arrived and
/// when it goes. The flow, the language and every answer are inside the sealed box.
/// </summary>
public sealed class IntakeReport
{
    public Guid Id { get; set; }

    public Guid IntakeId { get; set; }

    /// <summary>crypto_box_seal to the intake's public key of the padded report. Opaque to the relay.</summary>
    public required byte[] SealedReport { get; set; }

    /// <summary>Argon2id of the receipt's lookup secret under the relay's pepper (32 bytes).</summary>
    public required byte[] ReceiptLookupId { get; set; }

    /// <summary>The day it arrived: Unix ms at 00:00 UTC. No finer time is kept.</summary>
    public long ReceivedOn { get; set; }

    /// <summary>When the sweep deletes it (Unix ms; a day boundary, so it says no more than <see cref="ReceivedOn"/>).</summary>
    public long ExpiresAt { get; set; }

    public ReportState State { get; set; }
}

/// <summary>A reply of the intake team, sealed under the key derived from the report's receipt. It goes with its report.</summary>
public sealed class IntakeReply
{
    public Guid Id { get; set; }

    public Guid ReportId { get; set; }

    /// <summary>nonce(24) || XChaCha20-Poly1305 under ReceiptPhrase.ReplyKey. Opaque to the relay.</summary>
    public required byte[] Sealed { get; set; }

    /// <summary>The report's expiry: a reply never outlives its report.</summary>
    public long ExpiresAt { get; set; }
}
