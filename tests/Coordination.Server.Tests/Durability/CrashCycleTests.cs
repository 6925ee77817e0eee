using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Identity;
using Coordination.Client.Intake;
using Coordination.Client.Messaging;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Durability;

/// <summary>
/// Kill -9 the real server again and again at random points while durable work of every kind is
/// under way, restart it on the same data directory each time, and check after every restart that
/// nothing it acknowledged was lost, undone or duplicated:
/// <list type="bullet">
/// <item>sends: every envelope whose <c>SendAsync</c> returned reaches Bob exactly once, byte for
/// byte, with the sequence number it was acknowledged with; a send left unanswered by the kill,
/// retried with the same message id, is answered (as a duplicate if it had been committed) and is
/// still delivered once;</item>
/// <item>acknowledgements: what Bob acknowledged (and the acknowledgement returned) is never
/// fetched again;</item>
/// <item>task changes: each task is as the last change that returned left it (or as the change
/// left unanswered by the kill would have), with never more holders than it needs;</item>
/// <item>intake reports: every report whose submission returned a receipt is in the intake
/// team's inbox once, opens to what was sent, and its receipt finds it (no replies yet);</item>
/// </list>
/// SIGKILL ends the process, not the machine, so this proves commit-before-acknowledge and
/// recovery from torn work, not the fsync against power loss.
/// </summary>
public sealed class CrashCycleTests : IDisposable
{
    private const int Cycles = 20;
    private const int Senders = 3;
    private const int TaskWorkers = 2;
    private const int Reporters = 2;

    /// <summary>Each kind of work must have had this many acknowledged operations in a cycle before the kill may come.</summary>
    private const int MinEachKindBeforeKill = 3;

    private const int MinKillDelayMilliseconds = 100;
    private const int MaxKillDelayMilliseconds = 600;
    private const int AcknowledgedSendRetries = 3;
    private const int EarlierReceiptChecks = 2;
    private const string Flow = "detention-report";

    /// <summary>Set to an integer to replay a run's kill delays and the choices of every worker.</summary>
    private const string SeedVariable = "COORDINATION_CRASH_CYCLE_SEED";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly CancellationToken None = CancellationToken.None;

    private static readonly string[] s_settings =
    [
        "--RateLimits:IntakeSubmissionsPerMinute=100000",
        "--RateLimits:ReceiptChecksPerMinute=100000",
        "--RateLimits:InviteAttemptsPerMinute=10000",
    ];

    private readonly ITestOutputHelper _output;
    private readonly string _dataDirectory;
    private readonly string _deviceDirectory;

    public CrashCycleTests(ITestOutputHelper output)
    {
        _output = output;
        string name = Guid.NewGuid().ToString("N");
        _dataDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", "crash-cycles-" + name);
        _deviceDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", "crash-cycles-devices-" + name);
        Directory.CreateDirectory(_dataDirectory);
        Directory.CreateDirectory(_deviceDirectory);
    }

    [Fact]
    public async Task Repeated_kills_during_sends_acknowledgements_task_hand_overs_and_intake_reports_lose_undo_and_duplicate_nothing_acknowledged()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        Random random = new(seed);
        Log(string.Create(CultureInfo.InvariantCulture, $"seed {seed} (set {SeedVariable}={seed} to replay kill delays and every worker's choices)"));
        Log($"server: dotnet {ServerProcess.LocateServerDll()} (SQLite in {_dataDirectory})");
        Stopwatch total = Stopwatch.StartNew();

        using People people = People.Create(_deviceDirectory);
        Ledger ledger = new();
        Totals totals = new();
        ServerProcess server = await ServerProcess.StartAsync(_dataDirectory, s_startTimeout, s_settings);
        Session? session = null;
        try
        {
            session = await SetUpAsync(server, people);
            Log(string.Create(CultureInfo.InvariantCulture, $"set up in {total.Elapsed.TotalMilliseconds:0} ms: alice and bob in a direct conversation, olga's cell with anna and boris, an intake"));
            for (int cycle = 1; cycle <= Cycles; cycle++)
            {
                string context = string.Create(CultureInfo.InvariantCulture, $"seed {seed}, cycle {cycle}");
                Stopwatch watch = Stopwatch.StartNew();

                Run run = await RunUntilKilledAsync(server, session, people, ledger, random, cycle, context);
                session.Dispose();
                session = null;
                server.Dispose();

                Stopwatch restart = Stopwatch.StartNew();
                server = await ServerProcess.StartAsync(_dataDirectory, s_startTimeout, s_settings);
                TimeSpan healthy = restart.Elapsed;
                session = await Session.LogInAsync(server, people);
                TimeSpan restartTime = restart.Elapsed;

                // The three checks touch disjoint parts of the ledger, so they run at once.
                Stopwatch verify = Stopwatch.StartNew();
                Outcome outcome = new();
                Random sendChecks = new(random.Next());
                Random reportChecks = new(random.Next());
                await Task.WhenAll(
                    Task.Run(() => VerifySendsAsync(session, people, ledger, sendChecks, outcome, server, context)),
                    Task.Run(() => VerifyTasksAsync(session, people, ledger, outcome, context)),
                    Task.Run(() => VerifyReportsAsync(session, people, ledger, reportChecks, outcome, cycle, context)));
                totals.Add(run, outcome);

                Log(string.Create(CultureInfo.InvariantCulture,
                    $"cycle {cycle}: killed {run.KillAfter.TotalMilliseconds:0} ms into the run ({run.KillDelay.TotalMilliseconds:0} ms after every kind had {MinEachKindBeforeKill}, {run.Slowest} last); " +
                    $"acknowledged {run.Sends} sends, {run.Acks} acknowledgements by bob, {run.TaskChanges} task changes ({run.HandOvers} hand-overs), {run.Reports} reports; " +
                    $"unanswered: {outcome.UnansweredSends} sends ({outcome.CommittedSends} committed), {(run.AckInFlight ? "an" : "no")} acknowledgement, " +
                    $"{outcome.UnansweredTaskChanges} task changes ({outcome.CommittedTaskChanges} committed), {outcome.UnansweredReports} reports ({outcome.CommittedReports} committed); " +
                    $"{outcome.Redelivered} unacknowledged envelopes fetched again; restart {restartTime.TotalMilliseconds:0} ms (healthy after {healthy.TotalMilliseconds:0}), checks {verify.Elapsed.TotalMilliseconds:0} ms, cycle {watch.Elapsed.TotalMilliseconds:0} ms"));
            }
        }
        finally
        {
            session?.Dispose();
            server.Dispose();
        }

