using System.Threading.Channels;
using Coordination.Protocol;
using Microsoft.AspNetCore.SignalR;

namespace Coordination.Server.Relay;

/// <summary>
/// Pushes committed envelopes to the connected devices of a conversation, in commit order, on its
/// own loop so the writer never waits for the network.
/// </summary>
public sealed class LiveDelivery(IHubContext<RelayHub, IRelayClient> hub) : BackgroundService
{
    private readonly Channel<(EnvelopeDelivery Envelope, string? SenderConnectionId)> _queue =
        Channel.CreateUnbounded<(EnvelopeDelivery, string?)>(new UnboundedChannelOptions { SingleReader = true });

    public static string GroupFor(Guid conversationId) => "c:" + conversationId.ToString("N");

    public void Enqueue(EnvelopeDelivery envelope, string? senderConnectionId) => _queue.Writer.TryWrite((envelope, senderConnectionId));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach ((EnvelopeDelivery envelope, string? sender) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                string group = GroupFor(envelope.ConversationId);
                IRelayClient clients = sender is null ? hub.Clients.Group(group) : hub.Clients.GroupExcept(group, sender);
                try
                {
                    await clients.ReceiveEnvelope(envelope);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A connection that drops mid-send fetches what it missed when it comes back.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
