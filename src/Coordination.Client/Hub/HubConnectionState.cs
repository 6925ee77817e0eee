namespace Coordination.Client.Hub;

/// <summary>Where a <see cref="HubConnection"/> is in its life. A connection is never reopened.</summary>
public enum HubConnectionState
{
    /// <summary>The handshake succeeded and the connection has not started to close.</summary>
    Connected = 0,

    /// <summary>The connection is closing or closed; no new invocation or send is accepted.</summary>
    Closed = 1,
}
