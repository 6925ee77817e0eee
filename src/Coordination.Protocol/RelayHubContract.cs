namespace Coordination.Protocol;

/// <summary>
/// The SignalR hub at <see cref="Path"/> (JSON protocol, WebSockets). Clients authenticate with the
/// session token as a bearer header or, for browsers, the <c>access_token</c> query parameter.
/// Method names are the C# names below.
/// </summary>
public interface IRelayHub
{
    /// <summary>Stores the envelope durably, then returns; recipients get it live or by fetching.</summary>
    Task<SendResult> Send(SendEnvelope envelope);

    /// <summary>Cumulative acknowledgements; the relay deletes envelopes every recipient device has acknowledged.</summary>
    Task Ack(AckRequest request);

    /// <summary>The next page of unacknowledged envelopes for this device.</summary>
    Task<InboxPage> Fetch(int limit);
}

/// <summary>Calls the relay makes to a connected device.</summary>
public interface IRelayClient
{
    /// <summary>A new envelope in one of the device's conversations.</summary>
    Task ReceiveEnvelope(EnvelopeDelivery envelope);

    /// <summary>The device was added to a conversation.</summary>
    Task ConversationAdded(ConversationInfo conversation);

    /// <summary>
    /// To a cell's organizers: the relay took a member's part in a task back (their ceiling fell
    /// below the task's risk, or they were removed or burned). The task is open for someone else.
    /// </summary>
    Task TaskReleased(TaskReleased notice);
}

public static class RelayHubContract
{
    public const string Path = "/hubs/relay";
}
