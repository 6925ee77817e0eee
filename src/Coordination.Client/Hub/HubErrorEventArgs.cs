namespace Coordination.Client.Hub;

/// <summary>A failure that did not close the connection, for example a handler that threw.</summary>
public sealed class HubErrorEventArgs(string? method, Exception exception) : EventArgs
{
    /// <summary>The server-to-client method whose handler failed, or null for other callbacks (such as <see cref="HubConnection.Closed"/>).</summary>
    public string? Method { get; } = method;

    public Exception Exception { get; } = exception;
}
