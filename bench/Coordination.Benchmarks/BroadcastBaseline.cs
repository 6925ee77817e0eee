using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text.Json;
using Coordination.Client.Hub;
using Coordination.Crypto;
using Coordination.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Benchmarks;

/// <summary>The baseline hub: no authentication, no storage, one group, one broadcast.</summary>
[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "SignalR creates hubs.")]
internal sealed class BroadcastHub(SerialFanOut? serial = null) : Hub
{
    public Task Join(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

    public Task Broadcast(string group, byte[] payload) =>
        serial is null ? Clients.Group(group).SendAsync("Receive", payload) : serial.Enqueue(group, payload);

    /// <summary>(e0): to the group's other members, as the relay pushes a cell send to every member but the sender.</summary>
    public Task BroadcastToOthers(string group, byte[] payload) => Clients.OthersInGroup(group).SendAsync("Receive", payload);
}

/// <summary>
/// Investigation mode (--baseline-fan-out serial): the broadcast is pushed from one background loop,
/// one group send at a time, as the relay's LiveDelivery does; the invocation completes once queued.
/// </summary>
[SuppressMessage("Performance", "CA1812:Avoid uninstantiated internal classes", Justification = "Created by dependency injection.")]
internal sealed class SerialFanOut(IHubContext<BroadcastHub> hub) : BackgroundService
{
    private readonly System.Threading.Channels.Channel<(string Group, byte[] Payload)> _queue =
        System.Threading.Channels.Channel.CreateUnbounded<(string, byte[])>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });

    public Task Enqueue(string group, byte[] payload)
    {
        _queue.Writer.TryWrite((group, payload));
        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach ((string group, byte[] payload) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await hub.Clients.Group(group).SendAsync("Receive", payload, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Results of a fan-out scenario: one group, every send pushed to every other member.</summary>
internal sealed record FanOutScenario(
    string Name,
    int Connections,
    int Senders,
    int FanOut,
    int PayloadBytes,
    int WireBytesPerDelivery,
    double SetupSeconds,
    FixedRateRun? Latency,
    ThroughputRun Throughput);

/// <summary>Which baseline to run: (a) with the 512-byte payload, or (a') with a payload as large on the wire as the relay's envelope.</summary>
internal sealed record BaselineVariant(string Tag, string Name, int PayloadBytes, TimeSpan Warmup, bool MeasureLatency);

/// <summary>(a) A bare SignalR broadcast hub hosted here, driven by the same SDK client as the relay.</summary>
internal static class BroadcastBaseline
{
    public const string HubPath = "/hubs/broadcast";
    public const string Group = "bench";

    public static BaselineVariant Standard(BenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // (a) runs first, in a cold process: it compiles Kestrel's, SignalR's and the JSON code for everyone, so it warms up longer.
        return new BaselineVariant("(a)", "(a) SignalR broadcast baseline", options.BaselinePayloadBytes, options.Warmup * 1.5, MeasureLatency: true);
    }

    /// <summary>
    /// (a') The baseline carrying as many bytes per delivery as the relay's envelope: it separates what
    /// the relay's padding and envelope encoding cost from what the relay's own code costs. It runs
    /// after (a) in the same process, so a short warm-up suffices, and it only measures throughput.
    /// </summary>
    public static BaselineVariant RelaySized(BenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int overhead = WireBytes("Receive", [Array.Empty<byte>()]);
        int payload = (RelayWireBytes() - overhead) / 4 * 3;
        return new BaselineVariant("(a')", "(a') SignalR baseline, relay-sized payload", payload, TimeSpan.FromSeconds(Math.Min(2, options.WarmupSeconds)), MeasureLatency: false);
    }

    /// <summary>The bytes of one relay delivery on the wire: a 1024-byte ciphertext in an envelope.</summary>
    public static int RelayWireBytes()
    {
        EnvelopeDelivery sample = new(Guid.NewGuid(), 1_000_000, Guid.NewGuid(), new byte[Payloads.RelayCiphertextBytes], DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
        return WireBytes(nameof(IRelayClient.ReceiveEnvelope), [sample]);
    }

    public static async Task<FanOutScenario> RunAsync(BenchmarkOptions options, BaselineVariant variant, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(variant);
        string tag = variant.Tag;
        long setupStarted = Stopwatch.GetTimestamp();
        await using WebApplication app = BuildHost(options.SerialBaselineFanOut);
        await app.StartAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Uri hubUrl = new(new Uri(app.Urls.First()), HubPath);
        Progress.Say($"{tag} baseline hub at {hubUrl}; connecting {options.Members} receivers and {options.GroupSenders} senders; {variant.PayloadBytes}-byte payloads");

        MessageClock clock = new();
        DeliveryCounter[] counters = [.. Enumerable.Range(0, options.Members).Select(_ => new DeliveryCounter())];
        HubConnection[] receivers = await HubClients.ConnectAllAsync(hubUrl, new string?[options.Members], (i, hub) =>
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
        HubConnection[] senders = [];
        try
        {
            await Task.WhenAll(receivers.Select(r => r.InvokeAsync(nameof(BroadcastHub.Join), [Group], ct))).WaitAsync(TimeSpan.FromSeconds(30), ct);
            senders = await HubClients.ConnectAllAsync(hubUrl, new string?[options.GroupSenders], (_, _) => { }, ct);
            byte[] template = SecureRandom.Bytes(variant.PayloadBytes);
            SendOne[] send = [.. senders.Select(hub => (SendOne)((id, token) =>
                hub.InvokeAsync(nameof(BroadcastHub.Broadcast), [Group, Payloads.BaselinePayload(id, template)], token)))];
            Func<long> deliveries = DeliveryCounter.Total(counters);
            double setupSeconds = Stopwatch.GetElapsedTime(setupStarted).TotalSeconds;

            Progress.Say($"{tag} warm-up at full load for {variant.Warmup.TotalSeconds} s");
            await LoadDriver.WarmUpAsync(new ClosedLoopPlan(send, options.GroupInFlight, deliveries, options.Members, TimeSpan.Zero, variant.Warmup), ct);
            Progress.Say($"{tag} max throughput, {options.GroupSenders} senders x {options.GroupInFlight} in flight, {options.Seconds} s");
            ThroughputRun throughput = await LoadDriver.RunClosedLoopAsync(
                new ClosedLoopPlan(send, options.GroupInFlight, deliveries, options.Members, options.Ramp, options.Duration), ct);
            FixedRateRun? latency = null;
            if (variant.MeasureLatency)
            {
                Progress.Say($"{tag} fixed rate {options.GroupRate}/s for {options.LatencySeconds} s");
                latency = await LoadDriver.RunFixedRateAsync(
                    new FixedRatePlan(send, options.GroupRate, deliveries, options.Members, options.Ramp, options.LatencyDuration, clock), ct);
            }

            int wireBytes = WireBytes("Receive", [Payloads.BaselinePayload(1, template)]);
            return new FanOutScenario(
                variant.Name, options.Members + options.GroupSenders, options.GroupSenders, options.Members,
                variant.PayloadBytes, wireBytes, Math.Round(setupSeconds, 2), latency, throughput);
        }
        finally
        {
            await HubClients.DisposeAllAsync([.. receivers, .. senders]);
            await app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The size of one server-to-client invocation record as the server writes it (JSON hub protocol, camelCase).</summary>
    public static int WireBytes(string target, object?[] arguments)
    {
        JsonHubProtocol protocol = new();
        return protocol.GetMessageBytes(new InvocationMessage(target, arguments)).Length;
    }

    public static WebApplication BuildHost(bool serialFanOut)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new WarningsToStderrProvider());
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        // The relay's hub limits, so that the difference measured is authentication, storage and the relay's own code.
        builder.Services.AddSignalR(hub =>
        {
            hub.MaximumReceiveMessageSize = Limits.MaxWireMessageBytes;
            hub.MaximumParallelInvocationsPerClient = 8;
            hub.EnableDetailedErrors = false;
        });
        if (serialFanOut)
        {
            builder.Services.AddSingleton<SerialFanOut>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SerialFanOut>());
        }

        WebApplication app = builder.Build();
        app.UseWebSockets();
        app.MapHub<BroadcastHub>(HubPath, hub =>
        {
            hub.Transports = HttpTransportType.WebSockets;
            hub.ApplicationMaxBufferSize = Limits.MaxWireMessageBytes;
            hub.TransportMaxBufferSize = Limits.MaxWireMessageBytes;
        });
        return app;
    }
}
