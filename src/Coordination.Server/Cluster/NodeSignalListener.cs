using System.Threading.Channels;
using Coordination.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Cells;
using Coordination.Server.Operations;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Coordination.Server.Tasks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Coordination.Server.Cluster;

/// <summary>
/// PostgreSQL only: listens for the other nodes' <see cref="RelaySignal"/>s on a connection of its
/// own and applies them to this node's connections and caches. Envelopes are read back from the
/// database by sequence number. While the listening connection is down, signals are lost; so after
/// it comes back this node drops its caches and closes its hub connections, whose clients reconnect
/// and fetch what they missed.
/// </summary>
public sealed partial class NodeSignalListener(
    NpgsqlDataSource dataSource,
    NodeIdentity node,
    IServiceScopeFactory scopes,
    ConnectionRegistry registry,
    SessionStore sessions,
    ConversationDirectory directory,
    LiveDelivery delivery,
    IHubContext<RelayHub, IRelayClient> hub,
    RelayMetrics metrics,
    ILogger<NodeSignalListener> logger) : BackgroundService
{
    private readonly Channel<string> _received = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private volatile bool _listening;

    /// <summary>True while the listening connection is up (reported by the health endpoint).</summary>
    public bool Listening => _listening;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Task applying = ApplyAsync(stoppingToken);
        bool resync = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => _received.Writer.TryWrite(e.Payload);
                await using (NpgsqlCommand listen = new($"LISTEN {RelaySignal.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                if (resync)
                {
                    Resynchronize();
                }

                _listening = true;
                resync = true;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                _listening = false;
                LogListenFailed(logger, ex.GetType().Name);
                await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _listening = false;
        _received.Writer.TryComplete();
        await applying.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Signals may have been missed: forget what could be stale and let clients start over.</summary>
    private void Resynchronize()
    {
        sessions.DropAllCached();
        directory.Clear();
        registry.AbortAll();
    }

    private async Task ApplyAsync(CancellationToken stoppingToken)
    {
        List<long> envelopes = [];
        await foreach (string payload in _received.Reader.ReadAllAsync(stoppingToken))
        {
            RelaySignal? signal = RelaySignal.Parse(payload);
            if (signal is null || signal.Node == node.Id)
            {
                continue;
            }

            metrics.NodeSignal(received: true);
            try
            {
                if (signal is RelaySignal.EnvelopesStored stored)
                {
                    // Consecutive envelope signals are read back with one query.
                    envelopes.AddRange(stored.Seqs);
                    if (_received.Reader.TryPeek(out string? next) && next.StartsWith('E'))
                    {
                        continue;
                    }

                    await DeliverAsync(envelopes, stoppingToken);
                    envelopes.Clear();
                    continue;
                }

                await ApplyAsync(signal, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                envelopes.Clear();
                LogApplyFailed(logger, ex.GetType().Name);
            }
        }
    }

    private async Task DeliverAsync(List<long> seqs, CancellationToken ct)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(
            """SELECT "Seq", "ConversationId", "MessageId", "Ciphertext", "ExpiresAt" FROM "Envelopes" WHERE "Seq" = ANY(@s) ORDER BY "Seq" """);
        command.Parameters.AddWithValue("s", seqs.ToArray());
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            delivery.Enqueue(
                new EnvelopeDelivery(reader.GetGuid(1), reader.GetInt64(0), reader.GetGuid(2), reader.GetFieldValue<byte[]>(3), reader.GetInt64(4)),
                senderConnectionId: null);
        }
    }

    private async Task ApplyAsync(RelaySignal signal, CancellationToken ct)
    {
        switch (signal)
        {
            case RelaySignal.DeviceRevoked revoked:
                sessions.ForgetDevice(revoked.DeviceId);
                registry.Revoke(revoked.DeviceId);
                break;

            case RelaySignal.SessionEnded ended:
                sessions.DropCached(ended.DeviceId);
                break;

            case RelaySignal.MembershipChanged changed:
            {
                await using AsyncServiceScope scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<ConversationMembership>().ApplyLocallyAsync(changed.Changes, ct);
                break;
            }

            case RelaySignal.TasksReleased released:
            {
                await using AsyncServiceScope scope = scopes.CreateAsyncScope();
                CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
                Dictionary<Guid, List<Guid>> organizersOf = [];
                foreach ((Guid taskId, Guid cellId, Guid membershipId, int reason) in released.Releases)
                {
                    if (reason < 0 || reason >= TaskBoard.ReleaseReasons.Count)
                    {
                        continue;
                    }

                    if (!organizersOf.TryGetValue(cellId, out List<Guid>? organizers))
                    {
                        organizers = await db.Set<Membership>().AsNoTracking()
                            .Where(m => m.CellId == cellId && m.Role == MemberRole.Organizer).Select(m => m.AccountId).ToListAsync(ct);
                        organizersOf[cellId] = organizers;
                    }

                    TaskReleased notice = new(taskId, cellId, membershipId, TaskBoard.ReleaseReasons[reason]);
                    foreach (ConnectionRegistry.Connection connection in registry.OfAccounts(organizers))
                    {
                        await hub.Clients.Client(connection.ConnectionId).TaskReleased(notice);
                    }
                }

                break;
            }

            default:
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for the other relay nodes failed ({Error}); reconnecting.")]
    private static partial void LogListenFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A signal from another relay node could not be applied ({Error}).")]
    private static partial void LogApplyFailed(ILogger logger, string error);
}