        Log(string.Create(CultureInfo.InvariantCulture,
            $"{Cycles} kill/restart cycles in {total.Elapsed.TotalSeconds:0.0} s; acknowledged {totals.Sends} sends, {totals.Acks} acknowledgements, " +
            $"{totals.TaskChanges} task changes ({totals.HandOvers} hand-overs) on {ledger.Tasks.Count} tasks, {totals.Reports} reports; " +
            $"unanswered at the kills: {totals.UnansweredSends} sends ({totals.CommittedSends} committed), {totals.UnansweredTaskChanges} task changes ({totals.CommittedTaskChanges} committed), " +
            $"{totals.UnansweredReports} reports ({totals.CommittedReports} committed), {totals.AcksInFlight} acknowledgements"));
    }

    public void Dispose()
    {
        foreach (string directory in new[] { _dataDirectory, _deviceDirectory })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// On the first server process: the five accounts, Alice and Bob's direct conversation, Olga's
    /// cell with Anna and Boris as members whose ceiling is high, and an intake at the lowest
    /// proof-of-work difficulty the relay allows.
    /// </summary>
    private static async Task<Session> SetUpAsync(ServerProcess server, People people)
    {
        Session session = Session.Open(server, people);
        try
        {
            foreach ((RelayApi api, DeviceIdentity identity) in session.Accounts(people))
            {
                await api.RegisterAccountAsync(identity).WaitAsync(s_timeout);
            }

            await session.LogInAsync(people);
            people.Conversation = (await session.Alice.OpenDirectConversationAsync(people.Bob.AccountId).WaitAsync(s_timeout)).ConversationId;

            CellView cell = await session.OlgaCells.CreateAsync(ConversationKind.Cell, "Crash cycles", null, "Olga", null, None).WaitAsync(s_timeout);
            people.CellId = cell.CellId;
            people.OlgaMembership = cell.Membership.MembershipId;
            people.AnnaMembership = await AdmitAsync(session.OlgaCells, session.AnnaCells, cell.CellId, "Anna");
            people.BorisMembership = await AdmitAsync(session.OlgaCells, session.BorisCells, cell.CellId, "Boris");
            IntakeInfo intake = await session.OlgaIntake.OpenAsync(cell.CellId, 30, IntakeTeamClient.MinPowDifficulty, None).WaitAsync(s_timeout);
            people.IntakeId = intake.IntakeId;
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static async Task<Guid> AdmitAsync(CellClient organizer, CellClient member, Guid cellId, string name)
    {
        string code = await organizer.InviteAsync(cellId, MemberRole.Member, RiskLevel.High, 1, TimeSpan.FromHours(1), 0, None).WaitAsync(s_timeout);
        JoinResult joined = await member.JoinAsync(code, name, None).WaitAsync(s_timeout);
        Assert.True(joined.Admitted, $"{name} was not admitted to the cell.");
        return joined.Cell!.Membership.MembershipId;
    }

    /// <summary>
    /// Every kind of work at once until the kill: Alice's senders, Bob fetching and acknowledging,
    /// task workers handing tasks over between Anna and Boris, and anonymous reporters. Once each
    /// kind has <see cref="MinEachKindBeforeKill"/> acknowledged operations, a random
    /// 100–600 ms later the server gets SIGKILL.
    /// </summary>
    private static async Task<Run> RunUntilKilledAsync(ServerProcess server, Session session, People people, Ledger ledger, Random random, int cycle, string context)
    {
        Run run = new();
        int[] seeds = [.. Enumerable.Range(0, Senders + 1 + TaskWorkers).Select(_ => random.Next())];
        TimeSpan killDelay = TimeSpan.FromMilliseconds(random.Next(MinKillDelayMilliseconds, MaxKillDelayMilliseconds + 1));
        Stopwatch elapsed = Stopwatch.StartNew();
        List<Task> workers =
        [
            .. Enumerable.Range(0, Senders).Select(sender => Task.Run(() => SendLoopAsync(run, session.Alice, people.Conversation, ledger, new Random(seeds[sender]), cycle, sender))),
            Task.Run(() => AcknowledgeLoopAsync(run, session.Bob, people.Conversation, ledger, new Random(seeds[Senders]), context)),
            .. Enumerable.Range(0, TaskWorkers).Select(worker => Task.Run(() => TaskLoopAsync(run, session, people, ledger, new Random(seeds[Senders + 1 + worker]), cycle, worker))),
            .. Enumerable.Range(0, Reporters).Select(reporter => Task.Run(() => ReportLoopAsync(run, session.Reporter, people.IntakeId, ledger, cycle, reporter))),
        ];

        while (!run.EveryKindHas(MinEachKindBeforeKill) && elapsed.Elapsed < s_timeout && !workers.Exists(t => t.IsCompleted))
        {
            run.Slowest = run.SlowestKind(MinEachKindBeforeKill);
            await Task.Delay(10);
        }

        Assert.True(run.EveryKindHas(MinEachKindBeforeKill) || workers.Exists(t => t.IsCompleted), string.Create(CultureInfo.InvariantCulture,
            $"{context}: {elapsed.Elapsed.TotalSeconds:0.0} s into the run only {run.Sends} sends, {run.Acks} acknowledgements, {run.TaskChanges} task changes and {run.Reports} reports were acknowledged.{Environment.NewLine}{server.Output}"));

        // Keep working until the kill (unless a worker already stopped: its error is reported below).
        Stopwatch delay = Stopwatch.StartNew();
        while (delay.Elapsed < killDelay && !workers.Exists(t => t.IsCompleted))
        {
            await Task.Delay(10);
        }

        // A worker that stopped before the kill either failed an assertion (rethrown here) or saw an error.
        await Task.WhenAll(workers.Where(t => t.IsCompleted));
        Assert.True(run.ErrorsBeforeKill.IsEmpty && !workers.Exists(t => t.IsCompleted), string.Create(CultureInfo.InvariantCulture,
            $"{context}: work failed before the server was killed: {Describe(run.ErrorsBeforeKill)}{Environment.NewLine}{server.Output}"));

        run.KillDelay = delay.Elapsed;
        run.KillAfter = elapsed.Elapsed;
        Volatile.Write(ref run.Killed, 1);
        int exitCode = await server.KillAsync(s_timeout);
        await Task.WhenAll(workers).WaitAsync(s_timeout);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(exitCode == 128 + 9, string.Create(CultureInfo.InvariantCulture, $"{context}: the server exited with {exitCode}, not by SIGKILL (137)."));
        }

        Assert.True(run.ErrorsBeforeKill.IsEmpty, string.Create(CultureInfo.InvariantCulture,
            $"{context}: work failed before the server was killed: {Describe(run.ErrorsBeforeKill)}{Environment.NewLine}{server.Output}"));
        run.AckInFlight = ledger.Bob.PendingAck is not null;
        return run;
    }

    // The workers. Each stops at its first failed call: after the kill that is the kill; before it, an error the run reports.

    private static async Task SendLoopAsync(Run run, RelayApi alice, Guid conversation, Ledger ledger, Random random, int cycle, int sender)
    {
        for (int i = 0; ; i++)
        {
            SendEnvelope envelope = TestDevice.Envelope(conversation, MessageText(random, cycle, sender, i));
            Assert.True(ledger.Sent.TryAdd(envelope.MessageId, envelope));
            SendResult result;
            try
            {
                result = await alice.SendAsync(envelope).WaitAsync(s_timeout);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                run.Stopped(ex);
                return;
            }

            Assert.Equal(envelope.MessageId, result.MessageId);
            Assert.False(result.Duplicate, $"A first send of {envelope.MessageId} was answered as a duplicate.");
            Assert.True(ledger.SendSeq.TryAdd(envelope.MessageId, result.Seq));
            Interlocked.Increment(ref run.Sends);
        }
    }

    /// <summary>Bob fetches a page (of a random size), checks it, and acknowledges up to its last envelope; again and again.</summary>
    private static async Task AcknowledgeLoopAsync(Run run, RelayApi bob, Guid conversation, Ledger ledger, Random random, string context)
    {
        while (true)
        {
            try
            {
                InboxPage page = await bob.FetchAsync(random.Next(1, 65)).WaitAsync(s_timeout);
                if (page.Envelopes.Count == 0)
                {
                    // Nothing yet: wait a moment for Alice rather than spin.
                    await Task.Delay(random.Next(2, 15));
                    continue;
                }

                ledger.Bob.Record(page.Envelopes, conversation, ledger.Sent, afterRestart: false, context);
                long upTo = page.Envelopes.Max(e => e.Seq);
                ledger.Bob.PendingAck = upTo;
                await bob.AckAsync([new Ack(conversation, upTo)]).WaitAsync(s_timeout);
                ledger.Bob.Confirm(upTo);
                Interlocked.Increment(ref run.Acks);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                run.Stopped(ex);
                return;
            }
        }
    }

    /// <summary>
    /// Olga creates a one-person task and offers it to Anna or Boris; then, a few times, the holder
    /// accepts, or hands it over to the other (themselves, or Olga on their behalf); sometimes the
    /// holder finishes it. Then the next task.
    /// </summary>
    private static async Task TaskLoopAsync(Run run, Session session, People people, Ledger ledger, Random random, int cycle, int worker)
    {
        (Guid Membership, TaskClient Tasks)[] members = [(people.AnnaMembership, session.AnnaTasks), (people.BorisMembership, session.BorisTasks)];
        for (int n = 0; ; n++)
        {
            TaskRecord task = new(string.Create(CultureInfo.InvariantCulture, $"cycle {cycle} worker {worker} task {n}"));
            Assert.True(ledger.Tasks.TryAdd(task.Title, task));
            RiskLevel risk = (RiskLevel)random.Next((int)RiskLevel.Low, (int)RiskLevel.High + 1);
            if (!await StepAsync(run, task, TaskExpectation.Open, false,
                () => session.OlgaTasks.CreateAsync(people.CellId, risk, task.Title, "Kept across crashes.", [], 1, null, None)))
            {
                return;
            }

            int holder = random.Next(members.Length);
            if (!await StepAsync(run, task, new TaskExpectation(true, members[holder].Membership, AssignmentState.Offered), false,
                () => session.OlgaTasks.OfferAsync(task.Id!.Value, members[holder].Membership, None)))
            {
                return;
            }

            int steps = random.Next(2, 7);
            for (int step = 0; step < steps; step++)
            {
                (Guid membership, TaskClient tasks) = members[holder];
                if (task.Confirmed.Part == AssignmentState.Offered && random.Next(2) == 0)
                {
                    if (!await StepAsync(run, task, task.Confirmed with { Part = AssignmentState.Accepted }, false, () => tasks.AcceptAsync(task.Id!.Value, None)))
                    {
                        return;
                    }

                    continue;
                }

                int other = 1 - holder;
                Guid to = members[other].Membership;
                bool byOrganizer = random.Next(2) == 0;
                if (!await StepAsync(run, task, new TaskExpectation(true, to, AssignmentState.Offered), true, () => byOrganizer
                    ? session.OlgaTasks.HandOverAsync(task.Id!.Value, to, membership, None)
                    : tasks.HandOverAsync(task.Id!.Value, to, null, None)))
                {
                    return;
                }

                holder = other;
            }

            if (task.Confirmed.Part == AssignmentState.Accepted && random.Next(3) == 0
                && !await StepAsync(run, task, task.Confirmed with { Part = AssignmentState.Done }, false, () => members[holder].Tasks.DoneAsync(task.Id!.Value, None)))
            {
                return;
            }
        }
    }

    /// <summary>One task change: in doubt while the call is out, confirmed once it returned (and the relay's answer shows it).</summary>
    private static async Task<bool> StepAsync(Run run, TaskRecord task, TaskExpectation expected, bool handOver, Func<Task<TaskView>> change)
    {
        task.Pending = expected;
        TaskView view;
        try
        {
            view = await change().WaitAsync(s_timeout);
        }
        catch (Exception ex) when (IsLostConnection(ex))
        {
            run.Stopped(ex);
            return false;
        }

        task.Id ??= view.TaskId;
        Assert.True(task.Id == view.TaskId && Matches(view, task.Title, expected),
            $"The relay answered a change of '{task.Title}' with {Describe(view)}; expected {expected}.");
        task.Confirmed = expected;
        task.Pending = null;
        Interlocked.Increment(ref run.TaskChanges);
        if (handOver)
        {
            Interlocked.Increment(ref run.HandOvers);
        }

        return true;
    }

    /// <summary>An anonymous reporter (no account) submits sealed reports, each carrying a marker the team can find it by.</summary>
    private static async Task ReportLoopAsync(Run run, ReporterClient reporter, Guid intakeId, Ledger ledger, int cycle, int loop)
    {
        string today = DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        for (int n = 0; ; n++)
        {
            string marker = string.Create(CultureInfo.InvariantCulture, $"crash cycle {cycle} reporter {loop} report {n} {Guid.NewGuid():N}");
            Assert.True(ledger.ReportsAttempted.TryAdd(marker, cycle));
            Dictionary<string, string> answers = new()
            {
                ["what"] = marker,
                ["when"] = today,
                ["where"] = "By the old bridge",
                ["consent"] = "yes",
            };
            SubmittedReport submitted;
            try
            {
                submitted = await reporter.SubmitSealedAsync(intakeId, Flow, "en", answers, None).WaitAsync(s_timeout);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                run.Stopped(ex);
                return;
            }

            Assert.True(ledger.ReportsAcknowledged.TryAdd(marker, submitted.Receipt));
            Interlocked.Increment(ref run.Reports);
        }
    }

    // The checks after each restart.

    /// <summary>
    /// Retries a few acknowledged sends (answered as duplicates with the same seq) and every
    /// unanswered one (answered, as a duplicate if it had been committed); then drains Bob's inbox
    /// and checks that every send so far reached him exactly once, with its acknowledged seq.
    /// </summary>
    private static async Task VerifySendsAsync(Session session, People people, Ledger ledger, Random random, Outcome outcome, ServerProcess server, string context)
    {
        Guid[] acknowledged = [.. ledger.SendSeq.Keys.Order()];
        random.Shuffle(acknowledged);
        foreach (Guid id in acknowledged.Take(AcknowledgedSendRetries))
        {
            SendResult retry = await session.Alice.SendAsync(ledger.Sent[id]).WaitAsync(s_timeout);
            Assert.True(retry.Duplicate && retry.Seq == ledger.SendSeq[id], string.Create(CultureInfo.InvariantCulture,
                $"{context}: the retry of acknowledged send {id} (seq {ledger.SendSeq[id]}) after the restart was answered with seq {retry.Seq}, duplicate {retry.Duplicate}."));
        }

        foreach (Guid id in ledger.Sent.Keys.Where(id => !ledger.SendSeq.ContainsKey(id)).Order())
        {
            outcome.UnansweredSends++;
            SendResult retry = await session.Alice.SendAsync(ledger.Sent[id]).WaitAsync(s_timeout);
            Assert.Equal(id, retry.MessageId);
            if (retry.Duplicate)
            {
                outcome.CommittedSends++;
            }

            if (ledger.Bob.Seen.TryGetValue(id, out long seen))
            {
                Assert.True(retry.Duplicate && retry.Seq == seen, string.Create(CultureInfo.InvariantCulture,
                    $"{context}: bob had received unanswered send {id} as seq {seen} before the kill, but its retry was answered with seq {retry.Seq}, duplicate {retry.Duplicate}."));
            }

            Assert.True(ledger.SendSeq.TryAdd(id, retry.Seq));
        }

        int before = ledger.Bob.Redelivered;
        for (int page = 0; ; page++)
        {
            Assert.True(page < 1000, $"{context}: bob's inbox did not drain in 1000 pages.");
            InboxPage inbox = await session.Bob.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(s_timeout);
            if (inbox.Envelopes.Count == 0)
            {
                Assert.False(inbox.More, $"{context}: bob's inbox page is empty but says there is more.");
                break;
            }

            ledger.Bob.Record(inbox.Envelopes, people.Conversation, ledger.Sent, afterRestart: true, context);
            long upTo = inbox.Envelopes.Max(e => e.Seq);
            await session.Bob.AckAsync([new Ack(people.Conversation, upTo)]).WaitAsync(s_timeout);
            ledger.Bob.Confirm(upTo);
        }

        ledger.Bob.PendingAck = null;
        outcome.Redelivered = ledger.Bob.Redelivered - before;

        List<KeyValuePair<Guid, long>> lost = [.. ledger.SendSeq.Where(p => !ledger.Bob.Seen.ContainsKey(p.Key)).OrderBy(p => p.Value)];
        Assert.True(lost.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{context}: {lost.Count} of {ledger.SendSeq.Count} acknowledged or retried sends never reached bob, e.g. " +
            $"{string.Join(", ", lost.Take(10).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} (seq {p.Value})")))}.{Environment.NewLine}{server.Output}"));
        List<KeyValuePair<Guid, long>> moved = [.. ledger.SendSeq.Where(p => ledger.Bob.Seen[p.Key] != p.Value).OrderBy(p => p.Value)];
        Assert.True(moved.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{context}: {moved.Count} sends reached bob under another seq than they were acknowledged with, e.g. " +
            $"{string.Join(", ", moved.Take(10).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} (acknowledged {p.Value}, delivered {ledger.Bob.Seen[p.Key]})")))}."));
        Assert.True(ledger.Bob.Seen.Count == ledger.SendSeq.Count, string.Create(CultureInfo.InvariantCulture,
            $"{context}: bob received {ledger.Bob.Seen.Count} distinct envelopes, but {ledger.SendSeq.Count} were sent."));
    }

    /// <summary>
    /// Every task as Olga lists it after the restart: as its last confirmed change left it, or as
    /// the change the kill left unanswered would have; a task that was never confirmed created
    /// may exist only if its creation was the unanswered change. No task twice, never more
    /// holders than it needs.
    /// </summary>
    private static async Task VerifyTasksAsync(Session session, People people, Ledger ledger, Outcome outcome, string context)
    {
        List<TaskView> listed = await session.OlgaTasks.ListAsync(people.CellId, None).WaitAsync(s_timeout);
        Dictionary<string, TaskView> byTitle = [];
        foreach (TaskView view in listed)
        {
            Assert.True(ledger.Tasks.ContainsKey(view.Title), $"{context}: the cell has a task '{view.Title}' ({view.TaskId}) nobody created.");
            Assert.True(byTitle.TryAdd(view.Title, view), $"{context}: the task '{view.Title}' is there twice ({byTitle.GetValueOrDefault(view.Title)?.TaskId} and {view.TaskId}).");
            List<AssignmentInfo> parts = [.. view.Assignments.Where(a => a.State is AssignmentState.Offered or AssignmentState.Accepted or AssignmentState.Done)];
            Assert.True(parts.Count <= view.PeopleNeeded, string.Create(CultureInfo.InvariantCulture,
                $"{context}: '{view.Title}' needs {view.PeopleNeeded} people but {parts.Count} hold it: {Describe(view, people)}."));
            Assert.True(view.Assignments.Select(a => a.MembershipId).Distinct().Count() == view.Assignments.Count,
                $"{context}: '{view.Title}' lists a membership twice: {Describe(view, people)}.");
        }

        foreach (TaskRecord task in ledger.Tasks.Values.OrderBy(t => t.Title, StringComparer.Ordinal))
        {
            TaskView? view = byTitle.GetValueOrDefault(task.Title);
            if (task.Pending is { } pending)
            {
                outcome.UnansweredTaskChanges++;
                if (!Matches(view, task.Title, task.Confirmed) && Matches(view, task.Title, pending))
                {
                    outcome.CommittedTaskChanges++;
                    task.Confirmed = pending;
                }
            }

            Assert.True(Matches(view, task.Title, task.Confirmed), string.Create(CultureInfo.InvariantCulture,
                $"{context}: after the restart '{task.Title}' is {Describe(view, people)}; the last change that returned left it {Describe(task.Confirmed, people)}" +
                $"{(task.Pending is { } p ? $", and the change left unanswered would have left it {Describe(p, people)}" : string.Empty)}."));
            if (view is not null)
            {
                Assert.True(task.Id is null || task.Id == view.TaskId, $"{context}: '{task.Title}' was created as {task.Id} but is now {view.TaskId}.");
                task.Id = view.TaskId;
            }

            task.Pending = null;
        }
    }

    /// <summary>
    /// Olga's inbox after the restart: every report that got a receipt is there once and opens to
    /// what was sent with that receipt; a report left unanswered by the kill is there at most once
    /// (and from then on must stay, or stay away); nothing else. The receipts of this cycle, and a
    /// few earlier ones, find their report: no replies yet.
    /// </summary>
    private static async Task VerifyReportsAsync(Session session, People people, Ledger ledger, Random random, Outcome outcome, int cycle, string context)
    {
        List<IntakeReportView> inbox = await session.OlgaIntake.InboxAsync(people.CellId, None).WaitAsync(s_timeout);
        Assert.True(inbox.Select(r => r.ReportId).Distinct().Count() == inbox.Count, $"{context}: the inbox lists a report twice.");
        Dictionary<string, IntakeReportView> byMarker = [];
        foreach (IntakeReportView report in inbox)
        {
            Assert.True(report.Content is not null, $"{context}: report {report.ReportId} does not open: {report.Failure}");
            Assert.True(report.Content.Answers.TryGetValue("what", out string? marker) && ledger.ReportsAttempted.ContainsKey(marker),
                $"{context}: report {report.ReportId} is not one the reporter sent.");
            Assert.True(byMarker.TryAdd(marker, report), $"{context}: the report '{marker}' is in the inbox twice ({byMarker.GetValueOrDefault(marker)?.ReportId} and {report.ReportId}).");
            Assert.Equal((Flow, "en", people.IntakeId), (report.Content.Flow, report.Content.Language, report.IntakeId));
        }

        List<string> checkReceipts = [];
        foreach ((string marker, int attemptedIn) in ledger.ReportsAttempted.Where(p => p.Value == cycle))
        {
            if (ledger.ReportsAcknowledged.TryGetValue(marker, out string? receipt))
            {
                ledger.ReportsExpected.Add(marker, receipt);
                checkReceipts.Add(receipt);
                continue;
            }

            outcome.UnansweredReports++;
            if (byMarker.TryGetValue(marker, out IntakeReportView? committed))
            {
                outcome.CommittedReports++;
                ledger.ReportsExpected.Add(marker, committed.Content!.Receipt);
                checkReceipts.Add(committed.Content.Receipt);
            }
            else
            {
                ledger.ReportsAbsent.Add(marker);
            }
        }

        List<string> missing = [.. ledger.ReportsExpected.Keys.Where(m => !byMarker.ContainsKey(m)).Order(StringComparer.Ordinal)];
        Assert.True(missing.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{context}: {missing.Count} of {ledger.ReportsExpected.Count} reports that got a receipt are not in the inbox after the restart, e.g. {string.Join(", ", missing.Take(5))}."));
        List<string> wrongReceipt = [.. ledger.ReportsExpected.Where(p => byMarker[p.Key].Content!.Receipt != p.Value).Select(p => p.Key)];
        Assert.True(wrongReceipt.Count == 0, $"{context}: reports that open with another receipt than the reporter got: {string.Join(", ", wrongReceipt.Take(5))}.");
        List<string> back = [.. ledger.ReportsAbsent.Where(byMarker.ContainsKey)];
        Assert.True(back.Count == 0, $"{context}: reports that were not in the inbox after an earlier restart appeared later: {string.Join(", ", back.Take(5))}.");
        Assert.True(inbox.Count == ledger.ReportsExpected.Count, string.Create(CultureInfo.InvariantCulture,
            $"{context}: the inbox holds {inbox.Count} reports; {ledger.ReportsExpected.Count} were acknowledged or found committed."));

        // Each check costs the relay an Argon2id computation: two at a time, as many as it computes at once on two cores.
        string[] earlier = [.. ledger.ReportsExpected.Values.Except(checkReceipts).Order(StringComparer.Ordinal)];
        random.Shuffle(earlier);
        await Parallel.ForEachAsync(checkReceipts.Concat(earlier.Take(EarlierReceiptChecks)), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (receipt, ct) =>
        {
            List<ReceivedReply> replies;
            try
            {
                replies = await session.Reporter.CheckRepliesAsync(receipt, ct).WaitAsync(s_timeout, ct);
            }
            catch (RelayApiException ex) when (ex.Status == HttpStatusCode.NotFound)
            {
                Assert.Fail($"{context}: a receipt the relay issued finds no report after the restart ({ex.Message}).");
                throw;
            }

            Assert.True(replies.Count == 0, $"{context}: a report nobody replied to has replies.");
        }).WaitAsync(s_timeout);
    }

    // Helpers.

    /// <summary>The failures a kill causes in a client: the connection is reset or refused, the answer cut short.</summary>
    private static bool IsLostConnection(Exception ex) =>
        ex is HttpRequestException or IOException or OperationCanceledException or TimeoutException or RelayApiException or JsonException;

    private static bool Matches(TaskView? view, string title, TaskExpectation expected)
    {
        if (!expected.Exists || view is null)
        {
            return !expected.Exists && view is null;
        }

        List<AssignmentInfo> parts = [.. view.Assignments.Where(a => a.State is AssignmentState.Offered or AssignmentState.Accepted or AssignmentState.Done)];
        bool othersGaveItUp = view.Assignments.Except(parts).All(a => a.State == AssignmentState.Withdrawn);
        TaskState state = expected.Part switch
        {
            null => TaskState.Open,
            AssignmentState.Offered => TaskState.Offered,
            AssignmentState.Accepted => TaskState.Accepted,
            _ => TaskState.Done,
        };
        bool holder = expected.Holder is null
            ? parts.Count == 0
            : parts.Count == 1 && parts[0].MembershipId == expected.Holder && parts[0].State == expected.Part;
        return view.Title == title && view.PeopleNeeded == 1 && view.State == state && holder && othersGaveItUp;
    }

    private static string Describe(TaskExpectation expected, People people) =>
        !expected.Exists ? "not created"
        : expected.Holder is not { } holder ? "open, held by nobody"
        : $"{expected.Part} by {people.NameOf(holder)}";

    private static string Describe(TaskView? view, People? people = null) =>
        view is null ? "absent"
        : $"{view.State} ({(view.Assignments.Count == 0 ? "no parts" : string.Join(", ", view.Assignments.Select(a => $"{people?.NameOf(a.MembershipId) ?? a.MembershipId.ToString()} {a.State}")))})";

    private static string Describe(IEnumerable<Exception> errors) =>
        string.Join("; ", errors.Take(5).Select(e => $"{e.GetType().Name}: {e.Message}"));

    /// <summary>Mostly short messages, some that need the larger buckets.</summary>
    private static string MessageText(Random random, int cycle, int sender, int index)
    {
        int roll = random.Next(100);
        int length = roll < 80 ? random.Next(1, 200) : roll < 95 ? random.Next(300, 950) : random.Next(1200, 4000);
        string label = string.Create(CultureInfo.InvariantCulture, $"cycle {cycle} sender {sender} message {index} ");
        return label.Length >= length ? label : label + new string('.', length - label.Length);
    }

    private void Log(string line) => _output.WriteLine(line);

    /// <summary>Where one person's task stands: created or not, and who holds it how.</summary>
    private sealed record TaskExpectation(bool Exists, Guid? Holder, AssignmentState? Part)
    {
        public static TaskExpectation Absent { get; } = new(false, null, null);

        public static TaskExpectation Open { get; } = new(true, null, null);
    }

    private sealed class TaskRecord(string title)
    {
        public string Title { get; } = title;

        public Guid? Id { get; set; }

        /// <summary>As the last change that returned left it.</summary>
        public TaskExpectation Confirmed { get; set; } = TaskExpectation.Absent;

        /// <summary>As the change under way (or left unanswered by the kill) would leave it.</summary>
        public TaskExpectation? Pending { get; set; }
    }

    /// <summary>What Bob was given and what he acknowledged, over all cycles.</summary>
    private sealed class BobInbox
    {
        private readonly Dictionary<long, Guid> _bySeq = [];

        /// <summary>Every envelope Bob was given: message id to seq.</summary>
        public Dictionary<Guid, long> Seen { get; } = [];

        /// <summary>The highest seq whose acknowledgement returned.</summary>
        public long ConfirmedAck { get; private set; }

        /// <summary>An acknowledgement under way (or left unanswered by the kill).</summary>
        public long? PendingAck { get; set; }

        public int Redelivered { get; private set; }

        public void Record(IReadOnlyList<EnvelopeDelivery> envelopes, Guid conversation, ConcurrentDictionary<Guid, SendEnvelope> sent, bool afterRestart, string context)
        {
            foreach (EnvelopeDelivery envelope in envelopes)
            {
                string what = string.Create(CultureInfo.InvariantCulture, $"{context}: bob was given {envelope.MessageId} (seq {envelope.Seq})");
                Assert.True(envelope.ConversationId == conversation, $"{what} of another conversation {envelope.ConversationId}.");
                Assert.True(envelope.Seq > ConfirmedAck, string.Create(CultureInfo.InvariantCulture,
                    $"{what} although his acknowledgement up to seq {ConfirmedAck} had returned: an acknowledgement was undone."));
                Assert.True(sent.TryGetValue(envelope.MessageId, out SendEnvelope? original), $"{what}, which alice never sent.");
                Assert.True(original.Ciphertext.AsSpan().SequenceEqual(envelope.Ciphertext), string.Create(CultureInfo.InvariantCulture,
                    $"{what} with {envelope.Ciphertext.Length} bytes that differ from the {original.Ciphertext.Length} bytes sent."));
                if (Seen.TryGetValue(envelope.MessageId, out long seq))
                {
                    Assert.True(seq == envelope.Seq, string.Create(CultureInfo.InvariantCulture, $"{what}, which he had been given before as seq {seq}: it is stored twice."));
                    Assert.True(afterRestart, $"{what} a second time, without a restart in between.");
                    Redelivered++;
                }
                else
                {
                    Assert.True(_bySeq.TryAdd(envelope.Seq, envelope.MessageId), string.Create(CultureInfo.InvariantCulture,
                        $"{what}, but seq {envelope.Seq} was {_bySeq.GetValueOrDefault(envelope.Seq)} before."));
                    Seen.Add(envelope.MessageId, envelope.Seq);
                }
            }
        }

        public void Confirm(long upTo)
        {
            ConfirmedAck = Math.Max(ConfirmedAck, upTo);
            PendingAck = null;
        }
    }

    /// <summary>Everything attempted and acknowledged, over all cycles.</summary>
    private sealed class Ledger
    {
        /// <summary>Every envelope Alice tried to send.</summary>
        public ConcurrentDictionary<Guid, SendEnvelope> Sent { get; } = new();

        /// <summary>The seq of every send that was acknowledged, or answered when retried after a restart.</summary>
        public ConcurrentDictionary<Guid, long> SendSeq { get; } = new();

        public BobInbox Bob { get; } = new();

        public ConcurrentDictionary<string, TaskRecord> Tasks { get; } = new(StringComparer.Ordinal);

        /// <summary>Every report submission tried: its marker and cycle.</summary>
        public ConcurrentDictionary<string, int> ReportsAttempted { get; } = new(StringComparer.Ordinal);

        /// <summary>Reports whose submission returned: marker to receipt.</summary>
        public ConcurrentDictionary<string, string> ReportsAcknowledged { get; } = new(StringComparer.Ordinal);

        /// <summary>Reports that must be in the inbox: acknowledged, or found committed after the kill left them unanswered.</summary>
        public Dictionary<string, string> ReportsExpected { get; } = new(StringComparer.Ordinal);

        /// <summary>Unanswered reports that were not committed: they must never appear.</summary>
        public HashSet<string> ReportsAbsent { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>One cycle's work until the kill.</summary>
    private sealed class Run
    {
        public int Killed;
        public int Sends;
        public int Acks;
        public int TaskChanges;
        public int HandOvers;
        public int Reports;

        public ConcurrentQueue<Exception> ErrorsBeforeKill { get; } = new();

        public TimeSpan KillAfter { get; set; }

        public TimeSpan KillDelay { get; set; }

        public bool AckInFlight { get; set; }

        /// <summary>The last kind of work to reach its minimum before the kill.</summary>
        public string Slowest { get; set; } = "none";

        public bool EveryKindHas(int count) =>
            Volatile.Read(ref Sends) >= count && Volatile.Read(ref Acks) >= count && Volatile.Read(ref TaskChanges) >= count && Volatile.Read(ref Reports) >= count;

        /// <summary>The kinds still short of <paramref name="count"/> acknowledged operations.</summary>
        public string SlowestKind(int count) =>
            string.Join(" and ", new[]
            {
                Volatile.Read(ref Sends) < count ? "sends" : null,
                Volatile.Read(ref Acks) < count ? "acknowledgements" : null,
                Volatile.Read(ref TaskChanges) < count ? "task changes" : null,
                Volatile.Read(ref Reports) < count ? "reports" : null,
            }.OfType<string>());

        public void Stopped(Exception ex)
        {
            if (Volatile.Read(ref Killed) == 0)
            {
                ErrorsBeforeKill.Enqueue(ex);
            }
        }
    }

    /// <summary>What one restart showed about the work the kill left unanswered.</summary>
    private sealed class Outcome
    {
        public int UnansweredSends { get; set; }

        public int CommittedSends { get; set; }

        public int UnansweredTaskChanges { get; set; }

        public int CommittedTaskChanges { get; set; }

        public int UnansweredReports { get; set; }

        public int CommittedReports { get; set; }

        public int Redelivered { get; set; }
    }

    private sealed class Totals
    {
        public int Sends { get; private set; }

        public int Acks { get; private set; }

        public int TaskChanges { get; private set; }

        public int HandOvers { get; private set; }

        public int Reports { get; private set; }

        public int AcksInFlight { get; private set; }

        public int UnansweredSends { get; private set; }

        public int CommittedSends { get; private set; }

        public int UnansweredTaskChanges { get; private set; }

        public int CommittedTaskChanges { get; private set; }

        public int UnansweredReports { get; private set; }

        public int CommittedReports { get; private set; }

        public void Add(Run run, Outcome outcome)
        {
            Sends += run.Sends;
            Acks += run.Acks;
            TaskChanges += run.TaskChanges;
            HandOvers += run.HandOvers;
            Reports += run.Reports;
            AcksInFlight += run.AckInFlight ? 1 : 0;
            UnansweredSends += outcome.UnansweredSends;
            CommittedSends += outcome.CommittedSends;
            UnansweredTaskChanges += outcome.UnansweredTaskChanges;
            CommittedTaskChanges += outcome.CommittedTaskChanges;
            UnansweredReports += outcome.UnansweredReports;
            CommittedReports += outcome.CommittedReports;
        }
    }

    /// <summary>The five people's keys and device stores, and what setup made: they outlive every server process.</summary>
    private sealed class People : IDisposable
    {
        private People(string directory)
        {
            OlgaStore = LocalMessageStore.Open(Path.Combine(directory, "olga"), SecureRandom.Bytes(32));
            AnnaStore = LocalMessageStore.Open(Path.Combine(directory, "anna"), SecureRandom.Bytes(32));
            BorisStore = LocalMessageStore.Open(Path.Combine(directory, "boris"), SecureRandom.Bytes(32));
        }

        public DeviceIdentity Alice { get; } = DeviceIdentity.CreateAccount();

        public DeviceIdentity Bob { get; } = DeviceIdentity.CreateAccount();

        public DeviceIdentity Olga { get; } = DeviceIdentity.CreateAccount();

        public DeviceIdentity Anna { get; } = DeviceIdentity.CreateAccount();

        public DeviceIdentity Boris { get; } = DeviceIdentity.CreateAccount();

        public LocalMessageStore OlgaStore { get; }

        public LocalMessageStore AnnaStore { get; }

        public LocalMessageStore BorisStore { get; }

        public Guid Conversation { get; set; }

        public Guid CellId { get; set; }

        public Guid OlgaMembership { get; set; }

        public Guid AnnaMembership { get; set; }

        public Guid BorisMembership { get; set; }

        public Guid IntakeId { get; set; }

        public static People Create(string directory) => new(directory);

        public string NameOf(Guid membership) =>
            membership == AnnaMembership ? "anna" : membership == BorisMembership ? "boris" : membership == OlgaMembership ? "olga" : membership.ToString();

        public void Dispose()
        {
            foreach (DeviceIdentity identity in new[] { Alice, Bob, Olga, Anna, Boris })
            {
                identity.Dispose();
            }

            OlgaStore.Dispose();
            AnnaStore.Dispose();
            BorisStore.Dispose();
        }
    }

    /// <summary>Everyone's clients for one server process.</summary>
    private sealed class Session : IDisposable
    {
        private Session(ServerProcess server, People people)
        {
            Alice = server.CreateApi();
            Bob = server.CreateApi();
            Olga = server.CreateApi();
            Anna = server.CreateApi();
            Boris = server.CreateApi();
            OlgaCells = new CellClient(people.Olga, Olga, people.OlgaStore);
            AnnaCells = new CellClient(people.Anna, Anna, people.AnnaStore);
            BorisCells = new CellClient(people.Boris, Boris, people.BorisStore);
            OlgaTasks = new TaskClient(OlgaCells);
            AnnaTasks = new TaskClient(AnnaCells);
            BorisTasks = new TaskClient(BorisCells);
            OlgaIntake = new IntakeTeamClient(OlgaCells);
            Reporter = ReporterClient.Create(server.Address, s_timeout);
        }

        public RelayApi Alice { get; }

        public RelayApi Bob { get; }

        public RelayApi Olga { get; }

        public RelayApi Anna { get; }

        public RelayApi Boris { get; }

        public CellClient OlgaCells { get; }

        public CellClient AnnaCells { get; }

        public CellClient BorisCells { get; }

        public TaskClient OlgaTasks { get; }

        public TaskClient AnnaTasks { get; }

        public TaskClient BorisTasks { get; }

        public IntakeTeamClient OlgaIntake { get; }

        /// <summary>A reporter: no account, no session.</summary>
        public ReporterClient Reporter { get; }

        public static Session Open(ServerProcess server, People people) => new(server, people);

        /// <summary>New clients for a (re)started server, everyone logged in again.</summary>
        public static async Task<Session> LogInAsync(ServerProcess server, People people)
        {
            Session session = new(server, people);
            try
            {
                await session.LogInAsync(people);
                return session;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        public async Task LogInAsync(People people) =>
            await Task.WhenAll(Accounts(people).Select(a => a.Api.LoginAsync(a.Identity).WaitAsync(s_timeout)));

        public IEnumerable<(RelayApi Api, DeviceIdentity Identity)> Accounts(People people) =>
            [(Alice, people.Alice), (Bob, people.Bob), (Olga, people.Olga), (Anna, people.Anna), (Boris, people.Boris)];

        public void Dispose()
        {
            foreach (RelayApi api in new[] { Alice, Bob, Olga, Anna, Boris })
            {
                api.Dispose();
            }

            Reporter.Dispose();
        }
    }
}
