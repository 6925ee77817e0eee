using System.Threading.Channels;
using Coordination.Protocol;
using Coordination.Server.Operations;
using Microsoft.AspNetCore.SignalR;

namespace Coordination.Server.Relay;

/// <summary>
/// Pushes committed envelopes to the connected devices of a conversation, in commit order, on its
/// own loop so the writer never waits for the network.
/// </summary>
public sealed class LiveDelivery : BackgroundService
{
    private readonly Channel<(EnvelopeDelivery Envelope, string? SenderConnectionId)> _queue =
        Channel.CreateUnbounded<(EnvelopeDelivery, string?)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly IHubContext<RelayHub, IRelayClient> _hub;
    private readonly RelayMetrics _metrics;

    // Envelopes queued and not yet taken (the single-reader channel cannot count them).
    private long _queued;

    public LiveDelivery(IHubContext<RelayHub, IRelayClient> hub, RelayMetrics metrics)
    {
        _hub = hub;
        _metrics = metrics;
        metrics.ObserveDeliveryQueue(() => (int)Math.Max(0, Interlocked.Read(ref _queued)));
    }

    public static string GroupFor(Guid conversationId) => "c:" + conversationId.ToString("N");

    public void Enqueue(EnvelopeDelivery envelope, string? senderConnectionId)
    {
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite((envelope, senderConnectionId)))
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach ((EnvelopeDelivery envelope, string? sender) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                Interlocked.Decrement(ref _queued);
                string group = GroupFor(envelope.ConversationId);
                IRelayClient clients = sender is null ? _hub.Clients.Group(group) : _hub.Clients.GroupExcept(group, sender);
                try
                {
                    await clients.ReceiveEnvelope(envelope);
                    _metrics.LiveDelivered();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _metrics.LiveDeliveryFailed();
                    // A connection that drops mid-send fetches what it missed when it comes back.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
