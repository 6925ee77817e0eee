using System.Diagnostics;
using Coordination.Client.Cells;
using Coordination.Client.Intake;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Benchmarks;

/// <summary>Results of (g): anonymous sealed reports accepted (stored durably) per second.</summary>
internal sealed record IntakeScenario(
    string Name,
    int Intakes,
    int Reporters,
    int PowDifficulty,
    int SealedReportBytes,
    double SetupSeconds,
    ThroughputRun Throughput,
    FixedRateRun Latency);

/// <summary>
/// (g) Intake submissions: an organizer creates a cell with the SDK's CellClient and opens 8 intakes
/// (one per reporter, one submission in flight each) at the lowest proof-of-work difficulty the relay allows (8 bits), with the
/// per-intake submission limit raised. Each reporter uses the SDK's ReporterClient, as a reporter's
/// device does: fetch the intake's public key, seal a report (1 KiB padded), ask for a challenge, solve
/// it, submit. A submission counts once the relay has answered 201 (stored durably; its receipt lookup
/// id is an Argon2id hash, done on at most min(cores, 4) threads at a time). Compared with (c), durable
/// direct sends of the same size, measured in the same run.
/// </summary>
internal static class IntakeSubmissions
{
    private const int Intakes = 8;
    private const int InFlightPerReporter = 1;

    public static async Task<IntakeScenario> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        long setupStarted = Stopwatch.GetTimestamp();
        string unlimited = 1_000_000.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Dictionary<string, string> settings = new()
        {
            ["RateLimits:IntakeSubmissionsPerMinute"] = unlimited,
            ["RateLimits:ReceiptChecksPerMinute"] = unlimited,
        };
        string dataDirectory = Path.Combine(options.DataRoot, "relay-intake");
        await using RelayHost relay = new(dataDirectory, options.SingletonDbContextOptions, settings);
        Uri server = relay.ServerAddress;
        Progress.Say($"(g) relay at {server}; an organizer creates a cell and opens {Intakes} intakes (proof of work {IntakeLimitsMinimumDifficulty} bits)");
        BenchDevice[] organizer = await BenchDevice.CreateManyAsync(server, 1, ct);
        ReporterClient[] reporters = [];
        using LocalMessageStore store = LocalMessageStore.Open(Path.Combine(options.DataRoot, "organizer-store"), SecureRandom.Bytes(32));
        try
        {
            CellClient cells = new(organizer[0].Identity, organizer[0].Api, store);
            CellView cell = await cells.CreateAsync(ConversationKind.Cell, "Intake", null, "Organizer", null, ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            Guid[] intakes = new Guid[Intakes];
            for (int i = 0; i < Intakes; i++)
            {
                using X25519KeyPair key = X25519KeyPair.Generate();

                // The relay stores the sealed private key without reading it; only its length is checked.
                IntakeInfo intake = await organizer[0].Api.OpenIntakeAsync(
                    cell.CellId, new OpenIntakeRequest(key.PublicKey.ToArray(), SecureRandom.Bytes(72), 30, IntakeLimitsMinimumDifficulty), ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
                intakes[i] = intake.IntakeId;
            }

            reporters = [.. intakes.Select(_ => ReporterClient.Create(server))];
            int sealedBytes;
            using (X25519KeyPair probe = X25519KeyPair.Generate())
            {
                sealedBytes = IntakeFormat.SealReport(
                    new IntakeReportContent("report", "en", new Dictionary<string, string> { ["what"] = new string('x', Payloads.PlaintextBytes) }, Coordination.Protocol.Receipts.ReceiptPhrase.Generate(), DateOnly.FromDateTime(DateTime.UtcNow)),
                    probe.PublicKey).Length;
            }

            Dictionary<string, string> answers = new() { ["what"] = new string('x', Payloads.PlaintextBytes) };
            SendOne[] send = [.. reporters.Select((reporter, i) => (SendOne)((_, token) =>
                reporter.SubmitSealedAsync(intakes[i], "report", "en", answers, token)))];
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;
            Func<long> none = () => 0;

            Progress.Say($"(g) warm-up at full load for {options.WarmupSeconds} s");
            await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, InFlightPerReporter, none, 0, TimeSpan.Zero, options.Warmup), ct);
            Progress.Say($"(g) max throughput, {send.Length} reporters x {InFlightPerReporter} in flight, {options.Seconds} s");
            ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
                new ClosedLoopPlan(send, InFlightPerReporter, none, 0, options.Ramp, options.Duration), ct);
            Progress.Say($"(g) fixed rate {options.IntakeRate}/s for {options.LatencySeconds} s");
            FixedRateRun latency = await LoadDriver.RunFixedRateAsync(
                new FixedRatePlan(send, options.IntakeRate, none, 0, options.Ramp, options.LatencyDuration, null), ct);
            return new IntakeScenario(
                "(g) Intake sealed reports", Intakes, reporters.Length, IntakeLimitsMinimumDifficulty, sealedBytes, Math.Round(setupSeconds, 2), throughput, latency);
        }
        finally
        {
            foreach (ReporterClient reporter in reporters)
            {
                reporter.Dispose();
            }

            BenchDevice.DisposeAll(organizer);
        }
    }

    /// <summary>The relay's lowest accepted difficulty (Coordination.Server.Intake.IntakeLimits.MinPowDifficulty).</summary>
    private static int IntakeLimitsMinimumDifficulty => Coordination.Server.Intake.IntakeLimits.MinPowDifficulty;
}
