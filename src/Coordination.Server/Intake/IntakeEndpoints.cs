using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Auth;
using Coordination.Server.Cells;
using Coordination.Server.Hosting;
using Coordination.Server.InputLimits;
using Coordination.Server.Operations;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Intake;

/// <summary>
/// The anonymous intake over REST (protocol section 11).
/// </summary>
/// <remarks>
/// <para>
/// The intake team: a cell's organizers open intakes; its members and organizers list them, read
/// the inbox of sealed reports, triage, reply (sealed under the receipt-derived key) and delete.
/// Anyone who is not in the cell gets 404, a newcomer 403, as everywhere in cells.
/// </para>
/// <para>
/// Reporters need no account. Every submission (a sealed report, a bridge's plaintext answers, a
/// bot conversation) carries a solved single-use proof-of-work challenge, checked before the
/// intake's rate limit is counted, so floods of unsolved requests cost the relay a dictionary
/// lookup and use up nothing legitimate reporters need. Plaintext answers (bot and bridge) exist
/// only in memory until they are sealed to the intake's public key; the relay stores the sealed
/// box, the Argon2id lookup id of the receipt, the day and the expiry. Nothing a reporter sends is
/// logged, and nothing about the connection is looked at.
/// </para>
/// </remarks>
public static class IntakeEndpoints
{
    private const string NoSuchIntake = "No such intake.";
    private const string NoSuchReport = "No such report.";
    private const string NoSuchConversation = "No such conversation: it ended, or was idle for 15 minutes and everything in it was discarded.";

    private static readonly Dictionary<string, string> s_refused = new(StringComparer.Ordinal)
    {
        ["en"] = "Nothing was sent. Everything you typed has been discarded.",
        ["ru"] = "Ничего не отправлено. Всё, что вы ввели, удалено.",
    };

    public static IEndpointRouteBuilder MapIntake(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The pepper file is created at start, not at the first report.
        _ = app.ServiceProvider.GetRequiredService<ReceiptLookup>();

        RouteGroupBuilder cells = app.MapGroup("/api/v1/cells/{cellId:guid}").WithTags("Intake").RequireAuthorization();
        cells.MapPost("/intakes", OpenIntake).WithName(nameof(OpenIntake));
        cells.MapGet("/intakes", ListIntakes).WithName(nameof(ListIntakes));
        cells.MapGet("/intake-reports", ListIntakeReports).WithName(nameof(ListIntakeReports));

        RouteGroupBuilder reports = app.MapGroup("/api/v1/intake-reports/{reportId:guid}").WithTags("Intake").RequireAuthorization();
        reports.MapPatch("/", TriageIntakeReport).WithName(nameof(TriageIntakeReport));
        reports.MapPost("/replies", ReplyToIntakeReport).WithName(nameof(ReplyToIntakeReport));
        reports.MapDelete("/", DeleteIntakeReport).WithName(nameof(DeleteIntakeReport));

        RouteGroupBuilder intakes = app.MapGroup("/api/v1/intakes/{intakeId:guid}").WithTags("Intake").AllowAnonymous();
        intakes.MapGet("/", GetPublicIntake).WithName(nameof(GetPublicIntake));
        intakes.MapGet("/flows", GetIntakeFlows).WithName(nameof(GetIntakeFlows));
        intakes.MapPost("/challenges", CreatePowChallenge).WithName(nameof(CreatePowChallenge));
        intakes.MapPost("/reports", SubmitSealedReport).WithName(nameof(SubmitSealedReport));
        intakes.MapPost("/bridge", SubmitBridgeReport).WithName(nameof(SubmitBridgeReport));
        intakes.MapPost("/conversations", StartIntakeConversation).WithName(nameof(StartIntakeConversation));
        intakes.MapPost("/conversations/{conversationId:guid}/answers", AnswerIntakeConversation).WithName(nameof(AnswerIntakeConversation));

        app.MapPost("/api/v1/receipts/replies", CheckReceiptReplies).WithName(nameof(CheckReceiptReplies)).WithTags("Intake").AllowAnonymous();
        return app;
    }

    // The intake team.

