using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Coordination.Crypto;

namespace Coordination.Benchmarks;

internal sealed record MachineInfo(
    int Cores,
    string Cpu,
    string Os,
    string Kernel,
    string Dotnet,
    string Libsodium,
    string? Sqlite,
    string Gc,
    string DataDirectory,
    string? DataFileSystem)
{
    public static MachineInfo Describe(string dataDirectory, string? sqliteVersion) => new(
        Environment.ProcessorCount,
        CpuModel(),
        OsName(),
        KernelRelease(),
        RuntimeInformation.FrameworkDescription,
        Sodium.VersionString,
        sqliteVersion,
        (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? ", non-concurrent" : ", concurrent"),
        dataDirectory,
        FileSystemOf(dataDirectory));

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string KernelRelease()
    {
        try
        {
            return "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.OSDescription;
        }
    }

    private static string OsName()
    {
        try
        {
            string? line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.OSDescription : line["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException)
        {
            return RuntimeInformation.OSDescription;
        }
    }

    /// <summary>The file system type and device of the longest mount point above <paramref name="path"/> (from /proc/mounts).</summary>
    private static string? FileSystemOf(string path)
    {
        try
        {
            string? best = null;
            int bestLength = -1;
            foreach (string line in File.ReadLines("/proc/mounts"))
            {
                string[] fields = line.Split(' ');
                if (fields.Length < 3)
                {
                    continue;
                }

                string mountPoint = fields[1].Replace("\\040", " ", StringComparison.Ordinal);
                bool contains = path == mountPoint || path.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
                if (contains && mountPoint.Length > bestLength)
                {
                    bestLength = mountPoint.Length;
                    best = $"{fields[2]} on {mountPoint} ({fields[0]})";
                }
            }

            return best;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

internal sealed record Ratio(string What, double? Value, double? Target, bool? Met);

internal sealed record BenchmarkReport(
    DateTimeOffset Timestamp,
    double RunSeconds,
    MachineInfo Machine,
    IReadOnlyDictionary<string, string> Settings,
    FanOutScenario? Baseline,
    FanOutScenario? BaselineRelaySized,
    FanOutScenario? RelayGroup,
    TwoNodeScenario? TwoNodeGroup,
    DirectScenario? RelayDirect,
    ManyCellsScenario? ManyCells,
    DrainScenario? Drain,
    IntakeScenario? Intake,
    TaskScenario? Tasks,
    IdleScenario? Idle,
    SqliteBaselineResult? Sqlite,
    CostBreakdown? Costs,
    IReadOnlyList<Ratio> Ratios,
    IReadOnlyList<string> Observations);

/// <summary>The readable table, latest.json and latest.svg.</summary>
internal static class Report
{
    public const double GroupRatioTarget = 0.5;
    public const double DirectSendsTarget = 8000;
    public const double IdleKBTarget = 30;

    private static readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static IReadOnlyList<Ratio> Ratios(FanOutScenario? baseline, FanOutScenario? relaySized, FanOutScenario? group, TwoNodeScenario? twoNodes, DirectScenario? direct, SqliteBaselineResult? sqlite, ManyCellsScenario? manyCells, DrainScenario? drain, IntakeScenario? intake, TaskScenario? tasks, IdleScenario? idle)
    {
        List<Ratio> ratios = [];
        if (baseline is not null && group is not null)
        {
            double value = Round(group.Throughput.DeliveriesPerSecond / baseline.Throughput.DeliveriesPerSecond, 3);
            ratios.Add(new Ratio("(b)/(a) deliveries per second", value, GroupRatioTarget, value >= GroupRatioTarget));
        }

        if (relaySized is not null && group is not null)
        {
            ratios.Add(new Ratio("(b)/(a') deliveries per second, same bytes on the wire", Round(group.Throughput.DeliveriesPerSecond / relaySized.Throughput.DeliveriesPerSecond, 3), null, null));
        }

        if (twoNodes is not null && group is not null)
        {
            ratios.Add(new Ratio("(d)/(b) deliveries per second, two nodes on PostgreSQL / one node on SQLite", Round(twoNodes.Throughput.DeliveriesPerSecond / group.Throughput.DeliveriesPerSecond, 3), null, null));
        }

        if (direct is not null)
        {
            double sends = direct.Throughput.SendsPerSecond;
            ratios.Add(new Ratio("(c) acknowledged sends per second", sends, DirectSendsTarget, sends >= DirectSendsTarget));
            if (sqlite is not null)
            {
                ratios.Add(new Ratio("(c)/SQLite one fsync'd transaction per insert", Round(sends / sqlite.FsyncPerInsert.RowsPerSecond, 2), null, null));
                ratios.Add(new Ratio($"(c)/SQLite {sqlite.Batched.RowsPerTransaction} inserts per transaction", Round(sends / sqlite.Batched.RowsPerSecond, 3), null, null));
            }
        }

        if (manyCells is not null)
        {
            ratios.Add(new Ratio(
                $"(e)/(e0) deliveries per second, {manyCells.Groups} cells of {manyCells.MembersPerGroup} / bare hub, {manyCells.Groups} groups, same bytes",
                Round(manyCells.Relay.Throughput.DeliveriesPerSecond / manyCells.Baseline.Throughput.DeliveriesPerSecond, 3), null, null));
        }

        if (drain is not null)
        {
            ratios.Add(new Ratio("(f)/raw SQLite paged SELECT, envelopes drained per second (REST fetch + ack / rows read)", Round(drain.DrainedPerSecond / drain.BaselineRowsPerSecond, 3), null, null));
        }

        if (intake is not null && direct is not null)
        {
            ratios.Add(new Ratio("(g)/(c) intake reports accepted per second / durable direct sends per second", Round(intake.Throughput.SendsPerSecond / direct.Throughput.SendsPerSecond, 4), null, null));
        }

        if (tasks is not null)
        {
            ratios.Add(new Ratio("(h)/(h0) successful task assignments per second, two organizers racing / one alone", Round(tasks.Race.AssignmentsPerSecond / tasks.Single.AssignmentsPerSecond, 3), null, null));
        }

        if (idle is not null)
        {
            double perConnection = idle.Relay.PrivateKBPerConnection;
            ratios.Add(new Ratio(FormattableString.Invariant($"(i) relay private memory per idle authenticated connection, KB ({idle.Relay.Connected:N0} connections; target under 30)"), perConnection, null, perConnection < IdleKBTarget));
            ratios.Add(new Ratio("(i)/(i0) private memory per idle connection, relay / bare hub", idle.Baseline.PrivateKBPerConnection <= 0 ? null : Round(perConnection / idle.Baseline.PrivateKBPerConnection, 2), null, null));
        }

        return ratios;
    }

    public static string Table(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        List<string[]> rows = [["Scenario", "Run", "sends/s", "deliveries/s", "send ms p50 / p99 / p99.9", "deliver ms p50 / p99 / p99.9", "CPU %", "other CPU %", "CPU us/delivery", "alloc MB/s"]];
        foreach (FanOutScenario? scenario in new[] { report.Baseline, report.BaselineRelaySized, report.RelayGroup })
        {
            if (scenario is null)
            {
                continue;
            }

            rows.Add([scenario.Name, $"max, {scenario.Senders}x{scenario.Throughput.InFlightPerSender} in flight", N(scenario.Throughput.SendsPerSecond), N(scenario.Throughput.DeliveriesPerSecond),
                Latency(scenario.Throughput.SendLatency), "", P(scenario.Throughput.Resources.CpuPercentOfMachine), P(scenario.Throughput.Resources.OtherProcessesCpuPercent), P(scenario.Throughput.CpuMicrosPerDelivery), P(scenario.Throughput.Resources.AllocatedMBPerSecond)]);
            if (scenario.Latency is { } latency)
            {
                rows.Add(FixedRow(scenario.Name, latency));
            }

            // (d) right under (b), its baseline.
            if (scenario == report.RelayGroup && report.TwoNodeGroup is { } twoNodes)
            {
                TwoNodeRows(twoNodes, rows);
            }
        }

        if (report.RelayGroup is null && report.TwoNodeGroup is { } alone)
        {
            TwoNodeRows(alone, rows);
        }

        if (report.ManyCells is { } manyCells)
        {
            foreach (FanOutScenario scenario in new[] { manyCells.Baseline, manyCells.Relay })
            {
                rows.Add([scenario.Name, $"max, {scenario.Senders}x{scenario.Throughput.InFlightPerSender} in flight", N(scenario.Throughput.SendsPerSecond), N(scenario.Throughput.DeliveriesPerSecond),
                    Latency(scenario.Throughput.SendLatency), "", P(scenario.Throughput.Resources.CpuPercentOfMachine), P(scenario.Throughput.Resources.OtherProcessesCpuPercent), P(scenario.Throughput.CpuMicrosPerDelivery), P(scenario.Throughput.Resources.AllocatedMBPerSecond)]);
                if (scenario.Latency is { } latency)
                {
                    rows.Add(FixedRow(scenario.Name, latency));
                }
            }
        }

        if (report.Idle is { } idle)
        {
            foreach (IdleServerRun run in new[] { idle.Baseline, idle.Relay })
            {
                rows.Add([run.Name, FormattableString.Invariant($"{run.Connected:N0} open, {run.ConnectSeconds:F0} s to open"), "", "",
                    FormattableString.Invariant($"private {run.PrivateMBBefore:F0} -> {run.PrivateMBAfter:F0} MB"), FormattableString.Invariant($"{run.PrivateKBPerConnection:F1} KB/conn private, {run.ManagedKBPerConnection:F1} managed"), "", "", "", ""]);
            }
        }

        if (report.Tasks is { } tasks)
        {
            foreach (TaskAssignmentRun run in new[] { tasks.Single, tasks.Race })
            {
                ThroughputRun max = run.Throughput;
                rows.Add([run.Name, $"max, {run.Organizers}x{max.InFlightPerSender} in flight", N(run.OffersPerSecond) + " offers", N(run.AssignmentsPerSecond) + " assigned",
                    Latency(max.SendLatency), $"{N(run.Conflicts)} conflicts", P(max.Resources.CpuPercentOfMachine), P(max.Resources.OtherProcessesCpuPercent), "", P(max.Resources.AllocatedMBPerSecond)]);
                if (run.Latency is { } latency)
                {
                    rows.Add(FixedRow(run.Name, latency));
                }
            }
        }

        if (report.Intake is { } intake)
        {
            rows.Add([intake.Name, $"max, {intake.Reporters}x{intake.Throughput.InFlightPerSender} in flight", N(intake.Throughput.SendsPerSecond), "",
                Latency(intake.Throughput.SendLatency), "", P(intake.Throughput.Resources.CpuPercentOfMachine), P(intake.Throughput.Resources.OtherProcessesCpuPercent), P(intake.Throughput.CpuMicrosPerSend) + " /report", P(intake.Throughput.Resources.AllocatedMBPerSecond)]);
            rows.Add(FixedRow(intake.Name, intake.Latency));
        }

        if (report.Drain is { } drain)
        {
            rows.Add([drain.Name, $"queue {N(drain.Envelopes)} (Send)", N(drain.QueuedPerSecond), "", "", "", "", "", "", ""]);
            rows.Add([drain.Name, $"drain, {drain.PageSize}/page, {drain.DrainSeconds:F2} s", N(drain.DrainedPerSecond), "", Latency(drain.PageLatency) + " (page)", "",
                P(drain.DrainResources.CpuPercentOfMachine), P(drain.DrainResources.OtherProcessesCpuPercent), "", P(drain.DrainResources.AllocatedMBPerSecond)]);
            rows.Add(["(f0) raw SQLite paged SELECT", $"{drain.PageSize}/page, {drain.BaselineSeconds:F2} s", N(drain.BaselineRowsPerSecond), "", Latency(drain.BaselinePageLatency) + " (page)", "", "", "", "", ""]);
        }

        if (report.RelayDirect is { } direct)
        {
            rows.Add([direct.Name, $"max, {direct.Senders}x{direct.Throughput.InFlightPerSender} in flight", N(direct.Throughput.SendsPerSecond), N(direct.Throughput.DeliveriesPerSecond),
                Latency(direct.Throughput.SendLatency), "", P(direct.Throughput.Resources.CpuPercentOfMachine), P(direct.Throughput.Resources.OtherProcessesCpuPercent), P(direct.Throughput.CpuMicrosPerDelivery), P(direct.Throughput.Resources.AllocatedMBPerSecond)]);
            rows.Add(FixedRow(direct.Name, direct.Latency));
        }

        if (report.Sqlite is { } sqlite)
        {
            foreach (SqliteRun run in new[] { sqlite.FsyncPerInsert, sqlite.Batched })
            {
                rows.Add([$"SQLite, {run.Mode}", $"{run.RowsPerTransaction} row(s)/commit", N(run.RowsPerSecond), "", Latency(run.CommitLatency) + " (commit)", "", "", "", "", ""]);
            }
        }

        StringBuilder text = new();
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length))];
        foreach ((string[] row, int index) in rows.Select((r, i) => (r, i)))
        {
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c <= 1 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
            if (index == 0)
            {
                text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }

        text.AppendLine();
        foreach (Ratio ratio in report.Ratios)
        {
            string verdict = ratio.Met is { } met ? (met ? "  MET" : "  MISSED") : "";
            string target = ratio.Target is { } t ? $" (target >= {N(t)})" : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"{ratio.What}: {(ratio.Value is { } v ? N(v) : "n/a")}{target}{verdict}");
        }

        if (report.RelayDirect?.HubActivation is not null || report.Costs is not null)
        {
            text.AppendLine();
            text.AppendLine("Per-operation CPU costs, measured alone on one thread:");
            if (report.RelayDirect?.HubActivation is { } hub)
            {
                text.AppendLine(FormattableString.Invariant(
                    $"  relay hub set-up per invocation (DI scope + RelayHub with its CoordinationDbContext): {hub.WithDbContextMicros:F2} us, of which building the scoped DbContextOptions {hub.DbContextOptionsOnlyMicros:F2} us; without the DbContext: {hub.WithoutDbContextMicros:F2} us"));
            }

            if (report.Costs is { } costs)
            {
                text.AppendLine(FormattableString.Invariant(
                    $"  SDK client receive path per delivery (parse, clone, bind): (a) {costs.ClientReceiveBaselineMicros:F2} us, (b) {costs.ClientReceiveRelayMicros:F2} us, (b) bound to EnvelopeDelivery {costs.ClientReceiveRelayTypedMicros:F2} us"));
                text.AppendLine(FormattableString.Invariant(
                    $"  server JSON serialization per group message (once per send): (a) {costs.ServerSerializeBaselineMicros:F2} us, (b) {costs.ServerSerializeRelayMicros:F2} us"));
            }
        }

        if (report.Observations.Count > 0)
        {
            text.AppendLine();
            foreach (string observation in report.Observations)
            {
                text.AppendLine("- " + observation);
            }
        }

        return text.ToString();
    }

    public static string Json(BenchmarkReport report) => JsonSerializer.Serialize(report, _json);

    /// <summary>CPU time per delivery of the benchmark process and the PostgreSQL server together, in microseconds (null when the server's was not measured).</summary>
    public static double? CpuMicrosPerDeliveryWithDatabase(ThroughputRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Resources.DatabaseCpuPercentOfMachine is { } database && run.DeliveriesPerSecond > 0
            ? Math.Round((run.Resources.CpuPercentOfMachine + database) / 100 * Environment.ProcessorCount * 1e6 / run.DeliveriesPerSecond, 2)
            : null;
    }

    /// <summary>Two panels: deliveries/s of (a), (b) and (d); sends/s of (c) and the SQLite baselines. Below them the ratios and the fan-out delivery latencies.</summary>
    public static string Svg(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        const int Width = 960;
        List<(string Title, List<(string Label, double Value, string Color)> Bars)> extra = ExtraPanels(report);
        int footerStart = 440 + (400 * ((extra.Count + 1) / 2));
        List<string> footer = [.. report.Ratios.Select(ratio =>
        {
            string verdict = ratio.Met is { } met ? (met ? " (target met)" : " (target missed)") : "";
            return $"{ratio.What}: {(ratio.Value is { } v ? N(v) : "n/a")}{verdict}";
        })];
        if (FanOutLatencies(report) is { } latencies)
        {
            footer.Add(latencies);
        }

        int height = Math.Max(520, footerStart + (15 * footer.Count) + 10);
        StringBuilder svg = new();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Coordination relay benchmark, {Escape(report.Timestamp.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))}, {report.Machine.Cores} cores</text>""");

        List<(string Label, double Value, string Color)> fanOut = [];
        if (report.Baseline is { } baseline)
        {
            fanOut.Add(("(a) SignalR baseline", baseline.Throughput.DeliveriesPerSecond, "#8c8c8c"));
        }

        if (report.BaselineRelaySized is { } relaySized)
        {
            fanOut.Add(("(a') baseline, relay-sized", relaySized.Throughput.DeliveriesPerSecond, "#b5b5b5"));
        }

        if (report.RelayGroup is { } group)
        {
            fanOut.Add(("(b) relay cell", group.Throughput.DeliveriesPerSecond, "#2f6fb0"));
        }

        if (report.TwoNodeGroup is { } twoNodes)
        {
            fanOut.Add(("(d) 2 nodes, PostgreSQL", twoNodes.Throughput.DeliveriesPerSecond, "#6b9fd4"));
        }

        double? fanOutTarget = report.Baseline is { } a ? a.Throughput.DeliveriesPerSecond * GroupRatioTarget : null;
        int members = report.RelayGroup?.Connections ?? report.TwoNodeGroup?.Connections ?? report.Baseline?.FanOut ?? 0;
        Panel(svg, 20, 40, 440, 370, $"Fan-out to {members.ToString(CultureInfo.InvariantCulture)} connections: deliveries/s", fanOut, fanOutTarget, "target 0.5 x baseline");

        List<(string Label, double Value, string Color)> durable = [];
        if (report.RelayDirect is { } direct)
        {
            durable.Add(("(c) relay direct", direct.Throughput.SendsPerSecond, "#2f6fb0"));
        }

        if (report.Sqlite is { } sqlite)
        {
            durable.Add(("SQLite 1 insert/commit", sqlite.FsyncPerInsert.RowsPerSecond, "#8c8c8c"));
            durable.Add(($"SQLite {sqlite.Batched.RowsPerTransaction} inserts/commit", sqlite.Batched.RowsPerSecond, "#b5b5b5"));
        }

        Panel(svg, 500, 40, 440, 370, "Durable sends: acknowledged sends/s (SQLite: rows/s)", durable, report.RelayDirect is null ? null : DirectSendsTarget, "target 8,000/s");
        for (int i = 0; i < extra.Count; i++)
        {
            Panel(svg, 20 + (480 * (i % 2)), 440 + (400 * (i / 2)), 440, 370, extra[i].Title, extra[i].Bars, null, "");
        }

        int footerTop = footerStart;
        foreach (string line in footer)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="20" y="{footerTop}" font-size="11" fill="#333">{Escape(line)}</text>""");
            footerTop += 15;
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    /// <summary>The panels below the first two, one per further scenario that ran, each its baseline beside it.</summary>
    private static List<(string Title, List<(string Label, double Value, string Color)> Bars)> ExtraPanels(BenchmarkReport report)
    {
        List<(string, List<(string, double, string)>)> panels = [];
        if (report.ManyCells is { } cells)
        {
            panels.Add((
                FormattableString.Invariant($"(e) {cells.Groups} cells of {cells.MembersPerGroup}, a sender in each: deliveries/s"),
                [("(e0) SignalR, same groups and bytes", cells.Baseline.Throughput.DeliveriesPerSecond, "#b5b5b5"), ("(e) relay cells", cells.Relay.Throughput.DeliveriesPerSecond, "#2f6fb0")]));
        }

        if (report.Drain is { } drain)
        {
            panels.Add((
                FormattableString.Invariant($"(f) draining {drain.Envelopes:N0} queued envelopes: per second"),
                [("(f0) raw SQLite paged SELECT", drain.BaselineRowsPerSecond, "#b5b5b5"), ("(f) relay Fetch + Ack", drain.DrainedPerSecond, "#2f6fb0"), ("(f) queued via Send", drain.QueuedPerSecond, "#6b9fd4")]));
        }

        if (report.Intake is { } intake)
        {
            List<(string, double, string)> bars = [];
            if (report.RelayDirect is { } direct)
            {
                bars.Add(("(c) direct sends, same size", direct.Throughput.SendsPerSecond, "#b5b5b5"));
            }

            bars.Add(("(g) intake reports", intake.Throughput.SendsPerSecond, "#2f6fb0"));
            panels.Add(("(g) anonymous sealed reports accepted/s", bars));
        }

        if (report.Tasks is { } tasks)
        {
            panels.Add(("(h) task offers accepted (assignments)/s", [("(h0) one organizer", tasks.Single.AssignmentsPerSecond, "#b5b5b5"), ("(h) two organizers racing", tasks.Race.AssignmentsPerSecond, "#2f6fb0")]));
        }

        if (report.Idle is { } idle)
        {
            panels.Add((FormattableString.Invariant($"(i) private KB per idle connection ({idle.Relay.Connected:N0} open)"),
                [("(i0) SignalR baseline", idle.Baseline.PrivateKBPerConnection, "#b5b5b5"), ("(i) relay, authenticated", idle.Relay.PrivateKBPerConnection, "#2f6fb0")]));
        }

        return panels;
    }

    private static void Panel(StringBuilder svg, int left, int top, int width, int height, string title, List<(string Label, double Value, string Color)> bars, double? target, string targetLabel)
    {
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{left + (width / 2)}" y="{top + 14}" text-anchor="middle" font-size="13" font-weight="bold">{Escape(title)}</text>""");
        int plotTop = top + 40;
        int plotBottom = top + height - 40;
        int plotHeight = plotBottom - plotTop;
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{left}" y1="{plotBottom}" x2="{left + width}" y2="{plotBottom}" stroke="black"/>""");
        if (bars.Count == 0)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{left + (width / 2)}" y="{plotTop + (plotHeight / 2)}" text-anchor="middle" fill="#666">not run</text>""");
            return;
        }

        double max = Math.Max(bars.Max(b => b.Value), target ?? 0) * 1.12;
        max = max <= 0 ? 1 : max;
        int slot = width / bars.Count;
        int barWidth = Math.Min(110, slot * 6 / 10);
        for (int i = 0; i < bars.Count; i++)
        {
            (string label, double value, string color) = bars[i];
            double barHeight = plotHeight * value / max;
            double x = left + (slot * i) + ((slot - barWidth) / 2.0);
            double y = plotBottom - barHeight;
            svg.AppendLine(FormattableString.Invariant($"""<rect x="{x:F1}" y="{y:F1}" width="{barWidth}" height="{barHeight:F1}" fill="{color}"/>"""));
            svg.AppendLine(FormattableString.Invariant($"""<text x="{x + (barWidth / 2.0):F1}" y="{y - 6:F1}" text-anchor="middle">{Escape(N(value))}</text>"""));
            string[] labelLines = Wrap(label);
            for (int l = 0; l < labelLines.Length; l++)
            {
                svg.AppendLine(FormattableString.Invariant($"""<text x="{x + (barWidth / 2.0):F1}" y="{plotBottom + 18 + (l * 15)}" text-anchor="middle">{Escape(labelLines[l])}</text>"""));
            }
        }

        if (target is { } line)
        {
            double y = plotBottom - (plotHeight * line / max);
            svg.AppendLine(FormattableString.Invariant($"""<line x1="{left}" y1="{y:F1}" x2="{left + width}" y2="{y:F1}" stroke="#c0392b" stroke-dasharray="6 4"/>"""));
            svg.AppendLine(FormattableString.Invariant($"""<text x="{left + (width / 2)}" y="{top + 30}" text-anchor="middle" fill="#c0392b">{Escape("dashed line: " + targetLabel)}</text>"""));
        }
    }

    /// <summary>One line: send → receive latency of (b) and (d) at their fixed rate, or null when neither measured it.</summary>
    private static string? FanOutLatencies(BenchmarkReport report)
    {
        List<string> parts = [];
        double? rate = null;
        if (report.RelayGroup?.Latency is { DeliveryLatency: { } b } groupRate)
        {
            parts.Add($"(b) {Latency(b)}");
            rate = groupRate.OfferedPerSecond;
        }

        if (report.ManyCells?.Relay.Latency is { DeliveryLatency: { } e } cellsRate && report.ManyCells.Baseline.Latency?.DeliveryLatency is { } e0)
        {
            parts.Add($"(e) {Latency(e)}, (e0) {Latency(e0)}");
            rate ??= cellsRate.OfferedPerSecond;
        }

        if (report.TwoNodeGroup is { Latency: { DeliveryLatency: { } d } twoNodeRate } twoNodes)
        {
            string crossed = twoNodes.Nodes.FirstOrDefault(n => n.Senders == 0)?.DeliveryLatency is { } toB ? $" (to node B {Latency(toB)})" : "";
            parts.Add($"(d) {Latency(d)}{crossed}");
            rate ??= twoNodeRate.OfferedPerSecond;
        }

        return parts.Count == 0 ? null : $"Delivery latency at {N(rate ?? 0)} sends/s, p50 / p99 / p99.9 ms: {string.Join("; ", parts)}";
    }

    /// <summary>Splits a bar label into at most two lines, at the space nearest the middle.</summary>
    private static string[] Wrap(string label)
    {
        if (label.Length <= 16)
        {
            return [label];
        }

        int middle = label.Length / 2;
        int best = -1;
        for (int i = 0; i < label.Length; i++)
        {
            if (label[i] == ' ' && (best < 0 || Math.Abs(i - middle) < Math.Abs(best - middle)))
            {
                best = i;
            }
        }

        return best < 0 ? [label] : [label[..best], label[(best + 1)..]];
    }

    /// <summary>(d): the max run, the fixed-rate run, then the delivery latency to each node's connections.</summary>
    private static void TwoNodeRows(TwoNodeScenario twoNodes, List<string[]> rows)
    {
        ThroughputRun max = twoNodes.Throughput;
        rows.Add([twoNodes.Name, $"max, {twoNodes.Senders}x{max.InFlightPerSender} in flight, on A", N(max.SendsPerSecond), N(max.DeliveriesPerSecond),
            Latency(max.SendLatency), "", P(max.Resources.CpuPercentOfMachine), P(max.Resources.OtherProcessesCpuPercent), P(max.CpuMicrosPerDelivery), P(max.Resources.AllocatedMBPerSecond)]);
        if (twoNodes.Latency is { } fixedRate)
        {
            rows.Add(FixedRow(twoNodes.Name, fixedRate));
            foreach (RelayNodeResult node in twoNodes.Nodes)
            {
                string where = node.Senders > 0 ? "same node" : "crossed nodes";
                rows.Add([twoNodes.Name, $"  deliveries to node {node.Node} ({where})", "", "", "", node.DeliveryLatency is { } d ? Latency(d) : "", "", "", "", ""]);
            }
        }
    }

    private static string[] FixedRow(string name, FixedRateRun run) =>
    [
        name,
        $"fixed {N(run.OfferedPerSecond)}/s",
        N(run.AchievedPerSecond),
        "",
        Latency(run.SendLatency),
        run.DeliveryLatency is { } delivery ? Latency(delivery) : "",
        run.Resources is { } r ? P(r.CpuPercentOfMachine) : "",
        run.Resources is { } o ? P(o.OtherProcessesCpuPercent) : "",
        "",
        run.Resources is { } a ? P(a.AllocatedMBPerSecond) : "",
    ];

    private static string Latency(LatencySummary latency) =>
        latency.Count == 0 ? "-" : FormattableString.Invariant($"{latency.P50Ms:F2} / {latency.P99Ms:F2} / {latency.P999Ms:F2}");

    private static string N(double value) =>
        Math.Abs(value) >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string P(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    private static double Round(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : 0;

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
