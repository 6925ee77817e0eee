using Coordination.Client.Api;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Client.Intake;

/// <summary>What a reporter keeps after a submission: the receipt phrase, and when the report will be deleted.</summary>
public sealed record SubmittedReport(string Receipt, DateTimeOffset ExpiresAt);

/// <summary>A reply of the intake team as the reporter reads it; <see cref="Failure"/> says why one did not open.</summary>
public sealed record ReceivedReply(Guid ReplyId, string? Text, DateOnly? SentOn, DateTimeOffset ExpiresAt, string? Failure);

/// <summary>
/// The reporter's side of the anonymous intake (protocol section 11): no account, no profile, no
/// credentials, nothing stored on the device. The preferred path seals the report here
/// (<see cref="SubmitSealedAsync"/>) so the relay never sees it; the bot conversation and the
/// bridge hand the answers to the relay, which seals them on arrival.
/// </summary>
public sealed class ReporterClient : IDisposable
{
    /// <summary>The most proof-of-work this client will do for a relay (a relay asking more is refused rather than left spinning).</summary>
    public const int MaxPowDifficulty = 32;

    private readonly RelayApi _api;
    private readonly TimeProvider _clock;

    /// <summary>Over <paramref name="http"/> (its BaseAddress is the relay), which this client owns and disposes. It must add no credentials.</summary>
    public ReporterClient(HttpClient http, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _api = new RelayApi(http);
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Over <paramref name="api"/>, which this client owns and disposes. It must never have logged in: a reporter sends no credentials.</summary>
    public ReporterClient(RelayApi api, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(api);
        if (api.Token is not null || api.Http.DefaultRequestHeaders.Authorization is not null)
        {
            throw new ArgumentException("A reporter's client must not carry a session: it would tie the report to an account.", nameof(api));
        }

        _api = api;
        _clock = clock ?? TimeProvider.System;
    }

    public static ReporterClient Create(Uri server, TimeSpan? timeout = null) =>
        new(new HttpClient { BaseAddress = server, Timeout = timeout ?? TimeSpan.FromSeconds(30) });

    public Task<PublicIntake> GetIntakeAsync(Guid intakeId, CancellationToken ct) => _api.GetPublicIntakeAsync(intakeId, ct);

    public async Task<IntakeFlowsDocument> GetFlowsAsync(Guid intakeId, CancellationToken ct) =>
        IntakeFlowsDocument.Parse(await _api.GetIntakeFlowsAsync(intakeId, ct).ConfigureAwait(false));

    /// <summary>Fetches a single-use challenge and solves it on the thread pool.</summary>
    public async Task<PowSolution> SolveAsync(Guid intakeId, CancellationToken ct)
    {
        PowChallenge challenge = await _api.CreatePowChallengeAsync(intakeId, ct).ConfigureAwait(false);
        if (challenge.Difficulty is < 0 or > MaxPowDifficulty)
        {
            throw new InvalidOperationException($"The relay asks for a proof-of-work of {challenge.Difficulty} bits; this client does at most {MaxPowDifficulty}.");
        }

        if (challenge.Nonce is not { Length: > 0 and <= ProofOfWork.MaxNonceBytes })
        {
            throw new InvalidOperationException("The relay sent a proof-of-work challenge without a usable nonce.");
        }

        byte[] nonce = challenge.Nonce;
        int difficulty = challenge.Difficulty;
        ulong counter = await Task.Run(() => ProofOfWork.Solve(nonce, difficulty, ct), ct).ConfigureAwait(false);
        return new PowSolution(challenge.ChallengeId, counter);
    }

    /// <summary>
    /// Seals a report on this device and submits it: the report JSON (with a fresh receipt phrase)
    /// padded to a multiple of 1,024 bytes and sealed to the intake's public key; the relay gets
    /// only the sealed box and the receipt's lookup secret. Returns the receipt: the only way to
    /// read replies, and nobody can recover it.
    /// </summary>
    public async Task<SubmittedReport> SubmitSealedAsync(Guid intakeId, string flow, string language, IReadOnlyDictionary<string, string> answers, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(flow);
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        ArgumentNullException.ThrowIfNull(answers);
        PublicIntake intake = await _api.GetPublicIntakeAsync(intakeId, ct).ConfigureAwait(false);
        X25519PublicKey intakeKey = X25519PublicKey.FromBytes(intake.PublicKey);
        string receipt = ReceiptPhrase.Generate();
        IntakeReportContent report = new(flow, language, answers, receipt, DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime));
        byte[] sealedReport = IntakeFormat.SealReport(report, intakeKey);
        PowSolution pow = await SolveAsync(intakeId, ct).ConfigureAwait(false);
        ReportAccepted accepted = await _api.SubmitSealedReportAsync(intakeId, new SealedReportRequest(pow, sealedReport, ReceiptPhrase.LookupSecret(receipt)), ct).ConfigureAwait(false);
        return new SubmittedReport(receipt, DateTimeOffset.FromUnixTimeMilliseconds(accepted.ExpiresAt));
    }

