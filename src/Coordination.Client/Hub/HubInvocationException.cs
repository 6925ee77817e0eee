namespace Coordination.Client.Hub;

/// <summary>The server completed an invocation with an error; <see cref="Exception.Message"/> is the server's error text.</summary>
public sealed class HubInvocationException : HubClientException
{
    public HubInvocationException()
    {
    }

    public HubInvocationException(string message)
        : base(message)
    {
    }

    public HubInvocationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal HubInvocationException(string method, string serverError)
        : base(serverError)
    {
        Method = method;
    }

    /// <summary>The hub method that was invoked.</summary>
    public string? Method { get; }
}
