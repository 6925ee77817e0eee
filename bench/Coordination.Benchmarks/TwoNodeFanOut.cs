using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Coordination.Client.Hub;
using Coordination.Crypto;
using Coordination.Protocol;
using Npgsql;

namespace Coordination.Benchmarks;

/// <summary>One of (d)'s relay nodes: its connections and what they received.</summary>
/// <param name="Node">A (the senders' node) or B.</param>
/// <param name="Connections">Hub connections on this node, senders included.</param>
/// <param name="Senders">Senders among them (all on A).</param>
/// <param name="DeliveriesPerReceiverMax">
/// Max run, from its start until its drain ended: deliveries per connection that receives every send
/// (on A the connections that do not send, on B all of them); null when the node has none.
/// </param>
/// <param name="DeliveriesPerReceiverFixed">The same for the fixed-rate run.</param>
/// <param name="DeliveryLatency">Fixed rate: send → receive on this node's connections.</param>
/// <param name="ServerWarnings">Warnings and errors the node logged once started (both nodes healthy) until the measurements ended.</param>
/// <param name="FirstServerWarning">The first of them.</param>
internal sealed record RelayNodeResult(
    string Node,
    int Connections,
    int Senders,
    double? DeliveriesPerReceiverMax,
    double? DeliveriesPerReceiverFixed,
    LatencySummary? DeliveryLatency,
    long ServerWarnings,
    string? FirstServerWarning);

/// <summary>The PostgreSQL server (d) ran on.</summary>
/// <param name="Version">server_version.</param>
/// <param name="SynchronousCommit">synchronous_commit (on: a commit returns once its WAL is flushed).</param>
/// <param name="Fsync">fsync.</param>
/// <param name="CpuMeasured">Whether its processes were visible here, so their CPU time is in the resources of (d).</param>
internal sealed record PostgresServerInfo(string Version, string SynchronousCommit, string Fsync, bool CpuMeasured);

/// <summary>
/// Results of (d): (b)'s workload on two relay nodes sharing one PostgreSQL database, the senders on
/// node A, the receivers split between A and B.
/// </summary>
/// <param name="CrossNodeDeliveriesPerSend">Deliveries of each send that go to node B's connections.</param>
/// <param name="CrossNodeDeliveredPercentMax">
/// Max run: what a receiver on B got, in percent of what a receiver on A got (100 when nothing
/// crossing the nodes is lost or left behind at the end of the drain).
/// </param>
/// <param name="CrossNodeDeliveredPercentFixed">The same for the fixed-rate run.</param>
internal sealed record TwoNodeScenario(
    string Name,
    int Connections,
    int Senders,
    int FanOut,
    int CrossNodeDeliveriesPerSend,
    int PayloadBytes,
    int WireBytesPerDelivery,
    double SetupSeconds,
    PostgresServerInfo Postgres,
    IReadOnlyList<RelayNodeResult> Nodes,
    double? CrossNodeDeliveredPercentMax,
    double? CrossNodeDeliveredPercentFixed,
    FixedRateRun? Latency,
    ThroughputRun Throughput);

/// <summary>
/// (d) The cell fan-out of (b) across two relay nodes on one PostgreSQL database: envelopes committed
/// on node A reach node B's connections through PostgreSQL (LISTEN/NOTIFY carries the sequence
/// numbers, node B reads the envelopes back and pushes them).
/// </summary>
internal static class TwoNodeFanOut
{
    public const string Name = "(d) Relay cell fan-out, 2 nodes on PostgreSQL";

