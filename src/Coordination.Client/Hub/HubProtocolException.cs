namespace Coordination.Client.Hub;

/// <summary>The server sent something this client cannot accept (bad framing, bad JSON, a message over the size limit).</summary>
public sealed class HubProtocolException : HubClientException
{
    public HubProtocolException()
    {
    }

    public HubProtocolException(string message)
        : base(message)
    {
    }

    public HubProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
