using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Coordination.Crypto;

namespace Coordination.Benchmarks;

/// <summary>
/// Runs every scenario once, in one process, on loopback: (a) a bare SignalR broadcast hub, (b) the
/// relay's cell fan-out, (c) the relay's durable direct sends and raw SQLite on the same disk, (d)
/// (b) across two relay nodes sharing PostgreSQL; and, each against its own baseline in the same run,
/// (e) 20 cells at once, (f) a store-and-forward drain, (g) intake reports, (h) racing task assignments,
/// (i) idle connections (servers in child processes). Prints a table and writes latest.json and latest.svg.
/// </summary>
internal static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        // (i) runs each server in a child process: this program with --serve relay|baseline DIR.
        if (args is ["--serve", string kind, string directory])
        {
            Sodium.Initialize();
            return await IdleConnections.ServeAsync(kind, directory);
        }

        BenchmarkOptions? options = BenchmarkOptions.Parse(args);
        if (options is null)
        {
            return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
        }

        Sodium.Initialize();
        if (options.MinThreads > 0)
        {
            ThreadPool.GetMinThreads(out _, out int io);
            ThreadPool.SetMinThreads(options.MinThreads, io);
        }

        // A watchdog: whatever hangs, the run ends (every phase is bounded on its own as well).
        using CancellationTokenSource cancel = new(options.Budget);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        // SIGTERM too (run-benchmarks.sh stopping, a CI timeout): the relay hosts in this process would
        // otherwise take it for themselves and stop, and the run would carry on measuring nothing.
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });

        DateTimeOffset timestamp = DateTimeOffset.UtcNow;
        long started = Stopwatch.GetTimestamp();
        Directory.CreateDirectory(options.DataRoot);
        Progress.Say($"Coordination benchmarks: {Environment.ProcessorCount} cores, data in {options.DataRoot}, results to {options.OutputDirectory}");

        FanOutScenario? baseline = null;
        FanOutScenario? relaySized = null;
        FanOutScenario? group = null;
        DirectScenario? direct = null;
        TwoNodeScenario? twoNodes = null;
        string? twoNodesSkipped = null;
        ManyCellsScenario? manyCells = null;
        DrainScenario? drain = null;
        IntakeScenario? intake = null;
        TaskScenario? tasks = null;
        IdleScenario? idle = null;
        string? idleFailed = null;
        SqliteBaselineResult? sqlite = null;
        CostBreakdown? costs = null;
        try
        {
            if (options.Runs("a"))
            {
                baseline = await BroadcastBaseline.RunAsync(options, BroadcastBaseline.Standard(options), cancel.Token);
            }

            if (options.Runs("a2"))
            {
                relaySized = await BroadcastBaseline.RunAsync(options, BroadcastBaseline.RelaySized(options), cancel.Token);
            }

            if (options.Runs("b"))
            {
                group = await RelayScenarios.RunGroupAsync(options, cancel.Token);
            }

            if (options.Runs("c"))
            {
                direct = await RelayScenarios.RunDirectAsync(options, cancel.Token);
            }

            if (options.Runs("d"))
            {
                (twoNodes, twoNodesSkipped) = await TwoNodeFanOut.RunAsync(options, cancel.Token);
                if (twoNodesSkipped is not null)
                {
                    Progress.Say($"(d) skipped: {twoNodesSkipped}");
                }
            }

            if (options.Runs("e"))
            {
                manyCells = await ManyCells.RunAsync(options, cancel.Token);
            }

            if (options.Runs("f"))
            {
                drain = await StoreAndForward.RunAsync(options, cancel.Token);
            }

            if (options.Runs("g"))
            {
                intake = await IntakeSubmissions.RunAsync(options, cancel.Token);
            }

            if (options.Runs("h"))
            {
                tasks = await TaskRace.RunAsync(options, cancel.Token);
            }

            if (options.Runs("i"))
            {
                try
                {
                    idle = await IdleConnections.RunAsync(options, cancel.Token);
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or TimeoutException)
                {
                    idleFailed = $"{ex.GetType().Name}: {ex.Message}";
                    Progress.Say($"(i) failed: {idleFailed}");
                }
            }

            if (options.Runs("sqlite"))
            {
                sqlite = SqliteBaseline.Run(options);
            }

            if (options.Runs("costs"))
            {
                Progress.Say("(costs) per-message client and server JSON costs");
                costs = Diagnostics.MeasureMessageCosts(options.BaselinePayloadBytes);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine(Stopwatch.GetElapsedTime(started) >= options.Budget
                ? $"Stopped: the run exceeded its time budget of {options.Budget.TotalSeconds:F0} s."
                : "Cancelled.");
            return 130;
        }
        finally
        {
            if (!options.KeepData)
            {
                DeleteQuietly(options.DataRoot);
            }
        }

        BenchmarkReport report = new(
            timestamp,
            Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1),
            MachineInfo.Describe(options.DataRoot, sqlite?.SqliteVersion),
            Settings(options),
            baseline,
            relaySized,
            group,
            twoNodes,
            direct,
            manyCells,
            drain,
            intake,
            tasks,
            idle,
            sqlite,
            costs,
            Report.Ratios(baseline, relaySized, group, twoNodes, direct, sqlite, manyCells, drain, intake, tasks, idle),
            Observations(options, baseline, relaySized, group, twoNodes, twoNodesSkipped, direct, manyCells, drain, intake, tasks, idle, idleFailed));

        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Coordination relay benchmark, {report.Timestamp:yyyy-MM-dd HH:mm:ss} UTC, {report.RunSeconds} s"));
        Console.WriteLine($"{report.Machine.Cores} cores ({report.Machine.Cpu}), {report.Machine.Os}, {report.Machine.Dotnet}, libsodium {report.Machine.Libsodium}, SQLite {report.Machine.Sqlite ?? "n/a"}, {report.Machine.Gc} GC");
        Console.WriteLine($"Data: {report.Machine.DataDirectory} ({report.Machine.DataFileSystem ?? "file system unknown"})");
        Console.WriteLine();
        Console.Write(Report.Table(report));

        Directory.CreateDirectory(options.OutputDirectory);
        string json = Path.Combine(options.OutputDirectory, "latest.json");
        string svg = Path.Combine(options.OutputDirectory, "latest.svg");
        await File.WriteAllTextAsync(json, Report.Json(report), CancellationToken.None);
        await File.WriteAllTextAsync(svg, Report.Svg(report), CancellationToken.None);
        Console.WriteLine();
        Console.WriteLine($"Wrote {json} and {svg}");
        return 0;
    }

    private static Dictionary<string, string> Settings(BenchmarkOptions options) => new()
    {
        ["seconds"] = Invariant(options.Seconds),
        ["latencySeconds"] = Invariant(options.LatencySeconds),
        ["warmupSeconds"] = Invariant(options.WarmupSeconds),
        ["sqliteSeconds"] = Invariant(options.SqliteSeconds),
        ["scenarios"] = string.Join(",", options.Only.Order(StringComparer.Ordinal)),
        ["members"] = Invariant(options.Members),
        ["groupSenders"] = Invariant(options.GroupSenders),
        ["groupInFlight"] = Invariant(options.GroupInFlight),
        ["groupRate"] = Invariant(options.GroupRate),
        ["cells"] = Invariant(options.Cells),
        ["cellInFlight"] = Invariant(options.CellInFlight),
        ["drainEnvelopes"] = Invariant(options.DrainEnvelopes),
        ["intakeRate"] = Invariant(options.IntakeRate),
        ["taskRate"] = Invariant(options.TaskRate),
        ["idleConnections"] = Invariant(options.IdleConnections),
        ["pairs"] = Invariant(options.Pairs),
        ["directInFlight"] = Invariant(options.DirectInFlight),
        ["directRate"] = Invariant(options.DirectRate),
        ["sqliteBatch"] = Invariant(options.SqliteBatch),
        ["minThreads"] = options.MinThreads > 0 ? Invariant(options.MinThreads) : "default",
        ["baselineFanOut"] = options.SerialBaselineFanOut ? "serial" : "hub",
        ["experiment"] = options.SingletonDbContextOptions ? "singleton-db-options" : "none",
        ["payloadBytes"] = Invariant(Payloads.PlaintextBytes),
        ["relayCiphertextBytes"] = Invariant(Payloads.RelayCiphertextBytes),
    };

    /// <summary>What the numbers themselves say about limits: saturation, backlog, overload, errors.</summary>
    private static List<string> Observations(
        BenchmarkOptions options, FanOutScenario? baseline, FanOutScenario? relaySized, FanOutScenario? group, TwoNodeScenario? twoNodes, string? twoNodesSkipped, DirectScenario? direct, ManyCellsScenario? manyCells, DrainScenario? drain, IntakeScenario? intake, TaskScenario? tasks, IdleScenario? idle, string? idleFailed)
    {
        List<string> notes =
        [
            "Server and load clients share one process and the same cores (loopback only): CPU percentages are for both together.",
        ];
        if (options.SingletonDbContextOptions || options.SerialBaselineFanOut || options.BaselinePayloadBytes != Payloads.PlaintextBytes)
        {
            notes.Add("Investigation settings are on (see settings in latest.json): these numbers are not the standard benchmark.");
        }
        if (baseline is not null && group is not null)
        {
            notes.Add(FormattableString.Invariant(
                $"Payload sizes differ by design: (a) sends the {baseline.PayloadBytes}-byte payload as is ({baseline.WireBytesPerDelivery} bytes per delivery on the wire); (b) sends it sealed and padded to the {Payloads.RelayCiphertextBytes}-byte bucket inside an envelope ({group.WireBytesPerDelivery} bytes per delivery)."));
        }

        if (relaySized is not null)
        {
            notes.Add(FormattableString.Invariant(
                $"(a') is (a) with a {relaySized.PayloadBytes}-byte payload, {relaySized.WireBytesPerDelivery} bytes per delivery on the wire: the difference between (a) and (a') is the cost of the bytes, between (a') and (b) the cost of the relay's code."));
        }

        List<(string Name, ThroughputRun Throughput, FixedRateRun? Latency)> runs = [];
        if (baseline is not null)
        {
            runs.Add((baseline.Name, baseline.Throughput, baseline.Latency));
        }

        if (relaySized is not null)
        {
            runs.Add((relaySized.Name, relaySized.Throughput, relaySized.Latency));
        }

        if (group is not null)
        {
            runs.Add((group.Name, group.Throughput, group.Latency));
        }

        if (twoNodes is not null)
        {
            runs.Add((twoNodes.Name, twoNodes.Throughput, twoNodes.Latency));
        }

        if (direct is not null)
        {
            runs.Add((direct.Name, direct.Throughput, direct.Latency));
        }

        if (idleFailed is not null)
        {
            notes.Add($"(i) did not finish: {idleFailed}");
        }

        if (idle is not null)
        {
            notes.Add(FormattableString.Invariant(
                $"(i): each server in a process of its own, memory after a full garbage collection; {idle.Relay.Connected:N0} relay connections authenticated with the session tokens of {idle.Accounts} accounts; per connection, private memory {idle.Relay.PrivateKBPerConnection} KB ({idle.Baseline.PrivateKBPerConnection} KB for the bare hub), resident {idle.Relay.RssKBPerConnection} KB ({idle.Baseline.RssKBPerConnection} KB), managed heap {idle.Relay.ManagedKBPerConnection} KB ({idle.Baseline.ManagedKBPerConnection} KB)."));
            if (idle.Limit is not null)
            {
                notes.Add($"(i): fewer connections than asked: {idle.Limit}.");
            }

            foreach (IdleServerRun run in new[] { idle.Baseline, idle.Relay }.Where(r => r.StoppedBecause is not null))
            {
                notes.Add($"{run.Name}: opening connections stopped at {run.Connected:N0}: {run.StoppedBecause}");
            }
        }

        if (tasks is not null)
        {
            foreach (TaskAssignmentRun run in new[] { tasks.Single, tasks.Race })
            {
                notes.Add(FormattableString.Invariant(
                    $"{run.Name}: {run.Assignments:N0} offers accepted and {run.Conflicts:N0} refused with 409 (lost the race) in the max run, {run.OtherRefusals} other refusals{(run.FirstOtherRefusal is null ? "" : " (first: " + run.FirstOtherRefusal + ")")}; {tasks.Members} members, each task created by the first organizer to reach it and offered by every organizer to the same member."));
                if (run.Throughput.Errors > 0)
                {
                    notes.Add(FormattableString.Invariant($"{run.Name}: {run.Throughput.Errors} failed invocations; first: {run.Throughput.FirstError}"));
                }
            }
        }

        if (intake is not null)
        {
            runs.Add((intake.Name, intake.Throughput, intake.Latency));
            notes.Add(FormattableString.Invariant(
                $"{intake.Name}: {intake.Reporters} reporters (the SDK's ReporterClient, {intake.Throughput.InFlightPerSender} submission(s) in flight each) on {intake.Intakes} intakes, proof of work {intake.PowDifficulty} bits, {intake.SealedReportBytes}-byte sealed reports; each submission is 3 requests (intake key, challenge, report) and one Argon2id hash on the relay (its receipt lookup id)."));
        }

        if (manyCells is not null)
        {
            runs.Add((manyCells.Baseline.Name, manyCells.Baseline.Throughput, manyCells.Baseline.Latency));
            runs.Add((manyCells.Relay.Name, manyCells.Relay.Throughput, manyCells.Relay.Latency));
            notes.Add(FormattableString.Invariant(
                $"(e): {manyCells.Groups} groups of {manyCells.MembersPerGroup} connections ({manyCells.Relay.Connections} in all), one member of each sends to the {manyCells.Relay.FanOut} others; (e0) carries a {manyCells.Baseline.PayloadBytes}-byte payload, {manyCells.Baseline.WireBytesPerDelivery} bytes per delivery like the relay's {manyCells.Relay.WireBytesPerDelivery}, so (e)/(e0) is the relay's code against SignalR's alone. Set-up (registrations, logins, connections): {manyCells.Relay.SetupSeconds} s."));
        }

        foreach ((string name, ThroughputRun throughput, FixedRateRun? latency) in runs)
        {
            double other = Math.Max(throughput.Resources.OtherProcessesCpuPercent, latency?.Resources?.OtherProcessesCpuPercent ?? 0);
            if (other >= 10)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}: other processes used up to {other}% of the machine during a measurement: its numbers are depressed; rerun on a quiet machine."));
            }

            double jit = Math.Max(throughput.Resources.JitPercentOfMachine, latency?.Resources?.JitPercentOfMachine ?? 0);
            if (jit >= 3)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}: the JIT used up to {jit}% of the machine during a measurement (tiered compilation not finished): its numbers are depressed; a longer --warmup helps."));
            }
        }

        foreach ((string name, ThroughputRun run, _) in runs)
        {
            if (run.Resources.CpuPercentOfMachine >= 90)
            {
                notes.Add(FormattableString.Invariant($"{name}, max run: the process used {run.Resources.CpuPercentOfMachine}% of all cores ({run.Resources.KernelCpuPercentOfMachine}% in the kernel): CPU-bound."));
            }

            if (run.DeliveredAfterDrainPercent < 99)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}, max run: only {run.DeliveredAfterDrainPercent}% of the expected live deliveries (sends x {run.FanOut}) had arrived 5 s after the senders stopped: delivery falls behind the acknowledged sends."));
            }

            if (run.Errors > 0)
            {
                notes.Add(FormattableString.Invariant($"{name}, max run: {run.Errors} failed invocations; first: {run.FirstError}"));
            }
        }

        foreach ((string name, ThroughputRun max, FixedRateRun? run) in runs)
        {
            if (run is null)
            {
                continue;
            }

            if (max.SendsPerSecond < run.OfferedPerSecond && run.SendLatency.P50Ms > max.SendLatency.P50Ms)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}, fixed rate: the offered {run.OfferedPerSecond:N0} sends/s is more than the max run sustained ({max.SendsPerSecond:N0}/s), and its median send latency is above the max run's: the queue grew during the run and its latencies are mostly waiting in it."));
            }
            else if (run.SendLatency.Count > 0 && run.AchievedPerSecond > max.SendsPerSecond * 1.05)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}: the fixed-rate run kept up with {run.AchievedPerSecond:N0} sends/s, more than the max run's {max.SendsPerSecond:N0}/s: something else held the max run back (other processes, the JIT, a stall: see its send p99.9)."));
            }

            if (run.AchievedPerSecond < run.OfferedPerSecond * 0.95 || run.SkippedOverInFlightCap > 0)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}, fixed rate: offered {run.OfferedPerSecond}/s but issued {run.AchievedPerSecond}/s ({run.SkippedOverInFlightCap} skipped because too many were in flight): overloaded, its latencies include queueing."));
            }

            if (run.Errors > 0)
            {
                notes.Add(FormattableString.Invariant($"{name}, fixed rate: {run.Errors} failed invocations; first: {run.FirstError}"));
            }
        }

        if (group is not null)
        {
            double pushedPerSend = group.Throughput.SendsPerSecond == 0 ? 0 : group.Throughput.DeliveriesPerSecond / group.Throughput.SendsPerSecond;
            notes.Add(FormattableString.Invariant(
                $"{group.Name}, max run: {group.Throughput.SendsPerSecond:N0} durable sends/s produced {group.Throughput.DeliveriesPerSecond:N0} deliveries/s, {pushedPerSend:F1} per send (of {group.FanOut} possible)."));
        }

        if (drain is not null)
        {
            notes.Add(FormattableString.Invariant(
                $"{drain.Name}: {drain.Envelopes:N0} envelopes ({drain.CiphertextBytes}-byte ciphertexts) queued through the hub's Send in {drain.QueueSeconds} s ({drain.QueuedPerSecond:N0}/s, {drain.QueueErrors} errors{(drain.FirstQueueError is null ? "" : ": " + drain.FirstQueueError)}); the device then drained {drain.Drained:N0} in {drain.Pages} pages of {drain.PageSize} (REST fetch + ack, as the SDK's MessagingClient) in {drain.DrainSeconds} s; raw SQLite read the same {drain.BaselineRows:N0} rows in {drain.BaselineSeconds} s."));
            if (drain.Drained < drain.Envelopes - drain.QueueErrors)
            {
                notes.Add(FormattableString.Invariant($"{drain.Name}: only {drain.Drained:N0} of the queued envelopes were drained."));
            }
        }

        if (twoNodesSkipped is not null)
        {
            notes.Add($"(d) was skipped: {twoNodesSkipped}");
        }

        if (twoNodes is not null)
        {
            TwoNodeObservations(twoNodes, notes);
        }

        return notes;
    }

    private static void TwoNodeObservations(TwoNodeScenario twoNodes, List<string> notes)
    {
        string name = twoNodes.Name;
        RelayNodeResult a = twoNodes.Nodes[0];
        RelayNodeResult b = twoNodes.Nodes[1];
        notes.Add(FormattableString.Invariant(
            $"{name}: {a.Connections} connections on node A ({a.Senders} of them send), {b.Connections} on node B; each send is stored once in PostgreSQL {twoNodes.Postgres.Version} (synchronous_commit={twoNodes.Postgres.SynchronousCommit}, fsync={twoNodes.Postgres.Fsync}) and reaches {twoNodes.FanOut - twoNodes.CrossNodeDeliveriesPerSend} connections on A and {twoNodes.CrossNodeDeliveriesPerSend} on B."));

        ResourceUsage max = twoNodes.Throughput.Resources;
        if (max.DatabaseCpuPercentOfMachine is { } database)
        {
            double withDatabase = Report.CpuMicrosPerDeliveryWithDatabase(twoNodes.Throughput) ?? 0;
            notes.Add(FormattableString.Invariant(
                $"{name}: PostgreSQL's processes used {database}% of the machine in the max run ({twoNodes.Latency?.Resources?.DatabaseCpuPercentOfMachine ?? 0}% at the fixed rate), not counted in CPU % and excluded from other CPU %; with them, {withDatabase:F2} us of CPU per delivery."));
        }
        else
        {
            notes.Add($"{name}: PostgreSQL's processes are not visible from here: their CPU time counts in other CPU %.");
        }

        foreach ((string run, double? percent) in new[] { ("max run", twoNodes.CrossNodeDeliveredPercentMax), ("fixed rate", twoNodes.CrossNodeDeliveredPercentFixed) })
        {
            if (percent is < 99 or > 101)
            {
                notes.Add(FormattableString.Invariant(
                    $"{name}, {run}: a receiver on node B got {percent}% of what a receiver on node A got, 5 s after the senders stopped: deliveries across nodes were lost or fell behind."));
            }
        }

        foreach (RelayNodeResult node in twoNodes.Nodes.Where(n => n.ServerWarnings > 0))
        {
            notes.Add(FormattableString.Invariant($"{name}: node {node.Node} logged {node.ServerWarnings} warnings or errors; first: {node.FirstServerWarning}"));
        }
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"Could not delete {directory}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            Console.Error.WriteLine($"Could not delete {directory}: {ex.Message}");
        }
    }
}
