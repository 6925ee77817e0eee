using Coordination.Server.Auth;
using Coordination.Server.Cluster;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Identity;

/// <summary>
/// Cuts a device off at once: marked revoked, its sessions deleted and forgotten, its open hub
/// connections aborted, and its delivery cursors dropped so it no longer holds back deletion of
/// envelopes the other devices have acknowledged.
/// </summary>
public sealed class DeviceRevocation(SessionStore sessions, ConnectionRegistry registry, RelayWriter writer, NodeSignals signals)
{
    /// <param name="insideTransaction">
    /// The caller holds an open write transaction (a burn): the deletion sweep is left to the
    /// periodic one, because the writer's own connection would wait for this transaction.
    /// </param>
    public async Task RevokeAsync(CoordinationDbContext db, Guid deviceId, CancellationToken ct, bool insideTransaction = false)
    {
        ArgumentNullException.ThrowIfNull(db);
        registry.Revoke(deviceId);
        sessions.ForgetDevice(deviceId);
        List<Guid> conversations = await db.DeliveryCursors.Where(c => c.DeviceId == deviceId).Select(c => c.ConversationId).ToListAsync(ct);
        await db.Devices.Where(d => d.Id == deviceId).ExecuteUpdateAsync(s => s.SetProperty(d => d.Revoked, true), ct);
        await db.Sessions.Where(s => s.DeviceId == deviceId).ExecuteDeleteAsync(ct);
        await db.DeliveryCursors.Where(c => c.DeviceId == deviceId).ExecuteDeleteAsync(ct);
        // Every other node cuts the device off too, when this commits (in the caller's transaction, if any).
        await signals.PublishAsync(db, new RelaySignal.DeviceRevoked(signals.NodeId, deviceId), ct);
        registry.Revoke(deviceId);
        if (!insideTransaction)
        {
            await writer.SweepAsync(conversations);
        }
    }
}
