namespace Coordination.Client.Hub;

/// <summary>
/// The connection closed before an invocation completed, or a call was made on a closed connection.
/// <see cref="Exception.InnerException"/> is why it closed (null for a clean close).
/// </summary>
public sealed class HubConnectionClosedException : HubClientException
{
    public HubConnectionClosedException()
        : base("The hub connection is closed.")
    {
    }

    public HubConnectionClosedException(string message)
        : base(message)
    {
    }

    public HubConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Why the connection closed: null when it closed cleanly (disposed, or closed by the server without an error).</summary>
    public Exception? Reason => InnerException;

    internal static HubConnectionClosedException For(Exception? reason) =>
        reason is null
            ? new HubConnectionClosedException()
            : new HubConnectionClosedException($"The hub connection is closed: {reason.Message}", reason);
}
