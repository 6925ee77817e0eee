using Coordination.Server.Auth;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Identity;

/// <summary>
/// Cuts a device off at once: marked revoked, its sessions deleted and forgotten, its open hub
/// connections aborted, and its delivery cursors dropped so it no longer holds back deletion of
/// envelopes the other devices have acknowledged.
/// </summary>
public sealed class DeviceRevocation(SessionStore sessions, ConnectionRegistry registry, RelayWriter writer)
{
    public async Task RevokeAsync(CoordinationDbContext db, Guid deviceId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        registry.Revoke(deviceId);
        sessions.ForgetDevice(deviceId);
        List<Guid> conversations = await db.DeliveryCursors.Where(c => c.DeviceId == deviceId).Select(c => c.ConversationId).ToListAsync(ct);
        await db.Devices.Where(d => d.Id == deviceId).ExecuteUpdateAsync(s => s.SetProperty(d => d.Revoked, true), ct);
        await db.Sessions.Where(s => s.DeviceId == deviceId).ExecuteDeleteAsync(ct);
        await db.DeliveryCursors.Where(c => c.DeviceId == deviceId).ExecuteDeleteAsync(ct);
        registry.Revoke(deviceId);
        await writer.SweepAsync(conversations);
    }
}
