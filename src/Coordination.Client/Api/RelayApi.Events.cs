using Coordination.Protocol;

namespace Coordination.Client.Api;

/// <summary>Events in GRAS groups (protocol section 9).</summary>
public sealed partial class RelayApi
{
    public Task<GroupEventInfo> CreateEventAsync(Guid cellId, CreateEventRequest request, CancellationToken ct = default) =>
        PostAsync<GroupEventInfo>($"api/v1/cells/{cellId}/events", request, ct);

    public Task<List<GroupEventInfo>> ListEventsAsync(Guid cellId, CancellationToken ct = default) =>
        GetAsync<List<GroupEventInfo>>($"api/v1/cells/{cellId}/events", ct);

    /// <summary>This account's sealed answer to an event, replacing an earlier one.</summary>
    public Task AnswerEventAsync(Guid cellId, Guid eventId, RsvpRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/cells/{cellId}/events/{eventId}/rsvps", request, ct);

    public Task CancelEventAsync(Guid cellId, Guid eventId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/cells/{cellId}/events/{eventId}", null, ct);
}
