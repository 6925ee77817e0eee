using Coordination.Protocol;

namespace Coordination.Client.Api;

/// <summary>Tasks (protocol section 10).</summary>
public sealed partial class RelayApi
{
    public Task<TaskInfo> CreateTaskAsync(Guid cellId, CreateTaskRequest request, CancellationToken ct = default) =>
        PostAsync<TaskInfo>($"api/v1/cells/{cellId}/tasks", request, ct);

    public Task<List<TaskInfo>> ListTasksAsync(Guid cellId, CancellationToken ct = default) => GetAsync<List<TaskInfo>>($"api/v1/cells/{cellId}/tasks", ct);

    public Task<TaskInfo> GetTaskAsync(Guid taskId, CancellationToken ct = default) => GetAsync<TaskInfo>($"api/v1/tasks/{taskId}", ct);

    public Task<TaskInfo> OfferTaskAsync(Guid taskId, OfferTaskRequest request, CancellationToken ct = default) =>
        PostAsync<TaskInfo>($"api/v1/tasks/{taskId}/offers", request, ct);

    /// <summary>accept, decline, withdraw, done or cancel.</summary>
    public Task<TaskInfo> MoveTaskAsync(Guid taskId, string step, CancellationToken ct = default) =>
        PostAsync<TaskInfo>($"api/v1/tasks/{taskId}/{step}", new { }, ct);

    public Task<TaskInfo> HandOverTaskAsync(Guid taskId, HandOverTaskRequest request, CancellationToken ct = default) =>
        PostAsync<TaskInfo>($"api/v1/tasks/{taskId}/handover", request, ct);

    public Task<List<TaskSuggestion>> SuggestAssigneesAsync(Guid taskId, CancellationToken ct = default) =>
        GetAsync<List<TaskSuggestion>>($"api/v1/tasks/{taskId}/suggestions", ct);

    public Task SetTagsAsync(Guid cellId, Guid membershipId, IReadOnlyList<byte[]> tags, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/cells/{cellId}/members/{membershipId}/tags", new SetTagsRequest(tags), ct);
}
