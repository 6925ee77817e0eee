namespace Coordination.Client.Hub;

/// <summary>The server refused the SignalR handshake, or closed the connection during it.</summary>
public sealed class HubHandshakeException : HubClientException
{
    public HubHandshakeException()
    {
    }

    public HubHandshakeException(string message)
        : base(message)
    {
    }

    public HubHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