    /// <summary>An organizer opens an intake with a key pair made on their device (the private half sealed under the cell key).</summary>
    public static async Task<Results<Created<IntakeInfo>, ProblemHttpResult>> OpenIntake(
        Guid cellId, OpenIntakeRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        if (await CellEndpoints.RequireRoleAsync(db, cellId, accountId, MemberRole.Organizer, ct) is { } denied)
        {
            return denied;
        }

        string? invalid = request is null ? "The body is missing."
            : request.PublicKey is not { Length: IntakeLimits.PublicKeyBytes } ? $"publicKey must be an X25519 public key ({IntakeLimits.PublicKeyBytes} bytes)."
            : !IsUsableKey(request.PublicKey) ? "publicKey is not usable (a low-order point)."
            : request.SealedPrivateKey is not { Length: IntakeLimits.SealedPrivateKeyBytes } ? $"sealedPrivateKey must be {IntakeLimits.SealedPrivateKeyBytes} bytes: nonce, the 32-byte key and the tag."
            : request.RetentionDays is < IntakeLimits.MinRetentionDays or > IntakeLimits.MaxRetentionDays ? $"retentionDays must be {IntakeLimits.MinRetentionDays} to {IntakeLimits.MaxRetentionDays}."
            : request.PowDifficulty is < IntakeLimits.MinPowDifficulty or > IntakeLimits.MaxPowDifficulty ? $"powDifficulty must be {IntakeLimits.MinPowDifficulty} to {IntakeLimits.MaxPowDifficulty}."
            : null;
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        if (await db.Set<CellIntake>().CountAsync(i => i.CellId == cellId, ct) >= IntakeLimits.MaxIntakesPerCell)
        {
            return Problems.Conflict($"This cell has {IntakeLimits.MaxIntakesPerCell} intakes, the most the relay keeps for one cell.");
        }

        CellIntake intake = new()
        {
            Id = Guid.NewGuid(),
            CellId = cellId,
            PublicKey = request!.PublicKey,
            SealedPrivateKey = request.SealedPrivateKey,
            RetentionDays = request.RetentionDays,
            PowDifficulty = request.PowDifficulty,
        };
        db.Set<CellIntake>().Add(intake);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The cell went meanwhile.
            return Problems.NotFound("No such cell.");
        }

