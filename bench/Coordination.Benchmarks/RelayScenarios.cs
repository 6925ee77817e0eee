using System.Diagnostics;
using System.Text.Json;
using Coordination.Client.Hub;
using Coordination.Protocol;

namespace Coordination.Benchmarks;

/// <summary>Results of the direct-conversation scenario: many pairs, every send acknowledged durably.</summary>
internal sealed record DirectScenario(
    string Name,
    int Pairs,
    int Senders,
    int PayloadBytes,
    int CiphertextBytes,
    double SetupSeconds,
    FixedRateRun Latency,
    ThroughputRun Throughput,
    HubActivationCost HubActivation);

/// <summary>(b) and (c): the real relay, driven over real sockets by the SDK's REST and hub clients.</summary>
internal static class RelayScenarios
{
    /// <summary>(b) One cell with every member connected; a few members send, each send reaches the others live.</summary>
    public static async Task<FanOutScenario> RunGroupAsync(BenchmarkOptions options, CancellationToken ct)
    {
        long setupStarted = Stopwatch.GetTimestamp();
        await using RelayHost relay = new(Path.Combine(options.DataRoot, "relay-group"), options.SingletonDbContextOptions);
        Uri server = relay.ServerAddress;
        Progress.Say($"(b) relay at {server}; registering and logging in {options.Members} accounts");
        BenchDevice[] devices = await BenchDevice.CreateManyAsync(server, options.Members, ct);
        HubConnection[] hubs = [];
        try
        {
            Guid cell = await relay.CreateCellAsync([.. devices.Select(d => d.AccountId)], ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
            MessageClock clock = new();
            DeliveryCounter[] counters = [.. devices.Select(_ => new DeliveryCounter())];
            hubs = await HubClients.ConnectAllAsync(
                new Uri(server, RelayHubContract.Path), [.. devices.Select(d => d.Api.Token)], (i, hub) => CountDeliveries(hub, counters[i], clock), ct);
            byte[][] pool = Payloads.GroupCiphertexts(256, epoch: 0);
            SendOne[] send = [.. hubs.Take(options.GroupSenders).Select(hub => (SendOne)((id, token) =>
                hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [Payloads.Envelope(cell, id, pool)], token)))];
            Func<long> deliveries = DeliveryCounter.Total(counters);
            int fanOut = options.Members - 1;
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;

            Progress.Say($"(b) warm-up at full load for {options.WarmupSeconds} s");
            await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, options.GroupInFlight, deliveries, fanOut, TimeSpan.Zero, options.Warmup), ct);
            Progress.Say($"(b) max throughput, {options.GroupSenders} senders x {options.GroupInFlight} in flight, {options.Seconds} s");
            ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
                new ClosedLoopPlan(send, options.GroupInFlight, deliveries, fanOut, options.Ramp, options.Duration), ct);
            Progress.Say($"(b) fixed rate {options.GroupRate}/s for {options.LatencySeconds} s");
            FixedRateRun latency = await LoadDriver.RunFixedRateAsync(
                new FixedRatePlan(send, options.GroupRate, deliveries, fanOut, options.Ramp, options.LatencyDuration, clock), ct);

            return new FanOutScenario(
                "(b) Relay cell fan-out", options.Members, options.GroupSenders, fanOut, Payloads.PlaintextBytes,
                BroadcastBaseline.RelayWireBytes(), Math.Round(setupSeconds, 2), latency, throughput);
        }
        finally
        {
            await HubClients.DisposeAllAsync(hubs);
            BenchDevice.DisposeAll(devices);
        }
    }

    /// <summary>(c) Many direct conversations; both devices of every pair send, each send is acknowledged once durable.</summary>
    public static async Task<DirectScenario> RunDirectAsync(BenchmarkOptions options, CancellationToken ct)
    {
        long setupStarted = Stopwatch.GetTimestamp();
        await using RelayHost relay = new(Path.Combine(options.DataRoot, "relay-direct"), options.SingletonDbContextOptions);
        Uri server = relay.ServerAddress;
        Progress.Say($"(c) relay at {server}; registering {2 * options.Pairs} accounts and opening {options.Pairs} direct conversations");
        BenchDevice[] devices = await BenchDevice.CreateManyAsync(server, 2 * options.Pairs, ct);
        HubConnection[] hubs = [];
        try
        {
            Guid[] conversations = new Guid[options.Pairs];
            await Parallel.ForAsync(0, options.Pairs, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
                conversations[i] = (await devices[2 * i].Api.OpenDirectConversationAsync(devices[(2 * i) + 1].AccountId, token)).ConversationId);

            MessageClock clock = new();
            DeliveryCounter[] counters = [.. devices.Select(_ => new DeliveryCounter())];
            hubs = await HubClients.ConnectAllAsync(
                new Uri(server, RelayHubContract.Path), [.. devices.Select(d => d.Api.Token)], (i, hub) => CountDeliveries(hub, counters[i], clock), ct);
            byte[][] pool = Payloads.RelayCiphertexts(256);
            SendOne[] send = [.. hubs.Select((hub, i) =>
            {
                Guid conversation = conversations[i / 2];
                return (SendOne)((id, token) => hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [Payloads.Envelope(conversation, id, pool)], token));
            })];
            Func<long> deliveries = DeliveryCounter.Total(counters);
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;

            // The full warm-up even after (b): set-up (64 registrations and logins, 32 conversations over
            // REST) leaves thousands of methods queued for tiered recompilation on two busy cores.
            Progress.Say($"(c) warm-up at full load for {options.WarmupSeconds} s");
            await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, options.DirectInFlight, deliveries, 1, TimeSpan.Zero, options.Warmup), ct);
            Progress.Say($"(c) max throughput, {send.Length} senders x {options.DirectInFlight} in flight, {options.Seconds} s");
            ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
                new ClosedLoopPlan(send, options.DirectInFlight, deliveries, 1, options.Ramp, options.Duration), ct);
            Progress.Say($"(c) fixed rate {options.DirectRate}/s for {options.LatencySeconds} s");
            FixedRateRun latency = await LoadDriver.RunFixedRateAsync(
                new FixedRatePlan(send, options.DirectRate, deliveries, 1, options.Ramp, options.LatencyDuration, clock), ct);

            Progress.Say("(c) hub activation cost per invocation");
            HubActivationCost activation = Diagnostics.MeasureHubActivation(relay.Services);
            return new DirectScenario(
                "(c) Relay direct sends", options.Pairs, send.Length, Payloads.PlaintextBytes, Payloads.RelayCiphertextBytes,
                Math.Round(setupSeconds, 2), latency, throughput, activation);
        }
        finally
        {
            await HubClients.DisposeAllAsync(hubs);
            BenchDevice.DisposeAll(devices);
        }
    }

    /// <summary>
    /// Counts live deliveries; during a fixed-rate run also records send→receive latency from the
    /// message id (and, with <paramref name="partition"/>, in that partition of the clock too).
    /// </summary>
    internal static void CountDeliveries(HubConnection hub, DeliveryCounter counter, MessageClock clock, int partition = -1) =>
        hub.On<JsonElement>(nameof(IRelayClient.ReceiveEnvelope), envelope =>
        {
            long now = Stopwatch.GetTimestamp();
            counter.Increment();
            if (clock.Active)
            {
                clock.Delivered(Payloads.IdOf(envelope.GetProperty("messageId"u8).GetGuid()), now, partition);
            }

            return Task.CompletedTask;
        });
}
