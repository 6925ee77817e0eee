using Coordination.Server.Operations;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Cluster;

/// <summary>
/// Tells the other relay nodes about a change this node made. With one node (SQLite) there is no
/// one to tell and nothing is sent. On PostgreSQL the signal is a <c>NOTIFY</c> on the caller's
/// database connection: inside the caller's transaction it is delivered when that commits (and
/// never if it rolls back); outside one, at once.
/// </summary>
/// <remarks>
/// A deployment with a Redis SignalR backplane would still use these signals for what is not a
/// hub broadcast (revocations, cached sessions, membership of live groups); they could travel over
/// Redis pub/sub instead by replacing this class and <see cref="NodeSignalListener"/>.
/// </remarks>
public sealed class NodeSignals(StorageOptions storage, NodeIdentity node, RelayMetrics metrics)
{
    public bool Shared => storage.IsPostgres;

    public Guid NodeId => node.Id;

    public async Task PublishAsync(CoordinationDbContext db, RelaySignal signal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(signal);
        if (!storage.IsPostgres)
        {
            return;
        }

        foreach (string payload in RelaySignal.Payloads(signal))
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({RelaySignal.Channel}, {payload})", ct);
            metrics.NodeSignal(received: false);
        }
    }
}
