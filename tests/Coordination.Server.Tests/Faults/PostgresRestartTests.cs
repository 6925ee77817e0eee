using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Coordination.Client.Hub;
using Coordination.Protocol;
using Coordination.Server.Tests.Durability;
using Npgsql;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Faults;

/// <summary>
/// PostgreSQL restarts (an upgrade, a failover, an operator's <c>pg_ctl restart</c>), or is down
/// for a while, while people send over REST and over the hub and a device polls its inbox. The
/// relay process is not restarted. Calls during the fault are either delayed and then answered
/// (the writer reconnects and commits the batch again) or refused with a clear answer (a 503
/// problem, a hub error that says to try again, a hub connection the relay closes so that the
/// client reconnects), never a 500 and never silence; afterwards /healthz is 200 again and sends
/// succeed without any help, and every acknowledged send is delivered exactly once, also after the
/// client retried its unanswered sends with the same message ids.
/// </summary>
[Collection(PostgresRestartGroup.Name)]
public sealed class PostgresRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RestSenders = 6;
    private const int HubSenders = 2;
    private const int MinAcknowledgedBeforeRestart = 30;

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_restartTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan s_sendTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_recoveryTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_sendingAfterRestart = TimeSpan.FromSeconds(3);

    /// <summary>How long PostgreSQL stays down in the outage test: longer than the writer's reconnect attempts (about 6.4 s).</summary>
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(9);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", "faults-pg-" + Guid.NewGuid().ToString("N"));
    private readonly string _metricsToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    private string? _database;

    public async Task InitializeAsync()
    {
        if (TestDatabase.PostgresAdmin is not { } admin)
        {
            return;
        }

        _database = "coord_faults_" + Guid.NewGuid().ToString("N");
        await using NpgsqlConnection connection = Unpooled(admin);
        await connection.OpenAsync().WaitAsync(FaultPair.CallTimeout);
        await using NpgsqlCommand create = new($"CREATE DATABASE \"{_database}\"", connection);
        await create.ExecuteNonQueryAsync().WaitAsync(FaultPair.CallTimeout);
    }

    public async Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        if (_database is not null && TestDatabase.PostgresAdmin is { } admin)
        {
            await using NpgsqlConnection connection = Unpooled(admin);
            await connection.OpenAsync().WaitAsync(FaultPair.CallTimeout);
            await using NpgsqlCommand drop = new($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync().WaitAsync(FaultPair.CallTimeout);
        }
    }

    [PostgresRestartFact]
    public Task A_PostgreSQL_restart_under_load_gets_clear_answers_and_the_relay_recovers_by_itself_losing_nothing() =>
        UnderLoadAsync("restart", async _ => (await RunAsync(ControlScript(), ["restart"])).ReplaceLineEndings(" / "), expectRefusals: false);

    /// <summary>
    /// PostgreSQL down for longer than the writer reconnects and commits again (about six seconds):
    /// sends in that time must be refused clearly, /healthz must say 503 meanwhile, and the relay
    /// must come back by itself when PostgreSQL does.
    /// </summary>
    [PostgresRestartFact]
    public Task PostgreSQL_down_longer_than_the_writer_retries_gets_clear_refusals_and_the_relay_recovers_by_itself_losing_nothing() =>
        UnderLoadAsync("outage", StopAndStartAsync, expectRefusals: true);

    /// <summary>
    /// Alice sends to Bob from <see cref="RestSenders"/> REST and <see cref="HubSenders"/> hub senders
    /// while Bob's device polls its inbox; <paramref name="fault"/> is done to PostgreSQL mid-burst.
    /// </summary>
    private async Task UnderLoadAsync(string name, Func<ServerProcess, Task<string>> fault, bool expectRefusals)
    {
        Directory.CreateDirectory(_dataDirectory);
        string connectionString = new NpgsqlConnectionStringBuilder(TestDatabase.PostgresAdmin!) { Database = _database, MaxPoolSize = 20 }.ConnectionString;
        using ServerProcess server = await ServerProcess.StartAsync(_dataDirectory, s_startTimeout,
        [
            "--Database:Provider=Postgres",
            $"--ConnectionStrings:Coordination={connectionString}",
            .. Probes.MetricsSettings(_metricsToken),
        ]);
        int processId = server.ProcessId;
        using FaultPair pair = await FaultPair.SignUpAsync(server);

        // Alice's hub connection as her app holds it: it reconnects by itself when the relay closes it.
        string token = pair.AliceApi.Token!;
        int reconnects = 0;
        ReconnectingHub hub = new(new Uri(server.Address, RelayHubContract.Path), _ => Task.FromResult(token), _ => { }, TimeSpan.FromSeconds(1));
        hub.Reconnected += () =>
        {
            Interlocked.Increment(ref reconnects);
            return Task.CompletedTask;
        };
        await using (hub)
        {
            await hub.StartAsync(CancellationToken.None).WaitAsync(FaultPair.CallTimeout);
            SendLedger ledger = new();
            int stop = 0;
            Func<bool> stopped = () => Volatile.Read(ref stop) != 0;
            Task[] senders =
            [
                .. Enumerable.Range(0, RestSenders).Select(sender => Task.Run(() => SendLoopAsync(
                    envelope => ledger.SendAsync(pair.AliceApi, envelope, s_sendTimeout), pair, $"rest sender {sender}", stopped))),
                .. Enumerable.Range(0, HubSenders).Select(sender => Task.Run(() => SendLoopAsync(
                    envelope => ledger.SendAsync(hub, envelope, s_sendTimeout), pair, $"hub sender {sender}", stopped))),
                Task.Run(async () =>
                {
                    while (!stopped())
                    {
                        await ledger.FetchAsync(pair.BobApi, s_sendTimeout);
                        await Task.Delay(20);
                    }
                }),
            ];

            Stopwatch clock = Stopwatch.StartNew();
            while (ledger.Acknowledged.Count < MinAcknowledgedBeforeRestart && clock.Elapsed < s_sendTimeout && !senders.Any(t => t.IsCompleted))
            {
                await Task.Delay(10);
            }

            Assert.True(ledger.Failures.IsEmpty && ledger.Acknowledged.Count >= MinAcknowledgedBeforeRestart, string.Create(CultureInfo.InvariantCulture,
                $"before the {name}: {ledger.Acknowledged.Count} acknowledged, failures: {ledger.DescribeFailures()}{Environment.NewLine}{server.Output}"));
            int acknowledgedBefore = ledger.Acknowledged.Count;
            TimeSpan faultStarted = clock.Elapsed;
            string what;
            try
            {
                what = await fault(server);
            }
            finally
            {
                // Connections pooled in this test process (by other test classes) died with PostgreSQL as well.
                NpgsqlConnection.ClearAllPools();
            }

            TimeSpan faultEnded = clock.Elapsed;
            await Task.Delay(s_sendingAfterRestart);
            Volatile.Write(ref stop, 1);
            await Task.WhenAll(senders).WaitAsync(s_sendTimeout + TimeSpan.FromSeconds(10));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PostgreSQL {name} from {faultStarted.TotalSeconds:0.0} s to {faultEnded.TotalSeconds:0.0} s ({what.Trim()}); " +
                $"{acknowledgedBefore} acknowledged before, {ledger.Attempted.Count} attempted and {ledger.Acknowledged.Count} acknowledged in all; " +
                $"the hub reconnected {Volatile.Read(ref reconnects)} times; failures: {ledger.DescribeFailures()}"));

            string context = $"after the PostgreSQL {name}";
            Assert.True(!server.HasExited && server.ProcessId == processId, $"{context}: the relay process is gone.{Environment.NewLine}{server.Output}");
            IReadOnlyList<SendFailure> unclear = ledger.Unclear;
            Assert.True(unclear.Count == 0, string.Create(CultureInfo.InvariantCulture,
                $"{context}: {unclear.Count} of {ledger.Failures.Count} failed calls had no clear answer (a 503 problem, a hub error saying to try again): {ledger.DescribeFailures()}{Environment.NewLine}{server.Output}"));
            if (expectRefusals)
            {
                // Which senders were in the batch the writer gave up on is a matter of timing: a clear
                // refusal of any send (a 503 over REST or a hub error) shows the outage was reported.
                Assert.True(ledger.Failures.Any(f => f.Transport != "fetch" && f.IsClear && f.Detail.Contains("Try again", StringComparison.Ordinal)), string.Create(CultureInfo.InvariantCulture,
                    $"{context}: no send was refused although PostgreSQL was down for {s_outage.TotalSeconds:0} s: {ledger.DescribeFailures()}"));
            }

            // The relay recovers by itself: /healthz 200, the hub back, then new sends over REST and the hub succeed.
            TimeSpan healthyAfter = await Probes.UntilHealthyAsync(server, s_recoveryTimeout, context);
            Stopwatch reconnecting = Stopwatch.StartNew();
            while (!hub.IsConnected)
            {
                Assert.True(reconnecting.Elapsed < s_recoveryTimeout, $"{context}: the hub did not reconnect.{Environment.NewLine}{server.Output}");
                await Task.Delay(100);
            }

            Stopwatch recovering = Stopwatch.StartNew();
            int attempts = 0;
            while (await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"recovery {attempts++}")), s_sendTimeout) is not null)
            {
                Assert.True(recovering.Elapsed < s_recoveryTimeout, string.Create(CultureInfo.InvariantCulture,
                    $"{context}: sends still fail {recovering.Elapsed.TotalSeconds:0} s after /healthz was 200: {ledger.DescribeFailures()}{Environment.NewLine}{server.Output}"));
                await Task.Delay(200);
            }

            for (int i = 0; i < 10; i++)
            {
                SendFailure? failure = i % 2 == 0
                    ? await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"recovered {i}")), s_sendTimeout)
                    : await ledger.SendAsync(hub, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"recovered {i}")), s_sendTimeout);
                Assert.True(failure is null, $"{context}: a send failed after the relay had recovered: {failure}{Environment.NewLine}{server.Output}");
            }

            int unanswered = ledger.Attempted.Count - ledger.Acknowledged.Count;
            int duplicates = await ledger.RetryUnansweredAsync(pair.AliceApi, s_sendTimeout, context, server);
            List<EnvelopeDelivery> delivered = await pair.DrainBobAsync(context);
            ledger.Verify(delivered, pair.Conversation, everyAttemptRetried: true, context, server);

            IReadOnlyList<string> metrics = await Probes.MetricLinesAsync(server, _metricsToken, "database_retries", "problem_responses_total{status=\"5");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"/healthz 200 again {healthyAfter.TotalMilliseconds:0} ms after the senders ended; {attempts} attempts until a send succeeded; {unanswered} unanswered sends retried ({duplicates} had been stored); " +
                $"{delivered.Count} delivered to Bob exactly once; metrics: {string.Join(", ", metrics)}"));
            foreach (string line in Probes.Warnings(server).Take(30))
            {
                output.WriteLine($"server: {line}");
            }
        }
    }

    /// <summary>
    /// Stops PostgreSQL (fast shutdown), checks that /healthz says 503 while it is down, and starts
    /// it again after <see cref="s_outage"/>, with pg_ctl as the test instance's owner. PostgreSQL is
    /// started again whatever happens in between.
    /// </summary>
    private static async Task<string> StopAndStartAsync(ServerProcess server)
    {
        string bin = Required("COORDINATION_TEST_POSTGRES_BIN");
        string data = Required("COORDINATION_TEST_POSTGRES_DATA");
        string log = Required("COORDINATION_TEST_POSTGRES_LOG");
        string[] prefix = (Environment.GetEnvironmentVariable("COORDINATION_TEST_POSTGRES_USER_PREFIX") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string pgCtl = Path.Combine(bin, "pg_ctl");
        string[] Command(params string[] arguments) => [.. prefix, pgCtl, .. arguments];

        Stopwatch down = Stopwatch.StartNew();
        await RunAsync(Command("stop", "-D", data, "-m", "fast", "-w", "-t", "60"));
        HttpStatusCode? health;
        try
        {
            await Task.Delay(s_outage / 2);
            health = await Probes.HealthAsync(server, TimeSpan.FromSeconds(5));
            TimeSpan rest = s_outage - down.Elapsed;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }
        }
        finally
        {
            await RunAsync(Command("start", "-D", data, "-l", log, "-w", "-t", "60"));
        }

        Assert.True(health == HttpStatusCode.ServiceUnavailable, string.Create(CultureInfo.InvariantCulture,
            $"/healthz answered {(health is { } status ? ((int)status).ToString(CultureInfo.InvariantCulture) : "nothing within 5 s")} while PostgreSQL was down; 503 was expected.{Environment.NewLine}{server.Output}"));
        return string.Create(CultureInfo.InvariantCulture, $"down {down.Elapsed.TotalSeconds:0.0} s; /healthz answered 503 meanwhile");
    }

    private static string ControlScript() => Required(PostgresRestartFactAttribute.ControlVariable);

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{variable} is not set (scripts/postgres-instance.sh start exports it).");

    /// <summary>The admin connection outside the pool: a restart in between must not hand this test a dead one.</summary>
    private static NpgsqlConnection Unpooled(string admin) => new(new NpgsqlConnectionStringBuilder(admin) { Pooling = false }.ConnectionString);

    /// <summary>Sends until told to stop; a failed send waits a little before the next, as a client would.</summary>
    private static async Task SendLoopAsync(Func<SendEnvelope, Task<SendFailure?>> send, FaultPair pair, string sender, Func<bool> stopped)
    {
        for (int i = 0; !stopped(); i++)
        {
            if (await send(pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"{sender} message {i}"))) is not null)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Runs a command, bounded by <see cref="s_restartTimeout"/>; fails unless it exits with 0; returns what it printed.</summary>
    private static Task<string> RunAsync(string[] command) => RunAsync(command[0], command[1..]);

    private static async Task<string> RunAsync(string fileName, string[] arguments)
    {
        ProcessStartInfo start = new(fileName, arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(s_restartTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string printed = (await stdout + await stderr).Trim();
        Assert.True(process.ExitCode == 0, string.Create(CultureInfo.InvariantCulture,
            $"{fileName} {string.Join(' ', arguments)} failed with {process.ExitCode}: {printed}"));
        return printed;
    }
}
