using System.Diagnostics;
using System.Text.Json;
using Coordination.Client.Hub;
using Coordination.Crypto;
using Coordination.Protocol;
using Microsoft.AspNetCore.Builder;

namespace Coordination.Benchmarks;

/// <summary>(e): many groups at once, a sender in every one; the relay against the bare hub with the same groups, in the same run.</summary>
internal sealed record ManyCellsScenario(
    int Groups,
    int MembersPerGroup,
    FanOutScenario Baseline,
    FanOutScenario Relay);

/// <summary>
/// (e) 20 cells of 50 members (1,000 connections), one member of every cell sending: the relay's
/// fan-out when the deliveries are spread over many groups, against (e0), the bare SignalR hub of (a)
/// with 20 groups of 50 in which one member of each broadcasts to the 49 others.
/// </summary>
internal static class ManyCells
{
    public static async Task<ManyCellsScenario> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        FanOutScenario baseline = await RunBaselineAsync(options, ct);
        FanOutScenario relay = await RunRelayAsync(options, ct);
        return new ManyCellsScenario(options.Cells, options.Members, baseline, relay);
    }

    private static async Task<FanOutScenario> RunBaselineAsync(BenchmarkOptions options, CancellationToken ct)
    {
        int groups = options.Cells;
        int members = options.Members;
        long setupStarted = Stopwatch.GetTimestamp();
        await using WebApplication app = BroadcastBaseline.BuildHost(serialFanOut: false);
        await app.StartAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Uri hubUrl = new(new Uri(app.Urls.First()), BroadcastBaseline.HubPath);
        Progress.Say($"(e0) baseline hub at {hubUrl}; connecting {groups} groups of {members}");

        MessageClock clock = new();
        int total = groups * members;
        DeliveryCounter[] counters = [.. Enumerable.Range(0, total).Select(_ => new DeliveryCounter())];
        HubConnection[] hubs = await HubClients.ConnectAllAsync(hubUrl, new string?[total], (i, hub) =>
            hub.On<JsonElement>("Receive", payload =>
            {
                long now = Stopwatch.GetTimestamp();
                counters[i].Increment();
                if (clock.Active)
                {
                    clock.Delivered(Payloads.IdOfBaselinePayload(payload.GetBytesFromBase64()), now);
                }

                return Task.CompletedTask;
            }), ct);
        try
        {
            await Parallel.ForAsync(0, total, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
                await hubs[i].InvokeAsync(nameof(BroadcastHub.Join), [GroupName(i / members)], token).WaitAsync(TimeSpan.FromSeconds(30), token));

            // The relay's payload size on the wire, so that the ratio is the relay's code against SignalR's.
            int payloadBytes = BroadcastBaseline.RelaySized(options).PayloadBytes;
            byte[] template = SecureRandom.Bytes(payloadBytes);
            SendOne[] send = [.. Enumerable.Range(0, groups).Select(g =>
            {
                HubConnection hub = hubs[g * members];
                string group = GroupName(g);
                return (SendOne)((id, token) => hub.InvokeAsync(nameof(BroadcastHub.BroadcastToOthers), [group, Payloads.BaselinePayload(id, template)], token));
            })];
            Func<long> deliveries = DeliveryCounter.Total(counters);
            int fanOut = members - 1;
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;
            (ThroughputRun throughput, FixedRateRun latency) = await MeasureAsync("(e0)", options, send, deliveries, fanOut, clock, ct);
            int wireBytes = BroadcastBaseline.WireBytes("Receive", [Payloads.BaselinePayload(1, template)]);
            return new FanOutScenario(
                $"(e0) SignalR baseline, {groups} groups of {members}", total, groups, fanOut, payloadBytes, wireBytes, Math.Round(setupSeconds, 2), latency, throughput);
        }
        finally
        {
            await HubClients.DisposeAllAsync(hubs);
            await app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<FanOutScenario> RunRelayAsync(BenchmarkOptions options, CancellationToken ct)
    {
        int groups = options.Cells;
        int members = options.Members;
        int total = groups * members;
        long setupStarted = Stopwatch.GetTimestamp();
        await using RelayHost relay = new(Path.Combine(options.DataRoot, "relay-cells"), options.SingletonDbContextOptions);
        Uri server = relay.ServerAddress;
        Progress.Say($"(e) relay at {server}; registering and logging in {total} accounts for {groups} cells");
        BenchDevice[] devices = await BenchDevice.CreateManyAsync(server, total, ct);
        HubConnection[] hubs = [];
        try
        {
            Guid[] cells = new Guid[groups];
            for (int g = 0; g < groups; g++)
            {
                cells[g] = await relay.CreateCellAsync([.. devices.Skip(g * members).Take(members).Select(d => d.AccountId)], ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            }

            MessageClock clock = new();
            DeliveryCounter[] counters = [.. devices.Select(_ => new DeliveryCounter())];
            Progress.Say($"(e) connecting {total} hub connections");
            hubs = await HubClients.ConnectAllAsync(
                new Uri(server, RelayHubContract.Path), [.. devices.Select(d => d.Api.Token)], (i, hub) => RelayScenarios.CountDeliveries(hub, counters[i], clock), ct);
            byte[][] pool = Payloads.GroupCiphertexts(256, epoch: 0);
            SendOne[] send = [.. Enumerable.Range(0, groups).Select(g =>
            {
                HubConnection hub = hubs[g * members];
                Guid cell = cells[g];
                return (SendOne)((id, token) => hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [Payloads.Envelope(cell, id, pool)], token));
            })];
            Func<long> deliveries = DeliveryCounter.Total(counters);
            int fanOut = members - 1;
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;
            (ThroughputRun throughput, FixedRateRun latency) = await MeasureAsync("(e)", options, send, deliveries, fanOut, clock, ct);
            return new FanOutScenario(
                $"(e) Relay, {groups} cells of {members}", total, groups, fanOut, Payloads.PlaintextBytes,
                BroadcastBaseline.RelayWireBytes(), Math.Round(setupSeconds, 2), latency, throughput);
        }
        finally
        {
            await HubClients.DisposeAllAsync(hubs);
            BenchDevice.DisposeAll(devices);
        }
    }

    private static async Task<(ThroughputRun Throughput, FixedRateRun Latency)> MeasureAsync(
        string tag, BenchmarkOptions options, SendOne[] send, Func<long> deliveries, int fanOut, MessageClock clock, CancellationToken ct)
    {
        Progress.Say($"{tag} warm-up at full load for {options.WarmupSeconds} s");
        await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, options.CellInFlight, deliveries, fanOut, TimeSpan.Zero, options.Warmup), ct);
        Progress.Say($"{tag} max throughput, {send.Length} senders x {options.CellInFlight} in flight, {options.Seconds} s");
        ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
            new ClosedLoopPlan(send, options.CellInFlight, deliveries, fanOut, options.Ramp, options.Duration), ct);
        Progress.Say($"{tag} fixed rate {options.GroupRate}/s for {options.LatencySeconds} s");
        FixedRateRun latency = await LoadDriver.RunFixedRateAsync(
            new FixedRatePlan(send, options.GroupRate, deliveries, fanOut, options.Ramp, options.LatencyDuration, clock), ct);
        return (throughput, latency);
    }

    private static string GroupName(int group) => "cell-" + group.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
