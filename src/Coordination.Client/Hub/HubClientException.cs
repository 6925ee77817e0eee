namespace Coordination.Client.Hub;

/// <summary>The base of every exception the hub client throws or reports.</summary>
public class HubClientException : Exception
{
    public HubClientException()
    {
    }

    public HubClientException(string message)
        : base(message)
    {
    }

    public HubClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
