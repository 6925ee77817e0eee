using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Messaging;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Benchmarks;

/// <summary>One task-assignment run: successful offers per second, and how many offers lost a race (409).</summary>
internal sealed record TaskAssignmentRun(
    string Name,
    int Organizers,
    double AssignmentsPerSecond,
    double OffersPerSecond,
    long Assignments,
    long Conflicts,
    long OtherRefusals,
    string? FirstOtherRefusal,
    ThroughputRun Throughput,
    FixedRateRun? Latency);

/// <summary>Results of (h): two organizers racing against one organizer alone, in the same cell, in the same run.</summary>
internal sealed record TaskScenario(int Members, double SetupSeconds, TaskAssignmentRun Single, TaskAssignmentRun Race);

/// <summary>
/// (h) Task assignments: an organizer creates a cell with the SDK's CellClient, a second organizer and
/// 20 members join it by invite code (no vouches needed). Each step of a run takes the next task of a
/// shared list: the first organizer to reach it creates it (the SDK's TaskClient: sealed content, one
/// person needed, low risk), and every organizer offers it to member number (task index mod 20). With two
/// organizers, both offer every task to the same member at the same moment: one offer wins, the other is
/// refused with 409 (counted as a conflict). Baseline (h0): the first organizer alone, same code, same cell.
/// </summary>
internal static class TaskRace
{
    private const int Members = 20;
    private const int InFlightPerOrganizer = 4;

    public static async Task<TaskScenario> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        long setupStarted = Stopwatch.GetTimestamp();
        string unlimited = 1_000_000.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Dictionary<string, string> settings = new() { ["RateLimits:InviteAttemptsPerMinute"] = unlimited };
        await using RelayHost relay = new(Path.Combine(options.DataRoot, "relay-tasks"), options.SingletonDbContextOptions, settings);
        Uri server = relay.ServerAddress;
        Progress.Say($"(h) relay at {server}; 2 organizers and {Members} members join a cell");
        BenchDevice[] devices = await BenchDevice.CreateManyAsync(server, 2 + Members, ct);
        LocalMessageStore[] stores = [.. devices.Select((_, i) => LocalMessageStore.Open(Path.Combine(options.DataRoot, "task-store-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)), SecureRandom.Bytes(32)))];
        try
        {
            CellClient[] cells = [.. devices.Select((d, i) => new CellClient(d.Identity, d.Api, stores[i]))];
            CellView cell = await cells[0].CreateAsync(ConversationKind.Cell, "Tasks", null, "Organizer A", null, ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            string organizerCode = await cells[0].InviteAsync(cell.CellId, MemberRole.Organizer, RiskLevel.Critical, 1, TimeSpan.FromHours(1), 0, ct);
            await cells[1].JoinAsync(organizerCode, "Organizer B", ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            string memberCode = await cells[0].InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Critical, Members, TimeSpan.FromHours(1), 0, ct);
            for (int i = 0; i < Members; i++)
            {
                await cells[2 + i].JoinAsync(memberCode, "Member", ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            }

            Dictionary<Guid, Guid> membershipOf = (await devices[0].Api.ListMembersAsync(cell.CellId, ct)).ToDictionary(m => m.AccountId, m => m.MembershipId);
            Guid[] members = [.. devices.Skip(2).Select(d => membershipOf[d.AccountId])];
            TaskClient[] organizers = [new TaskClient(cells[0]), new TaskClient(cells[1])];
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;

            TaskAssignmentRun single = await MeasureAsync("(h0) Task offers, one organizer", options, cell.CellId, organizers[..1], members, fixedRate: false, ct);
            TaskAssignmentRun race = await MeasureAsync("(h) Task offers, two organizers racing", options, cell.CellId, organizers, members, fixedRate: true, ct);
            return new TaskScenario(Members, Math.Round(setupSeconds, 2), single, race);
        }
        finally
        {
            foreach (LocalMessageStore store in stores)
            {
                store.Dispose();
            }

            BenchDevice.DisposeAll(devices);
        }
    }

    private static async Task<TaskAssignmentRun> MeasureAsync(
        string name, BenchmarkOptions options, Guid cellId, TaskClient[] organizers, Guid[] members, bool fixedRate, CancellationToken ct)
    {
        Board board = new(cellId, organizers[0], members);
        SendOne[] send = [.. organizers.Select(organizer => (SendOne)board.Offerer(organizer))];
        Func<long> assignments = () => Interlocked.Read(ref board.Assignments);

        Progress.Say($"{name}: warm-up for {options.WarmupSeconds / 2} s");
        await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, InFlightPerOrganizer, assignments, 0, TimeSpan.Zero, options.Warmup / 2), ct);
        long assignedBefore = Interlocked.Read(ref board.Assignments);
        long conflictsBefore = Interlocked.Read(ref board.Conflicts);
        Progress.Say($"{name}: max throughput, {organizers.Length} x {InFlightPerOrganizer} in flight, {options.Seconds} s");
        ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
            new ClosedLoopPlan(send, InFlightPerOrganizer, assignments, 0, options.Ramp, options.Duration), ct);
        long assigned = Interlocked.Read(ref board.Assignments) - assignedBefore;
        long conflicts = Interlocked.Read(ref board.Conflicts) - conflictsBefore;
        FixedRateRun? latency = null;
        if (fixedRate)
        {
            Progress.Say($"{name}: fixed rate {options.TaskRate}/s offers for {options.LatencySeconds} s");
            latency = await LoadDriver.RunFixedRateAsync(
                new FixedRatePlan(send, options.TaskRate, assignments, 0, options.Ramp, options.LatencyDuration, null), ct);
        }

        return new TaskAssignmentRun(
            name, organizers.Length, throughput.DeliveriesPerSecond, throughput.SendsPerSecond, assigned, conflicts,
            Interlocked.Read(ref board.OtherRefusals), board.FirstOtherRefusal, throughput, latency);
    }

    /// <summary>The shared list of tasks: created on first use, offered by every organizer in the same order.</summary>
    private sealed class Board(Guid cellId, TaskClient creator, Guid[] members)
    {
        private readonly ConcurrentDictionary<long, Lazy<Task<Guid>>> _tasks = new();
        private readonly long[] _next = new long[2];
        private int _organizers;

        public long Assignments;
        public long Conflicts;
        public long OtherRefusals;
        public string? FirstOtherRefusal;

        public SendOne Offerer(TaskClient organizer)
        {
            int slot = Interlocked.Increment(ref _organizers) - 1;
            return async (_, token) =>
            {
                long index = Interlocked.Increment(ref _next[slot]);
                Task<Guid> created = _tasks.GetOrAdd(index, _ => new Lazy<Task<Guid>>(() => CreateAsync(token))).Value;
                try
                {
                    Guid task = await created;
                    await organizer.OfferAsync(task, members[index % members.Length], token);
                    Interlocked.Increment(ref Assignments);
                }
                catch (RelayApiException ex) when (ex.Status == HttpStatusCode.Conflict)
                {
                    Interlocked.Increment(ref Conflicts);
                }
                catch (RelayApiException ex)
                {
                    Interlocked.Increment(ref OtherRefusals);
                    Interlocked.CompareExchange(ref FirstOtherRefusal, $"{(int)ex.Status}: {ex.Message}", null);
                }
            };
        }

        private async Task<Guid> CreateAsync(CancellationToken token) =>
            (await creator.CreateAsync(cellId, RiskLevel.Low, "Task", null, [], 1, null, token)).TaskId;
    }
}
