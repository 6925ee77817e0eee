namespace Coordination.Client.Hub;

/// <summary>
/// The server closed the connection with an error: a SignalR Close message carrying one, or a
/// WebSocket close with a status other than normal closure.
/// </summary>
public sealed class HubServerClosedException : HubClientException
{
    public HubServerClosedException()
    {
    }

    public HubServerClosedException(string message)
        : base(message)
    {
    }

    public HubServerClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal HubServerClosedException(string message, string serverError, bool allowReconnect)
        : base(message)
    {
        ServerError = serverError;
        AllowReconnect = allowReconnect;
    }

    /// <summary>The error text the server sent.</summary>
    public string? ServerError { get; }

    /// <summary>The server's <c>allowReconnect</c> flag: false means a reconnecting client should not try again.</summary>
    public bool AllowReconnect { get; }
}
