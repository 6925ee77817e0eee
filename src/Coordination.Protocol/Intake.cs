namespace Coordination.Protocol;

/// <summary>
/// POST /api/v1/cells/{cellId}/intakes (organizers): open an intake. The X25519 key pair is made on
/// the organizer's device; the private half reaches the relay only sealed under the cell key, so
/// the cell's members (the intake team) can open reports and the relay cannot.
/// </summary>
/// <param name="PublicKey">X25519, 32 bytes: reports are sealed to it with crypto_box_seal.</param>
/// <param name="SealedPrivateKey">The private half, XChaCha20-Poly1305 under the cell key (protocol section 11).</param>
/// <param name="RetentionDays">How long reports and replies are kept (1 to 90).</param>
/// <param name="PowDifficulty">Leading zero bits the submission proof-of-work needs (8 to 28).</param>
public sealed record OpenIntakeRequest(byte[] PublicKey, byte[] SealedPrivateKey, int RetentionDays, int PowDifficulty);

/// <summary>An intake as its cell's members see it.</summary>
public sealed record IntakeInfo(Guid IntakeId, Guid CellId, byte[] PublicKey, byte[] SealedPrivateKey, int RetentionDays, int PowDifficulty);

/// <summary>GET /api/v1/intakes/{intakeId} (anonymous): what a reporter's client needs to seal and submit.</summary>
public sealed record PublicIntake(Guid IntakeId, byte[] PublicKey, int PowDifficulty, int RetentionDays, IReadOnlyList<string> Languages);

/// <summary>
/// POST /api/v1/intakes/{intakeId}/challenges (anonymous): a single-use proof-of-work challenge.
/// A solution is an unsigned 64-bit <c>counter</c> such that BLAKE2b-256(nonce || counter as 8
/// bytes big-endian) starts with <paramref name="Difficulty"/> zero bits.
/// </summary>
public sealed record PowChallenge(Guid ChallengeId, byte[] Nonce, int Difficulty, long ExpiresAt);

/// <summary>A solved challenge, sent with a submission.</summary>
public sealed record PowSolution(Guid ChallengeId, ulong Counter);

/// <summary>
/// POST /api/v1/intakes/{intakeId}/reports (anonymous): a report sealed in the reporter's client.
/// </summary>
/// <param name="SealedReport">crypto_box_seal of the padded report (protocol section 11) to the intake's public key.</param>
/// <param name="ReceiptLookupSecret">32 bytes derived from the receipt phrase; the relay stores only Argon2id of it under its pepper.</param>
public sealed record SealedReportRequest(PowSolution Pow, byte[] SealedReport, byte[] ReceiptLookupSecret);

/// <summary>The relay's answer to a submission: nothing but when it will be deleted.</summary>
public sealed record ReportAccepted(long ExpiresAt);

/// <summary>
/// POST /api/v1/intakes/{intakeId}/bridge (anonymous): a chat-bot bridge's plaintext answers; the
/// relay assembles and seals them on arrival (the plaintext exists only in memory for the request)
/// and answers with the receipt phrase it made, which is also inside the sealed report.
/// </summary>
public sealed record BridgeReportRequest(PowSolution Pow, string Flow, string Language, IReadOnlyDictionary<string, string> Answers);

/// <summary>The receipt phrase for the reporter (bot and bridge paths; the page makes its own).</summary>
public sealed record ReceiptIssued(string Receipt, long ExpiresAt);

/// <summary>POST /api/v1/intakes/{intakeId}/conversations (anonymous): start the bot conversation.</summary>
public sealed record StartConversationRequest(PowSolution Pow, string Flow, string Language);

/// <summary>POST /api/v1/intakes/{intakeId}/conversations/{conversationId}/answers: answer the current question.</summary>
/// <param name="Answer">The answer; for a choice, its value; null or empty skips an optional question.</param>
public sealed record ConversationAnswer(string? Answer);

/// <summary>One turn of the bot: the next question, or the end (with the receipt when a report was sealed).</summary>
/// <param name="Kind">text, date, choice or consent.</param>
/// <param name="Options">For a choice: value and label pairs.</param>
/// <param name="Receipt">Set on the last turn when the report was sealed; null if consent was refused (everything discarded).</param>
public sealed record BotTurn(
    Guid ConversationId,
    string? StepId,
    string? Question,
    string? Hint,
    string? Kind,
    bool Optional,
    IReadOnlyList<ChoiceOption>? Options,
    bool Done,
    string? Message,
    string? Receipt,
    long? ExpiresAt);

public sealed record ChoiceOption(string Value, string Label);

/// <summary>POST /api/v1/receipts/replies (anonymous): the reporter checks for replies with the lookup secret of their receipt.</summary>
public sealed record ReplyCheckRequest(byte[] ReceiptLookupSecret);

/// <summary>Replies to a report, each sealed under the key derived from its receipt.</summary>
public sealed record ReplyList(IReadOnlyList<SealedReply> Replies);

public sealed record SealedReply(Guid ReplyId, byte[] Sealed, long ExpiresAt);

/// <summary>A report in the intake team's inbox.</summary>
/// <param name="ReceivedOn">The day it arrived (Unix ms at 00:00 UTC): no finer timing is kept.</param>
/// <param name="State">The team's triage state.</param>
public sealed record InboxReport(Guid ReportId, Guid IntakeId, byte[] SealedReport, long ReceivedOn, long ExpiresAt, ReportState State, int Replies);

public enum ReportState
{
    New = 1,
    InProgress = 2,
    Closed = 3,
}

/// <summary>PATCH /api/v1/intake-reports/{reportId}: triage.</summary>
public sealed record TriageRequest(ReportState State);

/// <summary>POST /api/v1/intake-reports/{reportId}/replies: a reply sealed under the receipt-derived key.</summary>
public sealed record ReplyRequest(byte[] Sealed);
