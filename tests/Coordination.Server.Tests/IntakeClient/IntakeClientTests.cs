using System.Globalization;
using System.Net;
using System.Text;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Intake;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.IntakeClient;

/// <summary>
/// The intake through the SDK against the real relay: a reporter with no account submits by every
/// path (sealed on the device, the bot conversation, the bridge), the intake team reads each report
/// exactly as sent, replies, and the reporter reads the reply with the receipt. Nobody outside the
/// cell reads the inbox; a report becomes a task without its content reaching the relay; no answer
/// and no receipt is in the relay's files or logs.
/// </summary>
public sealed class IntakeClientTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Every_path_reaches_the_team_exactly_and_replies_reach_the_reporter_by_receipt()
    {
        await using Team team = await Team.CreateAsync(relay);
        using ReporterClient reporter = new(relay.CreateRealClient());
        string yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        // The reporter sees the intake and its flows, anonymously.
        PublicIntake intake = await reporter.GetIntakeAsync(team.Intake.IntakeId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(team.Intake.PublicKey, intake.PublicKey);
        Assert.Equal(8, intake.PowDifficulty);
        IntakeFlowsDocument flows = await reporter.GetFlowsAsync(team.Intake.IntakeId, None).WaitAsync(TestTimeouts.Default);
        Assert.Contains("ru", flows.Languages);
        Assert.Equal("what", flows.Find("detention-report")!.MainTextStep!.Id);
        Assert.Contains("7", IntakeText.In(flows.Find("detention-report")!.Step("consent")!.Question, "en"), StringComparison.Ordinal);

        // 1. Sealed on the device.
        string sealedCanary = Canary("sealed");
        Dictionary<string, string> sealedAnswers = new()
        {
            ["what"] = $"Two people detained at the station. {sealedCanary}\nЗадержали двоих.",
            ["when"] = yesterday,
            ["where"] = "Riverside, by the old bridge",
            ["how-many"] = "two-to-five",
            ["consent"] = "yes",
        };
        SubmittedReport sealedReceipt = await reporter.SubmitSealedAsync(team.Intake.IntakeId, "detention-report", "en", sealedAnswers, None).WaitAsync(TestTimeouts.Default);
        Assert.NotNull(ReceiptPhrase.Normalize(sealedReceipt.Receipt));

        // 2. The bot conversation, in Russian.
        string botCanary = Canary("bot");
        Dictionary<string, string> botAnswers = new()
        {
            ["what"] = $"Задержали у метро. {botCanary}",
            ["when"] = yesterday,
            ["where"] = "Москва, Тверская",
            ["relation"] = "witness",
            ["help"] = "lawyer",
            ["consent"] = "yes",
        };
        string botReceipt = await ConverseAsync(reporter, team.Intake.IntakeId, "detention-report", "ru", botAnswers);

        // 3. The bridge.
        string bridgeCanary = Canary("bridge");
        Dictionary<string, string> bridgeAnswers = new()
        {
            ["statement"] = $"We are still here. {bridgeCanary}",
            ["signature"] = "pseudonym",
            ["signature-text"] = "A. from the north",
            ["consent"] = "yes",
        };
        SubmittedReport bridgeReceipt = await reporter.SubmitBridgeAsync(team.Intake.IntakeId, "rally-statement", "en", bridgeAnswers, None).WaitAsync(TestTimeouts.Default);
        Assert.NotNull(ReceiptPhrase.Normalize(bridgeReceipt.Receipt));

        // A member of the cell reads all three, exactly.
        IntakeTeamClient anna = new(team.Anna.Cells);
        List<IntakeReportView> inbox = await anna.InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(3, inbox.Count);
        Assert.All(inbox, r => Assert.Null(r.Failure));
        Assert.All(inbox, r => Assert.Equal(ReportState.New, r.State));
        Assert.All(inbox, r => Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), r.ReceivedOn));
        IntakeReportView fromSealed = Single(inbox, sealedReceipt.Receipt);
        IntakeReportView fromBot = Single(inbox, botReceipt);
        IntakeReportView fromBridge = Single(inbox, bridgeReceipt.Receipt);
        Assert.Equal(sealedAnswers, fromSealed.Content!.Answers);
        Assert.Equal(("detention-report", "en"), (fromSealed.Content.Flow, fromSealed.Content.Language));
        AssertAnswered(flows.Find("detention-report")!, botAnswers, fromBot.Content!.Answers);
        Assert.Equal(("detention-report", "ru"), (fromBot.Content.Flow, fromBot.Content.Language));
        AssertAnswered(flows.Find("rally-statement")!, bridgeAnswers, fromBridge.Content!.Answers);
        Assert.Equal(("rally-statement", "en"), (fromBridge.Content.Flow, fromBridge.Content.Language));
        Assert.All(inbox, r => Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), r.Content!.SubmittedOn));

        // No reply yet; then one to each, and each reporter reads only their own.
        Assert.Empty(await reporter.CheckRepliesAsync(sealedReceipt.Receipt, None).WaitAsync(TestTimeouts.Default));
        await anna.ReplyAsync(fromSealed, "A lawyer is on the way. Reply 1.", None).WaitAsync(TestTimeouts.Default);
        await anna.ReplyAsync(fromBot, "Адвокат выехал. Ответ 2.", None).WaitAsync(TestTimeouts.Default);
        await new IntakeTeamClient(team.Olga.Cells).ReplyAsync(fromBridge, "Read in Berlin on Saturday.", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["A lawyer is on the way. Reply 1."], await RepliesAsync(reporter, sealedReceipt.Receipt));
        Assert.Equal(["Адвокат выехал. Ответ 2."], await RepliesAsync(reporter, botReceipt.ToUpperInvariant().Replace(" ", "  ", StringComparison.Ordinal)));
        Assert.Equal(["Read in Berlin on Saturday."], await RepliesAsync(reporter, bridgeReceipt.Receipt));
        List<ReceivedReply> replies = await reporter.CheckRepliesAsync(sealedReceipt.Receipt, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), replies[0].SentOn);

        // An unknown receipt is a 404, a malformed one never leaves the device.
        RelayApiException unknown = await Assert.ThrowsAsync<RelayApiException>(() => reporter.CheckRepliesAsync(ReceiptPhrase.Generate(), None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        await Assert.ThrowsAsync<FormatException>(() => reporter.CheckRepliesAsync("not a receipt", None));

        // Triage and delete.
        await anna.TriageAsync(fromBot.ReportId, ReportState.InProgress, None).WaitAsync(TestTimeouts.Default);
        IntakeReportView triaged = await anna.GetAsync(team.CellId, fromBot.ReportId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal((ReportState.InProgress, 1), (triaged.State, triaged.Replies));
        await anna.DeleteAsync(fromSealed.ReportId, None).WaitAsync(TestTimeouts.Default);
        Assert.DoesNotContain(await anna.InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default), r => r.ReportId == fromSealed.ReportId);
        RelayApiException gone = await Assert.ThrowsAsync<RelayApiException>(() => reporter.CheckRepliesAsync(sealedReceipt.Receipt, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);

        // Nothing a reporter typed, and no receipt, is at rest or in the logs.
        AssertNowhere(sealedCanary, botCanary, bridgeCanary, "Тверская", "A. from the north", "Riverside, by the old bridge",
            sealedReceipt.Receipt, botReceipt, bridgeReceipt.Receipt, "Адвокат выехал", "Read in Berlin");
    }

    [Fact]
    public async Task Nobody_outside_the_cell_reads_the_inbox_or_acts_on_its_reports()
    {
        await using Team team = await Team.CreateAsync(relay);
        using ReporterClient reporter = new(relay.CreateRealClient());
        SubmittedReport submitted = await reporter.SubmitSealedAsync(team.Intake.IntakeId, "detention-report", "en", Detention(Canary("outsider")), None).WaitAsync(TestTimeouts.Default);
        IntakeReportView report = Single(await new IntakeTeamClient(team.Anna.Cells).InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default), submitted.Receipt);

        // An organizer of another cell, and a newcomer of this one.
        await using CellMember stranger = await CellMember.CreateAsync(relay);
        await stranger.Cells.CreateAsync(ConversationKind.Cell, "Elsewhere", null, null, null, None).WaitAsync(TestTimeouts.Default);
        await using CellMember newcomer = await CellMember.CreateAsync(relay);
        await team.Olga.AdmitAsync(newcomer, team.CellId, MemberRole.Newcomer);

        foreach ((CellMember who, HttpStatusCode expected) in new[] { (stranger, HttpStatusCode.NotFound), (newcomer, HttpStatusCode.Forbidden) })
        {
            RelayApi api = who.Device.Api;
            Assert.Equal(expected, (await Assert.ThrowsAsync<RelayApiException>(() => api.ListIntakeReportsAsync(team.CellId).WaitAsync(TestTimeouts.Default))).Status);
            Assert.Equal(expected, (await Assert.ThrowsAsync<RelayApiException>(() => api.ListIntakesAsync(team.CellId).WaitAsync(TestTimeouts.Default))).Status);
            foreach (Func<Task> act in new Func<Task>[]
            {
                () => api.TriageIntakeReportAsync(report.ReportId, new TriageRequest(ReportState.Closed)),
                () => api.ReplyToIntakeReportAsync(report.ReportId, new ReplyRequest(new byte[24 + 16 + 256])),
                () => api.DeleteIntakeReportAsync(report.ReportId),
            })
            {
                RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => act().WaitAsync(TestTimeouts.Default));
                Assert.True(refused.Status is HttpStatusCode.NotFound or HttpStatusCode.Forbidden, refused.Message);
            }
        }

        // Through the SDK: the relay refuses the inbox, and without the cell key no intake can be opened there.
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<RelayApiException>(() => new IntakeTeamClient(stranger.Cells).InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default))).Status);
        await Assert.ThrowsAsync<InvalidOperationException>(() => new IntakeTeamClient(stranger.Cells).OpenAsync(team.CellId, 7, 8, None));

        // A plain member may read but not open intakes.
        RelayApiException notOrganizer = await Assert.ThrowsAsync<RelayApiException>(() => new IntakeTeamClient(team.Anna.Cells).OpenAsync(team.CellId, 7, 8, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Forbidden, notOrganizer.Status);

        // The report is untouched.
        IntakeReportView still = Single(await new IntakeTeamClient(team.Olga.Cells).InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default), submitted.Receipt);
        Assert.Equal((ReportState.New, 0), (still.State, still.Replies));
    }

    [Fact]
    public async Task Reports_and_replies_that_do_not_open_are_reported_not_dropped()
    {
        await using Team team = await Team.CreateAsync(relay);
        using ReporterClient reporter = new(relay.CreateRealClient());

        // A report sealed to some other key, submitted like any other.
        using X25519KeyPair wrongKey = X25519KeyPair.Generate();
        string receipt = ReceiptPhrase.Generate();
        byte[] misdirected = IntakeFormat.SealReport(new IntakeReportContent("detention-report", "en", Detention("misdirected"), receipt, DateOnly.FromDateTime(DateTime.UtcNow)), wrongKey.PublicKey);
        using (RelayApi anonymous = new(relay.CreateRealClient()))
        {
            PowSolution pow = await reporter.SolveAsync(team.Intake.IntakeId, None).WaitAsync(TestTimeouts.Default);
            await anonymous.SubmitSealedReportAsync(team.Intake.IntakeId, new SealedReportRequest(pow, misdirected, ReceiptPhrase.LookupSecret(receipt))).WaitAsync(TestTimeouts.Default);
        }

        SubmittedReport good = await reporter.SubmitSealedAsync(team.Intake.IntakeId, "detention-report", "en", Detention("fine"), None).WaitAsync(TestTimeouts.Default);
        List<IntakeReportView> inbox = await new IntakeTeamClient(team.Anna.Cells).InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(2, inbox.Count);
        IntakeReportView unreadable = Assert.Single(inbox, r => r.Content is null);
        Assert.Contains("does not open with the intake's key", unreadable.Failure, StringComparison.Ordinal);
        Assert.Equal(good.Receipt, Assert.Single(inbox, r => r.Content is not null).Content!.Receipt);
        await Assert.ThrowsAsync<InvalidOperationException>(() => new IntakeTeamClient(team.Anna.Cells).ReplyAsync(unreadable, "hello", None));

        // A reply under some other key reaches the reporter as a failure, beside the good one.
        IntakeReportView readable = Single(inbox, good.Receipt);
        await new IntakeTeamClient(team.Anna.Cells).ReplyAsync(readable, "the real reply", None).WaitAsync(TestTimeouts.Default);
        byte[] forged = IntakeFormat.SealReply(SecureRandom.Bytes(32), "forged", DateOnly.FromDateTime(DateTime.UtcNow));
        await team.Anna.Device.Api.ReplyToIntakeReportAsync(readable.ReportId, new ReplyRequest(forged)).WaitAsync(TestTimeouts.Default);
        List<ReceivedReply> replies = await reporter.CheckRepliesAsync(good.Receipt, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(2, replies.Count);
        Assert.Equal("the real reply", Assert.Single(replies, r => r.Failure is null).Text);
        ReceivedReply failed = Assert.Single(replies, r => r.Failure is not null);
        Assert.Null(failed.Text);
        Assert.Contains("does not open", failed.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_becomes_a_task_whose_content_never_reaches_the_relay()
    {
        await using Team team = await Team.CreateAsync(relay);
        using ReporterClient reporter = new(relay.CreateRealClient());
        string canary = Canary("task");
        Dictionary<string, string> answers = Detention($"Detained outside the court {canary}");
        answers["help"] = "parcels-and-letters";
        SubmittedReport submitted = await reporter.SubmitSealedAsync(team.Intake.IntakeId, "detention-report", "en", answers, None).WaitAsync(TestTimeouts.Default);
        IntakeTeamClient olga = new(team.Olga.Cells);
        IntakeReportView report = Single(await olga.InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default), submitted.Receipt);

        TaskView task = await olga.ToTaskAsync(report, RiskLevel.Low, ["in-country"], 2, DateTimeOffset.UtcNow.AddDays(3), None).WaitAsync(TestTimeouts.Default);
        Assert.Equal($"Report a detention: Detained outside the court {canary}", task.Title);
        Assert.Contains("What happened?\nDetained outside the court", task.Body, StringComparison.Ordinal);
        Assert.Contains("What help is needed?\nParcels and letters", task.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(submitted.Receipt, task.Body, StringComparison.Ordinal);
        Assert.Equal((RiskLevel.Low, 1, 2), (task.Risk, task.RequiredTags, task.PeopleNeeded));

        // Another member reads it through the task, sealed under the cell key.
        TaskView seen = await new TaskClient(team.Anna.Cells).GetAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(task.Title, seen.Title);

        // A report too long for a task is cut to fit, saying so.
        Dictionary<string, string> longAnswers = Detention(string.Concat(Enumerable.Repeat("Очень длинный рассказ. ", 170)));
        SubmittedReport longReport = await reporter.SubmitSealedAsync(team.Intake.IntakeId, "detention-report", "ru", longAnswers, None).WaitAsync(TestTimeouts.Default);
        TaskView cut = await olga.ToTaskAsync(Single(await olga.InboxAsync(team.CellId, None).WaitAsync(TestTimeouts.Default), longReport.Receipt), RiskLevel.Low, [], 1, null, None)
            .WaitAsync(TestTimeouts.Default);
        Assert.Contains("cut to fit a task", cut.Body, StringComparison.Ordinal);

        AssertNowhere(canary, task.Title, "Detained outside the court");
    }

    private static string Canary(string path) => $"canary-{path}-{Guid.NewGuid():N}";

    private static Dictionary<string, string> Detention(string what) => new()
    {
        ["what"] = what,
        ["when"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["where"] = "not given",
        ["consent"] = "yes",
    };

    private static IntakeReportView Single(IEnumerable<IntakeReportView> inbox, string receipt) => Assert.Single(inbox, r => r.Content?.Receipt == receipt);

    /// <summary>Every answer given is there exactly; anything else is a step's declared default (which the relay records for a skipped choice).</summary>
    private static void AssertAnswered(IntakeFlow flow, Dictionary<string, string> given, IReadOnlyDictionary<string, string> read)
    {
        foreach ((string step, string value) in given)
        {
            Assert.True(read.TryGetValue(step, out string? got), $"{step} is missing");
            Assert.Equal(value, got);
        }

        foreach ((string step, string value) in read.Where(r => !given.ContainsKey(r.Key)))
        {
            Assert.Equal(flow.Step(step)?.Answer.Default, value);
        }
    }

    private static async Task<string> ConverseAsync(ReporterClient reporter, Guid intakeId, string flow, string language, Dictionary<string, string> answers)
    {
        BotTurn turn = await reporter.StartConversationAsync(intakeId, flow, language, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal("what", turn.StepId);
        Assert.Equal("Что произошло?", turn.Question);
        for (int i = 0; !turn.Done; i++)
        {
            Assert.True(i < 20, "The conversation does not end.");
            string? answer = answers.GetValueOrDefault(turn.StepId!);
            Assert.True(answer is not null || turn.Optional, $"No answer planned for the required step {turn.StepId}.");
            turn = await reporter.AnswerAsync(intakeId, turn.ConversationId, answer, None).WaitAsync(TestTimeouts.Default);
        }

        Assert.NotNull(turn.Receipt);
        return turn.Receipt;
    }

    private static async Task<List<string?>> RepliesAsync(ReporterClient reporter, string receipt)
    {
        List<ReceivedReply> replies = await reporter.CheckRepliesAsync(receipt, None).WaitAsync(TestTimeouts.Default);
        Assert.All(replies, r => Assert.Null(r.Failure));
        return [.. replies.Select(r => r.Text)];
    }

    private void AssertNowhere(params string[] secrets)
    {
        byte[] storage = relay.ReadStorage();
        string logs = string.Join('\n', relay.Logs);
        foreach (string secret in secrets)
        {
            Assert.True(storage.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"'{secret}' is in the relay's database files.");
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }


    /// <summary>Olga organizes a cell and opens its intake (7 days, 8 bits); Anna is a member.</summary>
    private sealed class Team : IAsyncDisposable
    {
        private Team(CellMember olga, CellMember anna, Guid cellId, IntakeInfo intake)
        {
            Olga = olga;
            Anna = anna;
            CellId = cellId;
            Intake = intake;
        }

        public CellMember Olga { get; }

        public CellMember Anna { get; }

        public Guid CellId { get; }

        public IntakeInfo Intake { get; }

        public static async Task<Team> CreateAsync(RelayFactory relay)
        {
            CellMember olga = await CellMember.CreateAsync(relay);
            CellMember anna = await CellMember.CreateAsync(relay);
            CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Intake team", null, null, null, None).WaitAsync(TestTimeouts.Default);
            await olga.AdmitAsync(anna, cell.CellId);
            IntakeInfo intake = await new IntakeTeamClient(olga.Cells).OpenAsync(cell.CellId, 7, 8, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal((cell.CellId, 7, 8), (intake.CellId, intake.RetentionDays, intake.PowDifficulty));
            Assert.Contains(intake.IntakeId, (await new IntakeTeamClient(anna.Cells).ListIntakesAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default)).Select(i => i.IntakeId));
            return new Team(olga, anna, cell.CellId, intake);
        }

        public async ValueTask DisposeAsync()
        {
            await Olga.DisposeAsync();
            await Anna.DisposeAsync();
        }
    }
}
