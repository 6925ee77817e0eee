using Coordination.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Relay;

/// <summary>
/// The relay hub. Holds no state: connections are tracked by <see cref="ConnectionRegistry"/>, and
/// every method is a thin call into <see cref="EnvelopeRelay"/>. Errors reach the client as hub errors
/// with a clear message; nothing the client sent is logged.
/// </summary>
[Authorize(AuthenticationSchemes = DeviceTokenAuthenticationHandler.SchemeName)]
public sealed class RelayHub(EnvelopeRelay relay, ConnectionRegistry registry, CoordinationDbContext db, TimeProvider clock) : Hub<IRelayClient>, IRelayHub
{
    public override async Task OnConnectedAsync()
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(Context.User!);
        if (registry.IsRevoked(deviceId))
        {
            Context.Abort();
            return;
        }

        registry.Add(Context, accountId, deviceId);
        try
        {
            List<Guid> conversations = await db.DeliveryCursors.AsNoTracking()
                .Where(c => c.DeviceId == deviceId).Select(c => c.ConversationId).ToListAsync(Context.ConnectionAborted);
            foreach (Guid conversation in conversations)
            {
                await Groups.AddToGroupAsync(Context.ConnectionId, LiveDelivery.GroupFor(conversation), Context.ConnectionAborted);
            }
        }
        catch (OperationCanceledException) when (Context.ConnectionAborted.IsCancellationRequested)
        {
            // The device hung up during the handshake: nothing to set up, and not an error.
            return;
        }

        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        registry.Remove(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    public async Task<SendResult> Send(SendEnvelope envelope)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(Context.User!);
        (SendResult? result, RelayRefusal? refusal) = await relay.SendAsync(accountId, deviceId, envelope, Context.ConnectionId, Context.ConnectionAborted);
        return result ?? throw new HubException(refusal!.Detail);
    }

    public async Task Ack(AckRequest request)
    {
        (_, Guid deviceId) = DevicePrincipal.From(Context.User!);
        RelayRefusal? refusal = await relay.AckAsync(deviceId, request, Context.ConnectionAborted);
        if (refusal is not null)
        {
            throw new HubException(refusal.Detail);
        }
    }

    public async Task<InboxPage> Fetch(int limit)
    {
        (_, Guid deviceId) = DevicePrincipal.From(Context.User!);
        return await EnvelopeRelay.FetchAsync(db, deviceId, limit, clock.GetUtcNow().ToUnixTimeMilliseconds(), Context.ConnectionAborted);
    }
}

/// <summary>Refuses every hub call from a device revoked after it connected.</summary>
public sealed class RevokedDeviceFilter(ConnectionRegistry registry) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        ArgumentNullException.ThrowIfNull(invocationContext);
        ArgumentNullException.ThrowIfNull(next);
        (_, Guid deviceId) = DevicePrincipal.From(invocationContext.Context.User!);
        if (registry.IsRevoked(deviceId))
        {
            invocationContext.Context.Abort();
            throw new HubException("This device has been revoked.");
        }

        return await next(invocationContext);
    }
}