    /// <summary>Starts the bot conversation (after a proof-of-work); the first turn is the first question.</summary>
    public async Task<BotTurn> StartConversationAsync(Guid intakeId, string flow, string language, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(flow);
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        PowSolution pow = await SolveAsync(intakeId, ct).ConfigureAwait(false);
        return await _api.StartIntakeConversationAsync(intakeId, new StartConversationRequest(pow, flow, language), ct).ConfigureAwait(false);
    }

    /// <summary>Answers the current question (null or empty skips an optional one).</summary>
    public Task<BotTurn> AnswerAsync(Guid intakeId, Guid conversationId, string? answer, CancellationToken ct) =>
        _api.AnswerIntakeConversationAsync(intakeId, conversationId, new ConversationAnswer(answer), ct);

    /// <summary>A chat-bot bridge's path: plaintext answers the relay seals on arrival; returns the receipt it made.</summary>
    public async Task<SubmittedReport> SubmitBridgeAsync(Guid intakeId, string flow, string language, IReadOnlyDictionary<string, string> answers, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(flow);
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        ArgumentNullException.ThrowIfNull(answers);
        PowSolution pow = await SolveAsync(intakeId, ct).ConfigureAwait(false);
        ReceiptIssued issued = await _api.SubmitBridgeReportAsync(intakeId, new BridgeReportRequest(pow, flow, language, answers), ct).ConfigureAwait(false);
        return new SubmittedReport(issued.Receipt, DateTimeOffset.FromUnixTimeMilliseconds(issued.ExpiresAt));
    }

    /// <summary>
    /// The intake team's replies to the report with this receipt, opened here with the key derived
    /// from the phrase; one that does not open is listed with its <see cref="ReceivedReply.Failure"/>.
    /// A 404 <see cref="RelayApiException"/> if no report has this receipt (or it expired).
    /// </summary>
    /// <exception cref="FormatException">The phrase is not eight words from the receipt word list.</exception>
    public async Task<List<ReceivedReply>> CheckRepliesAsync(string receipt, CancellationToken ct)
    {
        string phrase = ReceiptPhrase.Normalize(receipt) ?? throw new FormatException($"A receipt is {ReceiptPhrase.Words} words from the receipt word list, separated by spaces.");
        ReplyList list = await _api.CheckReceiptRepliesAsync(new ReplyCheckRequest(ReceiptPhrase.LookupSecret(phrase)), ct).ConfigureAwait(false);
        byte[] key = ReceiptPhrase.ReplyKey(phrase);
        try
        {
            return
            [
                .. list.Replies.Select(reply =>
                {
                    IntakeReplyContent? content = IntakeFormat.OpenReply(key, reply.Sealed, out string? failure);
                    return new ReceivedReply(reply.ReplyId, content?.Text, content?.SentOn, DateTimeOffset.FromUnixTimeMilliseconds(reply.ExpiresAt), failure);
                }),
            ];
        }
        finally
        {
            Array.Clear(key);
        }
    }

    public void Dispose() => _api.Dispose();
}