        return TypedResults.Created($"/api/v1/intakes/{intake.Id}", Describe(intake));
    }

    /// <summary>The cell's intakes, with the sealed private key the team opens with the cell key.</summary>
    public static async Task<Results<Ok<List<IntakeInfo>>, ProblemHttpResult>> ListIntakes(Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        if (await CellEndpoints.RequireRoleAsync(db, cellId, accountId, MemberRole.Member, ct) is { } denied)
        {
            return denied;
        }

        List<CellIntake> intakes = await db.Set<CellIntake>().AsNoTracking().Where(i => i.CellId == cellId).OrderBy(i => i.Id).ToListAsync(ct);
        return TypedResults.Ok(intakes.Select(Describe).ToList());
    }

    /// <summary>The inbox: every unexpired report to the cell's intakes, newest day first (streamed; a report is at most 64 KiB).</summary>
    public static async Task<Results<Ok<IAsyncEnumerable<InboxReport>>, ProblemHttpResult>> ListIntakeReports(
        Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        if (await CellEndpoints.RequireRoleAsync(db, cellId, accountId, MemberRole.Member, ct) is { } denied)
        {
            return denied;
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        IAsyncEnumerable<InboxReport> inbox = (
            from r in db.Set<IntakeReport>()
            join i in db.Set<CellIntake>() on r.IntakeId equals i.Id
            where i.CellId == cellId && r.ExpiresAt > now
            orderby r.ReceivedOn descending, r.Id
            select new InboxReport(r.Id, r.IntakeId, r.SealedReport, r.ReceivedOn, r.ExpiresAt, r.State, db.Set<IntakeReply>().Count(x => x.ReportId == r.Id)))
            .AsNoTracking().AsAsyncEnumerable();
        return TypedResults.Ok(inbox);
    }

    /// <summary>Sets the team's triage state of a report.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> TriageIntakeReport(
        Guid reportId, TriageRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (ReportAccess? report, ProblemHttpResult? problem) = await ReportForTeamAsync(db, reportId, accountId, clock, ct);
        if (report is null)
        {
            return problem!;
        }

        if (request is null || !Enum.IsDefined(request.State))
        {
            return Problems.BadRequest("state must be 1 (new), 2 (in progress) or 3 (closed).");
        }

        await db.Set<IntakeReport>().Where(r => r.Id == reportId).ExecuteUpdateAsync(s => s.SetProperty(r => r.State, request.State), ct);
        return TypedResults.NoContent();
    }

    /// <summary>A reply, sealed under the key derived from the report's receipt; it expires with the report.</summary>
    public static async Task<Results<Created<SealedReply>, ProblemHttpResult>> ReplyToIntakeReport(
        Guid reportId, ReplyRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (ReportAccess? report, ProblemHttpResult? problem) = await ReportForTeamAsync(db, reportId, accountId, clock, ct);
        if (report is null)
        {
            return problem!;
        }

        if (request?.Sealed is not { } sealedReply || !IntakeLimits.IsSealedReplyLength(sealedReply.Length))
        {
            return Problems.BadRequest($"sealed must be a nonce, a reply padded to a multiple of {IntakeLimits.ReplyBlockBytes} bytes (at most {IntakeLimits.MaxPaddedReplyBytes}) and a tag: "
                + $"{IntakeLimits.MinSealedReplyBytes} to {IntakeLimits.MaxSealedReplyBytes} bytes.");
        }

        if (await db.Set<IntakeReply>().CountAsync(r => r.ReportId == reportId, ct) >= IntakeLimits.MaxRepliesPerReport)
        {
            return Problems.Conflict($"This report has {IntakeLimits.MaxRepliesPerReport} replies, the most the relay keeps for one report.");
        }

        // Time-ordered ids, so PostgreSQL (which has no rowid) returns replies in the order written.
        IntakeReply reply = new() { Id = Guid.CreateVersion7(clock.GetUtcNow()), ReportId = reportId, Sealed = sealedReply, ExpiresAt = report.ExpiresAt };
        db.Set<IntakeReply>().Add(reply);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The report was deleted meanwhile.
            return Problems.NotFound(NoSuchReport);
        }

        return TypedResults.Created((string?)null, new SealedReply(reply.Id, reply.Sealed, reply.ExpiresAt));
    }

    /// <summary>Deletes a report and its replies at once (the next sweep checkpoints the WAL so they do not linger there).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteIntakeReport(
        Guid reportId, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, IntakeExpiry expiry, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (ReportAccess? report, ProblemHttpResult? problem) = await ReportForTeamAsync(db, reportId, accountId, clock, ct);
        if (report is null)
        {
            return problem!;
        }

        await db.Set<IntakeReport>().Where(r => r.Id == reportId).ExecuteDeleteAsync(ct);
        expiry.RequestCheckpoint();
        return TypedResults.NoContent();
    }

    // Reporters (anonymous).

    /// <summary>What a reporter's client needs to seal and submit.</summary>
    public static async Task<Results<Ok<PublicIntake>, ProblemHttpResult>> GetPublicIntake(Guid intakeId, CoordinationDbContext db, IntakeFlows flows, CancellationToken ct)
    {
        CellIntake? intake = await FindIntakeAsync(db, intakeId, ct);
        return intake is null
            ? Problems.NotFound(NoSuchIntake)
            : TypedResults.Ok(new PublicIntake(intake.Id, intake.PublicKey, intake.PowDifficulty, intake.RetentionDays, flows.Languages));
    }

    /// <summary>The flows document, without its comments and with this intake's retention filled in.</summary>
    public static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> GetIntakeFlows(Guid intakeId, CoordinationDbContext db, IntakeFlows flows, CancellationToken ct)
    {
        CellIntake? intake = await FindIntakeAsync(db, intakeId, ct);
        return intake is null ? Problems.NotFound(NoSuchIntake) : TypedResults.Ok(flows.DocumentFor(intake.RetentionDays));
    }

    /// <summary>A single-use proof-of-work challenge at the intake's difficulty, valid for five minutes.</summary>
    /// <remarks>Not rate-limited: a challenge costs the relay one hash and no memory (see <see cref="PowChallenges"/>), so a flood of them cannot lock reporters out.</remarks>
    public static async Task<Results<Ok<PowChallenge>, ProblemHttpResult>> CreatePowChallenge(
        Guid intakeId, CoordinationDbContext db, PowChallenges challenges, CancellationToken ct)
    {
        CellIntake? intake = await FindIntakeAsync(db, intakeId, ct);
        return intake is null ? Problems.NotFound(NoSuchIntake) : TypedResults.Ok(challenges.Issue(intake.Id, intake.PowDifficulty));
    }

    /// <summary>A report sealed in the reporter's client, with the lookup secret of the receipt the client made.</summary>
    public static async Task<Results<Created<ReportAccepted>, ProblemHttpResult>> SubmitSealedReport(
        Guid intakeId, SealedReportRequest request, CoordinationDbContext db, PowChallenges challenges, RateLimits limits, ReceiptLookup receipts, TimeProvider clock,
        RelayMetrics metrics, CancellationToken ct)
    {
        string? invalid = request is null ? "The body is missing."
            : request.SealedReport is not { } sealedReport || !IntakeLimits.IsSealedReportLength(sealedReport.Length)
                ? $"sealedReport must be a sealed box of a report padded to a multiple of {IntakeLimits.ReportBlockBytes} bytes (at most {IntakeLimits.MaxPaddedReportBytes}): "
                    + $"{IntakeLimits.MinSealedReportBytes} to {IntakeLimits.MaxSealedReportBytes} bytes."
            : request.ReceiptLookupSecret is not { Length: IntakeLimits.LookupSecretBytes } ? $"receiptLookupSecret must be {IntakeLimits.LookupSecretBytes} bytes."
            : null;
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        (CellIntake? intake, ProblemHttpResult? refused) = await AdmitAsync(intakeId, request!.Pow, db, challenges, limits, ct);
        if (intake is null)
        {
            return refused!;
        }

        byte[] lookupId = await receipts.LookupIdAsync(request.ReceiptLookupSecret, ct);
        (long? expiresAt, ProblemHttpResult? full) = await StoreAsync(db, intake, request.SealedReport, lookupId, Today(clock), metrics, ct);
        return expiresAt is null ? full! : TypedResults.Created((string?)null, new ReportAccepted(expiresAt.Value));
    }

    /// <summary>
    /// A chat-bot bridge's plaintext answers: checked against the flow, assembled and sealed on
    /// arrival. The receipt phrase is made here, sealed into the report, answered once and forgotten.
    /// </summary>
    public static async Task<Results<Created<ReceiptIssued>, ProblemHttpResult>> SubmitBridgeReport(
        Guid intakeId, BridgeReportRequest request, CoordinationDbContext db, IntakeFlows flows, PowChallenges challenges, RateLimits limits,
        ReceiptLookup receipts, TimeProvider clock, RelayMetrics metrics, CancellationToken ct)
    {
        DateOnly today = Today(clock);
        if (FlowError(request?.Flow, request?.Language, flows, out IntakeFlow? flow) is { } invalid)
        {
            return Problems.BadRequest(request is null ? "The body is missing." : invalid);
        }

        (List<KeyValuePair<string, string>>? answers, bool consentRefused, string? error) = ReportAssembly.Validate(flow!, request!.Answers, request.Language, today);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        if (consentRefused)
        {
            return Problems.BadRequest("The consent was refused: such a report is discarded by the bridge, never sent.");
        }

        (CellIntake? intake, ProblemHttpResult? refused) = await AdmitAsync(intakeId, request.Pow, db, challenges, limits, ct);
        if (intake is null)
        {
            return refused!;
        }

        (string? receipt, long? expiresAt, ProblemHttpResult? problem) = await SealAndStoreAsync(db, intake, flow!, request.Language, answers!, receipts, today, metrics, ct);
        return receipt is null ? problem! : TypedResults.Created((string?)null, new ReceiptIssued(receipt, expiresAt!.Value));
    }

    /// <summary>Starts a bot conversation in the reporter's language: the flow's intro and its first question.</summary>
    public static async Task<Results<Ok<BotTurn>, ProblemHttpResult>> StartIntakeConversation(
        Guid intakeId, StartConversationRequest request, CoordinationDbContext db, IntakeFlows flows, PowChallenges challenges, RateLimits limits,
        BotConversations conversations, CancellationToken ct)
    {
        if (FlowError(request?.Flow, request?.Language, flows, out IntakeFlow? flow) is { } invalid)
        {
            return Problems.BadRequest(request is null ? "The body is missing." : invalid);
        }

        (CellIntake? intake, ProblemHttpResult? refused) = await AdmitAsync(intakeId, request!.Pow, db, challenges, limits, ct);
        if (intake is null)
        {
            return refused!;
        }

        BotConversation? conversation = conversations.Start(intake.Id, flow!, request.Language, intake.RetentionDays);
        return conversation is null
            ? Problems.ServiceUnavailable("Too many conversations are open; try again in a few minutes.")
            : TypedResults.Ok(BotConversations.Question(conversation, first: true));
    }

    /// <summary>
    /// Answers the current question: the next question; or, after the consent, the report is
    /// sealed and stored and the receipt answered once; or, if the consent is refused, everything
    /// is discarded. An answer that does not fit the question is 400 and the question stays.
    /// </summary>
    public static async Task<Results<Ok<BotTurn>, ProblemHttpResult>> AnswerIntakeConversation(
        Guid intakeId, Guid conversationId, ConversationAnswer request, CoordinationDbContext db, BotConversations conversations,
        ReceiptLookup receipts, TimeProvider clock, RelayMetrics metrics, CancellationToken ct)
    {
        BotConversation? conversation = conversations.Find(intakeId, conversationId);
        if (conversation is null)
        {
            return Problems.NotFound(NoSuchConversation);
        }

        if (request is null)
        {
            return Problems.BadRequest("The body is missing.");
        }

        BotStep step = conversations.Answer(conversation, request.Answer);
        switch (step.Kind)
        {
            case BotStepKind.Ask:
                return TypedResults.Ok(BotConversations.Question(conversation, first: false));
            case BotStepKind.Invalid:
                return Problems.BadRequest(step.Error!);
            case BotStepKind.Refused:
                return TypedResults.Ok(Finished(conversation, s_refused.TryGetValue(conversation.Language, out string? message) ? message : s_refused["en"], null, null));
            case BotStepKind.Gone:
                return Problems.NotFound(NoSuchConversation);
        }

        CellIntake? intake = await FindIntakeAsync(db, intakeId, ct);
        if (intake is null)
        {
            return Problems.NotFound(NoSuchIntake);
        }

        (string? receipt, long? expiresAt, ProblemHttpResult? problem) = await SealAndStoreAsync(db, intake, conversation.Flow, conversation.Language, step.Answers!, receipts, Today(clock), metrics, ct);
        if (receipt is null)
        {
            return problem!;
        }

        string completion = IntakeFlows.In(conversation.Flow.Completion, conversation.Language)
            .Replace(IntakeFlows.RetentionPlaceholder, intake.RetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return TypedResults.Ok(Finished(conversation, completion, receipt, expiresAt));
    }

    /// <summary>The reporter's replies, found by the lookup secret of their receipt (404 if no report has it).</summary>
    public static async Task<Results<Ok<ReplyList>, ProblemHttpResult>> CheckReceiptReplies(
        ReplyCheckRequest request, CoordinationDbContext db, RateLimits limits, ReceiptLookup receipts, TimeProvider clock, CancellationToken ct)
    {
        if (request?.ReceiptLookupSecret is not { Length: IntakeLimits.LookupSecretBytes })
        {
            return Problems.BadRequest($"receiptLookupSecret must be {IntakeLimits.LookupSecretBytes} bytes.");
        }

        if (!limits.TryReceiptCheck())
        {
            return Problems.TooManyRequests("The relay is checking too many receipts; try again in a minute.");
        }

        byte[] lookupId = await receipts.LookupIdAsync(request.ReceiptLookupSecret, ct);
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        List<Guid> reports = await db.Set<IntakeReport>().AsNoTracking().Where(r => r.ReceiptLookupId == lookupId && r.ExpiresAt > now).Select(r => r.Id).ToListAsync(ct);
        if (reports.Count == 0)
        {
            return Problems.NotFound("No report has this receipt: it was mistyped, or the report has expired or was deleted.");
        }

        List<SealedReply> replies = [];
        foreach (Guid report in reports)
        {
            // In the order they were written, which the reporter reads them in: SQLite's rowid, or
            // on PostgreSQL the time-ordered reply id.
            List<IntakeReply> written = db.Database.IsSqlite()
                ? await db.Set<IntakeReply>()
                    .FromSql($"SELECT * FROM \"IntakeReplies\" WHERE \"ReportId\" = {report} ORDER BY rowid")
                    .AsNoTracking().ToListAsync(ct)
                : await db.Set<IntakeReply>().AsNoTracking().Where(r => r.ReportId == report).OrderBy(r => r.Id).ToListAsync(ct);
            replies.AddRange(written.Where(r => r.ExpiresAt > now).Select(r => new SealedReply(r.Id, r.Sealed, r.ExpiresAt)));
        }

        return TypedResults.Ok(new ReplyList(replies));
    }

    private static IntakeInfo Describe(CellIntake intake) =>
        new(intake.Id, intake.CellId, intake.PublicKey, intake.SealedPrivateKey, intake.RetentionDays, intake.PowDifficulty);

    private static async Task<CellIntake?> FindIntakeAsync(CoordinationDbContext db, Guid intakeId, CancellationToken ct) =>
        await db.Set<CellIntake>().AsNoTracking().FirstOrDefaultAsync(i => i.Id == intakeId, ct);

    private static bool IsUsableKey(byte[] publicKey)
    {
        try
        {
            _ = SealedBox.Seal([0], X25519PublicKey.FromBytes(publicKey));
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static string? FlowError(string? flowKey, string? language, IntakeFlows flows, out IntakeFlow? flow)
    {
        flow = null;
        if (flowKey is null || flowKey.Length > IntakeLimits.MaxFlowKeyLength || !flows.Flows.TryGetValue(flowKey, out flow))
        {
            return $"flow must be one of: {string.Join(", ", flows.Flows.Keys)}.";
        }

        return language is null || language.Length > IntakeLimits.MaxLanguageLength || !flows.IsLanguage(language)
            ? $"language must be one of: {string.Join(", ", flows.Languages)}."
            : null;
    }

    /// <summary>
    /// The proof-of-work checked without remembering anything, then the intake's rate limit, then
    /// the intake itself and its difficulty, and only then the challenge spent (single use): the
    /// intake, or the refusal.
    /// </summary>
    private static async Task<(CellIntake? Intake, ProblemHttpResult? Problem)> AdmitAsync(
        Guid intakeId, PowSolution? pow, CoordinationDbContext db, PowChallenges challenges, RateLimits limits, CancellationToken ct)
    {
        if (challenges.Verify(intakeId, pow, out PowTicket ticket) is { } unsolved)
        {
            return (null, Problems.BadRequest(unsolved));
        }

        if (!limits.TryIntakeSubmission(intakeId))
        {
            return (null, Problems.TooManyRequests("This intake is receiving too many reports; try again in a minute."));
        }

        CellIntake? intake = await FindIntakeAsync(db, intakeId, ct);
        if (intake is null)
        {
            return (null, Problems.NotFound(NoSuchIntake));
        }

        // The id names its own difficulty; a made-up id may not ask for less work than the intake does.
        if (ticket.Difficulty < intake.PowDifficulty)
        {
            return (null, Problems.BadRequest("The proof-of-work challenge is easier than this intake asks for; ask for a new one."));
        }

        return challenges.Spend(intakeId, ticket) is { } used ? (null, Problems.BadRequest(used)) : (intake, null);
    }

    /// <summary>Makes the receipt, seals the assembled report into the intake's public key and stores it.</summary>
    private static async Task<(string? Receipt, long? ExpiresAt, ProblemHttpResult? Problem)> SealAndStoreAsync(
        CoordinationDbContext db, CellIntake intake, IntakeFlow flow, string language, IReadOnlyList<KeyValuePair<string, string>> answers,
        ReceiptLookup receipts, DateOnly today, RelayMetrics metrics, CancellationToken ct)
    {
        string receipt = ReceiptPhrase.Generate();
        byte[]? sealedReport = ReportAssembly.Seal(flow, language, answers, receipt, today, intake.PublicKey);
        if (sealedReport is null)
        {
            return (null, null, Problems.BadRequest($"The answers do not fit in one report ({IntakeLimits.MaxPaddedReportBytes / 1024} KiB); shorten them."));
        }

        byte[] secret = ReceiptPhrase.LookupSecret(receipt);
        byte[] lookupId;
        try
        {
            lookupId = await receipts.LookupIdAsync(secret, ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        (long? expiresAt, ProblemHttpResult? problem) = await StoreAsync(db, intake, sealedReport, lookupId, today, metrics, ct);
        return expiresAt is null ? (null, null, problem) : (receipt, expiresAt, null);
    }

    /// <summary>
    /// Stores a sealed report with the day it arrived (<paramref name="today"/>, read once per
    /// request, so the stored day and the day sealed inside agree across midnight); it expires at a
    /// day boundary, the intake's retention later.
    /// </summary>
    private static async Task<(long? ExpiresAt, ProblemHttpResult? Problem)> StoreAsync(
        CoordinationDbContext db, CellIntake intake, byte[] sealedReport, byte[] lookupId, DateOnly today, RelayMetrics metrics, CancellationToken ct)
    {
        if (await db.Set<IntakeReport>().CountAsync(r => r.IntakeId == intake.Id, ct) >= IntakeLimits.MaxReportsPerIntake)
        {
            return (null, Problems.ServiceUnavailable("This intake's inbox is full; try again later."));
        }

        long receivedOn = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds();
        long expiresAt = receivedOn + (long)TimeSpan.FromDays(intake.RetentionDays).TotalMilliseconds;
        db.Set<IntakeReport>().Add(new IntakeReport
        {
            Id = Guid.NewGuid(),
            IntakeId = intake.Id,
            SealedReport = sealedReport,
            ReceiptLookupId = lookupId,
            ReceivedOn = receivedOn,
            ExpiresAt = expiresAt,
            State = ReportState.New,
        });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The intake (or its cell) was deleted meanwhile.
            return (null, Problems.NotFound(NoSuchIntake));
        }

        metrics.ReportAccepted();
        return (expiresAt, null);
    }

    private static BotTurn Finished(BotConversation conversation, string message, string? receipt, long? expiresAt) =>
        new(conversation.Id, null, null, null, null, false, null, Done: true, message, receipt, expiresAt);

    private static DateOnly Today(TimeProvider clock) => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The report if it exists and the caller is a member or organizer of its intake's cell: otherwise 404, or 403 for a newcomer.</summary>
    private static async Task<(ReportAccess? Report, ProblemHttpResult? Problem)> ReportForTeamAsync(
        CoordinationDbContext db, Guid reportId, Guid accountId, TimeProvider clock, CancellationToken ct)
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        ReportAccess? report = await (
            from r in db.Set<IntakeReport>()
            join i in db.Set<CellIntake>() on r.IntakeId equals i.Id
            where r.Id == reportId && r.ExpiresAt > now
            select new ReportAccess(r.Id, i.CellId, r.ExpiresAt)).AsNoTracking().FirstOrDefaultAsync(ct);
        Membership? membership = report is null ? null : await CellEndpoints.MembershipOfAsync(db, report.CellId, accountId, ct);
        if (report is null || membership is null)
        {
            return (null, Problems.NotFound(NoSuchReport));
        }

        return membership.Role == MemberRole.Newcomer
            ? (null, Problems.Forbidden("Newcomers cannot read or act on intake reports until an organizer makes them members."))
            : (report, null);
    }

    private sealed record ReportAccess(Guid Id, Guid CellId, long ExpiresAt);
}

public static class IntakeExtensions
{
    /// <summary>
    /// The anonymous intake: its options (section <c>Intake</c>), the flows document (loaded now,
    /// so a missing or broken one stops the start), the receipt lookup with its pepper, the
    /// in-memory challenges and conversations, and the expiry sweep.
    /// </summary>
    public static WebApplicationBuilder AddIntake(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IntakeOptions options = (builder.Configuration.GetSection("Intake").Get<IntakeOptions>() ?? new IntakeOptions()).Validate();
        string path = options.FlowsPath is { Length: > 0 } configured
            ? Path.GetFullPath(configured, builder.Environment.ContentRootPath)
            : Path.Combine(AppContext.BaseDirectory, "seeds", "intake-flows.json");
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(IntakeFlows.Load(path));
        builder.Services.AddSingleton<ReceiptLookup>();
        builder.Services.AddSingleton<PowChallenges>();
        builder.Services.AddSingleton<BotConversations>();
        builder.Services.AddSingleton<IntakeExpiry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IntakeExpiry>());
        return builder;
    }
}
