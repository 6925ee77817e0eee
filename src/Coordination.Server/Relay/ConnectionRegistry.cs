using System.Collections.Concurrent;
using Coordination.Server.Operations;
using Microsoft.AspNetCore.SignalR;

namespace Coordination.Server.Relay;

/// <summary>
/// Which hub connections belong to which device and account, so that revocation can cut a device
/// off at once and new conversations can reach connected devices. The hub itself holds no state.
/// </summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, Connection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, byte> _revokedDevices = new();

    public ConnectionRegistry(RelayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        metrics.ObserveHubConnections(() => _connections.Count);
    }

    public sealed record Connection(string ConnectionId, Guid AccountId, Guid DeviceId, HubCallerContext Context);

    public int Count => _connections.Count;

    public void Add(HubCallerContext context, Guid accountId, Guid deviceId)
    {
        ArgumentNullException.ThrowIfNull(context);
        _connections[context.ConnectionId] = new Connection(context.ConnectionId, accountId, deviceId, context);
    }

    public void Remove(string connectionId) => _connections.TryRemove(connectionId, out _);

    public IReadOnlyList<Connection> OfAccounts(IReadOnlyCollection<Guid> accountIds) =>
        [.. _connections.Values.Where(c => accountIds.Contains(c.AccountId))];

    public bool IsRevoked(Guid deviceId) => _revokedDevices.ContainsKey(deviceId);

    /// <summary>Closes every open connection; their clients reconnect and fetch what they missed.</summary>
    public void AbortAll()
    {
        foreach (Connection connection in _connections.Values)
        {
            connection.Context.Abort();
            _connections.TryRemove(connection.ConnectionId, out _);
        }
    }

    /// <summary>Marks the device revoked and aborts every open connection it has.</summary>
    public int Revoke(Guid deviceId)
    {
        _revokedDevices[deviceId] = 0;
        int aborted = 0;
        foreach (Connection connection in _connections.Values)
        {
            if (connection.DeviceId == deviceId)
            {
                connection.Context.Abort();
                _connections.TryRemove(connection.ConnectionId, out _);
                aborted++;
            }
        }

        return aborted;
    }
}