    /// <summary>Runs (d); null and the reason when it cannot run here (no PostgreSQL server, or one that does not answer).</summary>
    public static async Task<(TwoNodeScenario? Result, string? Skipped)> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PostgresAdmin is not { } admin)
        {
            return (null, "no PostgreSQL server: COORDINATION_BENCH_POSTGRES is not set (./run-benchmarks.sh sets it when it could start a throwaway PostgreSQL instance).");
        }

        int nodeB = Math.Min(options.Members / 2, options.Members - options.GroupSenders);
        if (nodeB < 1)
        {
            return (null, "every member is a sender (--group-senders equals --members): no receiver is left for node B.");
        }

        string database = "coord_bench_" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        PostgresServerInfo server;
        try
        {
            server = await CreateDatabaseAsync(admin, database, ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or ArgumentException)
        {
            // The message never holds the connection string (it may hold a password).
            return (null, $"the PostgreSQL server in COORDINATION_BENCH_POSTGRES could not create a database: {ex.GetType().Name}: {ex.Message}");
        }

        try
        {
            string connection = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
            return (await RunOnAsync(options, connection, nodeB, server, ct), null);
        }
        finally
        {
            DatabaseProcesses.Stop();
            if (options.KeepData)
            {
                Progress.Say($"(d) kept the PostgreSQL database {database}");
            }
            else
            {
                await DropDatabaseAsync(admin, database);
            }
        }
    }

    private static async Task<TwoNodeScenario> RunOnAsync(BenchmarkOptions options, string connection, int onNodeB, PostgresServerInfo server, CancellationToken ct)
    {
        long setupStarted = Stopwatch.GetTimestamp();
        int onNodeA = options.Members - onNodeB;
        int senders = options.GroupSenders;

        // What two production nodes share: the database and the intake pepper (a receipt must find its report on either node).
        Dictionary<string, string> settings = new()
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Coordination"] = connection,
            ["Intake:Pepper"] = Convert.ToBase64String(SecureRandom.Bytes(32)),
        };

        // One after the other: the first applies the migrations, and the factory's host interception is not built for concurrent starts.
        await using RelayHost nodeA = new(Path.Combine(options.DataRoot, "relay-node-a"), settings: settings, logPrefix: "node A");
        Uri a = nodeA.ServerAddress;
        await using RelayHost nodeB = new(Path.Combine(options.DataRoot, "relay-node-b"), settings: settings, logPrefix: "node B");
        Uri b = nodeB.ServerAddress;
        await nodeA.WaitUntilHealthyAsync(ct);
        await nodeB.WaitUntilHealthyAsync(ct);

        // What the nodes log from now on is reported (on a fresh database the first node's start
        // logs EF Core's failed probe of the migrations history table, before creating it).
        nodeA.Logs.Reset();
        nodeB.Logs.Reset();
        Progress.Say($"(d) relay nodes at {a} (A) and {b} (B), PostgreSQL {server.Version}; registering and logging in {onNodeA} accounts on A and {onNodeB} on B");

        BenchDevice[] devicesA = await BenchDevice.CreateManyAsync(a, onNodeA, ct);
        BenchDevice[] devicesB = [];
        HubConnection[] hubsA = [];
        HubConnection[] hubsB = [];
        try
        {
            devicesB = await BenchDevice.CreateManyAsync(b, onNodeB, ct);
            Guid cell = await nodeA.CreateCellAsync([.. devicesA.Concat(devicesB).Select(d => d.AccountId)], ct).WaitAsync(TimeSpan.FromSeconds(30), ct);

            // Partition 0: node A's connections (the senders' node); 1: node B's (every delivery there crossed nodes).
            MessageClock clock = new(partitions: 2);
            DeliveryCounter[] countersA = [.. devicesA.Select(_ => new DeliveryCounter())];
            DeliveryCounter[] countersB = [.. devicesB.Select(_ => new DeliveryCounter())];
            hubsA = await HubClients.ConnectAllAsync(
                new Uri(a, RelayHubContract.Path), [.. devicesA.Select(d => d.Api.Token)], (i, hub) => RelayScenarios.CountDeliveries(hub, countersA[i], clock, 0), ct);
            hubsB = await HubClients.ConnectAllAsync(
                new Uri(b, RelayHubContract.Path), [.. devicesB.Select(d => d.Api.Token)], (i, hub) => RelayScenarios.CountDeliveries(hub, countersB[i], clock, 1), ct);
            byte[][] pool = Payloads.GroupCiphertexts(256, epoch: 0);
            SendOne[] send = [.. hubsA.Take(senders).Select(hub => (SendOne)((id, token) =>
                hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [Payloads.Envelope(cell, id, pool)], token)))];
            Func<long> deliveries = DeliveryCounter.Total([.. countersA, .. countersB]);
            Func<double?> perReceiverA = PerReceiver(countersA[senders..]);
            Func<double?> perReceiverB = PerReceiver(countersB);
            int fanOut = options.Members - 1;
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;

            // Longer than (b)'s, as for (a) in a cold process: PostgreSQL's paths (Npgsql, its EF Core
            // provider, the node listener) run for the first time here, and the JIT needs the cores the load takes.
            TimeSpan warmup = options.Warmup * 1.5;
            Progress.Say($"(d) warm-up at full load for {warmup.TotalSeconds} s");
            await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, options.GroupInFlight, deliveries, fanOut, TimeSpan.Zero, warmup), ct);

            Progress.Say($"(d) max throughput, {senders} senders on node A x {options.GroupInFlight} in flight, {options.Seconds} s");
            (double? aBefore, double? bBefore) = (perReceiverA(), perReceiverB());
            ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
                new ClosedLoopPlan(send, options.GroupInFlight, deliveries, fanOut, options.Ramp, options.Duration), ct);
            (double? aMax, double? bMax) = (perReceiverA() - aBefore, perReceiverB() - bBefore);

            Progress.Say($"(d) fixed rate {options.GroupRate}/s for {options.LatencySeconds} s");
            (aBefore, bBefore) = (perReceiverA(), perReceiverB());
            FixedRateRun latency = await LoadDriver.RunFixedRateAsync(
                new FixedRatePlan(send, options.GroupRate, deliveries, fanOut, options.Ramp, options.LatencyDuration, clock), ct);
            (double? aFixed, double? bFixed) = (perReceiverA() - aBefore, perReceiverB() - bBefore);

            RelayNodeResult[] nodes =
            [
                new("A", onNodeA, senders, Round(aMax), Round(aFixed), clock.Partitions[0].Summarize(), nodeA.Logs.Count, nodeA.Logs.First),
                new("B", onNodeB, 0, Round(bMax), Round(bFixed), clock.Partitions[1].Summarize(), nodeB.Logs.Count, nodeB.Logs.First),
            ];
            return new TwoNodeScenario(
                Name, options.Members, senders, fanOut, onNodeB, Payloads.PlaintextBytes, BroadcastBaseline.RelayWireBytes(), Math.Round(setupSeconds, 2),
                server, nodes, Percent(bMax, aMax), Percent(bFixed, aFixed), latency, throughput);
        }
        finally
        {
            await HubClients.DisposeAllAsync([.. hubsA, .. hubsB]);
            BenchDevice.DisposeAll([.. devicesA, .. devicesB]);
        }
    }

    /// <summary>The mean count of the given connections (null when there are none).</summary>
    private static Func<double?> PerReceiver(DeliveryCounter[] counters) => () =>
        counters.Length == 0 ? null : counters.Sum(c => (double)c.Count) / counters.Length;

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;

    private static double? Percent(double? part, double? whole) =>
        part is { } p && whole is { } w && w > 0 ? Math.Round(100 * p / w, 2) : null;

    /// <summary>Creates the run's database and reads what the report says about the server; starts watching its processes' CPU time.</summary>
    private static async Task<PostgresServerInfo> CreateDatabaseAsync(string admin, string database, CancellationToken ct)
    {
        await using NpgsqlConnection connection = new(admin);
        await connection.OpenAsync(ct);
        await using (NpgsqlCommand create = new($"CREATE DATABASE \"{database}\"", connection))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using NpgsqlCommand describe = new("SELECT current_setting('server_version'), current_setting('synchronous_commit'), current_setting('fsync'), pg_backend_pid()", connection);
        await using NpgsqlDataReader row = await describe.ExecuteReaderAsync(ct);
        await row.ReadAsync(ct);
        bool watched = DatabaseProcesses.Watch(row.GetInt32(3));
        return new PostgresServerInfo(row.GetString(0), row.GetString(1), row.GetString(2), watched);
    }

    private static async Task DropDatabaseAsync(string admin, string database)
    {
        try
        {
            await using NpgsqlConnection connection = new(admin);
            await connection.OpenAsync();
            await using NpgsqlCommand drop = new($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException)
        {
            Console.Error.WriteLine($"Could not drop the PostgreSQL database {database}: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
