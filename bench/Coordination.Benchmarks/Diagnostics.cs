using System.Diagnostics;
using System.Text.Json;
using Coordination.Protocol;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Benchmarks;

/// <summary>What a hub invocation costs before the hub method runs: SignalR creates a DI scope and the hub per invocation.</summary>
internal sealed record HubActivationCost(double WithDbContextMicros, double DbContextOptionsOnlyMicros, double WithoutDbContextMicros);

/// <summary>Per-operation CPU costs measured in isolation on one thread, to explain the scenario numbers.</summary>
internal sealed record CostBreakdown(
    double ClientReceiveBaselineMicros,
    double ClientReceiveRelayMicros,
    double ClientReceiveRelayTypedMicros,
    double ServerSerializeBaselineMicros,
    double ServerSerializeRelayMicros);

internal static class Diagnostics
{
    private static readonly TimeSpan _warmup = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan _round = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The relay hub's activation as SignalR performs it for every invocation (a scope and the hub
    /// with its constructor dependencies), against the same scope resolving only what Send needs.
    /// </summary>
    public static HubActivationCost MeasureHubActivation(IServiceProvider services)
    {
        ObjectFactory createHub = ActivatorUtilities.CreateFactory(typeof(RelayHub), Type.EmptyTypes);
        IServiceScopeFactory scopes = services.GetRequiredService<IServiceScopeFactory>();
        double[] micros = MicrosPer(
            () =>
            {
                using IServiceScope scope = scopes.CreateScope();
                using RelayHub hub = (RelayHub)createHub(scope.ServiceProvider, null);
            },
            () =>
            {
                using IServiceScope scope = scopes.CreateScope();
                _ = scope.ServiceProvider.GetRequiredService<DbContextOptions<SqliteCoordinationDbContext>>();
            },
            () =>
            {
                using IServiceScope scope = scopes.CreateScope();
                _ = scope.ServiceProvider.GetRequiredService<EnvelopeRelay>();
                _ = scope.ServiceProvider.GetRequiredService<ConnectionRegistry>();
                _ = scope.ServiceProvider.GetRequiredService<TimeProvider>();
            });
        return new HubActivationCost(micros[0], micros[1], micros[2]);
    }

    /// <summary>The SDK client's receive path per delivery (replicated: parse the record, clone the arguments, bind them) and the server's serialization per group message.</summary>
    public static CostBreakdown MeasureMessageCosts(int baselinePayloadBytes)
    {
        JsonHubProtocol protocol = new();
        InvocationMessage baseline = new("Receive", [new byte[baselinePayloadBytes]]);
        InvocationMessage relay = new(nameof(IRelayClient.ReceiveEnvelope),
            [new EnvelopeDelivery(Guid.NewGuid(), 1_000_000, Guid.NewGuid(), Payloads.RelayCiphertexts(1)[0], DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds())]);
        ReadOnlyMemory<byte> baselineRecord = Record(protocol, baseline);
        ReadOnlyMemory<byte> relayRecord = Record(protocol, relay);
        double[] micros = MicrosPer(
            () => ClientReceive(baselineRecord, typeof(JsonElement)),
            () => ClientReceive(relayRecord, typeof(JsonElement)),
            () => ClientReceive(relayRecord, typeof(EnvelopeDelivery)),
            () => protocol.GetMessageBytes(baseline),
            () => protocol.GetMessageBytes(relay));
        return new CostBreakdown(micros[0], micros[1], micros[2], micros[3], micros[4]);
    }

    /// <summary>What HubConnection does with each incoming invocation record, with the handler's parameter type.</summary>
    private static void ClientReceive(ReadOnlyMemory<byte> record, Type parameter)
    {
        using JsonDocument document = JsonDocument.Parse(record);
        JsonElement message = document.RootElement;
        _ = message.GetProperty("type"u8).GetInt32();
        _ = message.GetProperty("target"u8).GetString();
        JsonElement arguments = message.GetProperty("arguments"u8).Clone();
        foreach (JsonElement argument in arguments.EnumerateArray())
        {
            _ = argument.Deserialize(parameter, JsonSerializerOptions.Web);
        }
    }

    private static ReadOnlyMemory<byte> Record(JsonHubProtocol protocol, HubMessage message)
    {
        ReadOnlyMemory<byte> bytes = protocol.GetMessageBytes(message);
        return bytes[..^1]; // without the record separator
    }

    /// <summary>
    /// Microseconds per call of each action: a bounded warm-up of all of them in turn (so that tiered
    /// compilation has promoted every one before any is measured), then for each the fastest of three
    /// short rounds, which filters out pauses and noise.
    /// </summary>
    private static double[] MicrosPer(params Action[] actions)
    {
        long warmEnd = Stopwatch.GetTimestamp() + (long)(_warmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmEnd)
        {
            foreach (Action action in actions)
            {
                _ = RunFor(action, TimeSpan.FromMilliseconds(20));
            }
        }

        double[] micros = new double[actions.Length];
        for (int i = 0; i < actions.Length; i++)
        {
            double best = double.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                best = Math.Min(best, RunFor(actions[i], _round));
            }

            micros[i] = Math.Round(best, 2);
        }

        return micros;
    }

    private static double RunFor(Action action, TimeSpan duration)
    {
        long calls = 0;
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            for (int i = 0; i < 16; i++)
            {
                action();
            }

            calls += 16;
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls;
    }
}
