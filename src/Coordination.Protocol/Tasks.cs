namespace Coordination.Protocol;

/// <summary>Where a task stands as a whole.</summary>
public enum TaskState
{
    /// <summary>Fewer people have it (offered or accepted) than it needs.</summary>
    Open = 1,

    /// <summary>Offered to enough people; waiting for answers.</summary>
    Offered = 2,

    /// <summary>Enough people accepted it.</summary>
    Accepted = 3,

    Done = 4,
    Cancelled = 5,
}

/// <summary>Where one person's part in a task stands.</summary>
public enum AssignmentState
{
    Offered = 1,
    Accepted = 2,
    Declined = 3,

    /// <summary>The offer was not answered in time.</summary>
    Expired = 4,

    /// <summary>The assignee gave it back, or handed it over to someone else.</summary>
    Withdrawn = 5,

    /// <summary>The relay took it back: the member's ceiling fell below the task's risk, or the member was removed or burned.</summary>
    Released = 6,

    Done = 7,
}

/// <summary>
/// POST /api/v1/cells/{cellId}/tasks. The content (title, description, place, contact) is sealed by
/// the client under the cell key; the relay sees only what it enforces policy with.
/// </summary>
/// <param name="Risk">The task's risk; it is never offered or assigned to a membership whose ceiling is lower.</param>
/// <param name="RequiredTags">Opaque capability tags (32-byte keyed hashes the clients compute); every assignee must have all of them.</param>
/// <param name="PeopleNeeded">How many assignees it takes (1 to 100).</param>
/// <param name="Deadline">Optional, Unix milliseconds.</param>
/// <param name="TaskId">
/// The task's id, chosen by the client (random) so that the sealed content can name it in its
/// associated data: the relay cannot then show one task's content on another. When absent the
/// relay draws one.
/// </param>
public sealed record CreateTaskRequest(RiskLevel Risk, IReadOnlyList<byte[]> RequiredTags, int PeopleNeeded, long? Deadline, byte[] SealedContent, Guid? TaskId = null);

/// <summary>One person's part in a task.</summary>
public sealed record AssignmentInfo(Guid MembershipId, AssignmentState State, long? OfferExpiresAt, byte[]? SealedForAssignee);

/// <summary>A task as the relay describes it to those allowed to see it.</summary>
/// <param name="ThreadId">The task's own conversation: its organizers and the people on it.</param>
public sealed record TaskInfo(
    Guid TaskId,
    Guid CellId,
    RiskLevel Risk,
    IReadOnlyList<byte[]> RequiredTags,
    int PeopleNeeded,
    long? Deadline,
    TaskState State,
    byte[] SealedContent,
    Guid ThreadId,
    Guid CreatedBy,
    IReadOnlyList<AssignmentInfo> Assignments);

/// <summary>POST /api/v1/tasks/{taskId}/offers: offer the task to a membership, optionally with details sealed for that person only.</summary>
/// <param name="OfferTtlSeconds">How long the offer stands unanswered (default one day, at most 30 days).</param>
public sealed record OfferTaskRequest(Guid MembershipId, int? OfferTtlSeconds = null, byte[]? SealedForAssignee = null);

/// <summary>POST /api/v1/tasks/{taskId}/handover: give one's part (or, for an organizer, someone's part) to another eligible membership.</summary>
public sealed record HandOverTaskRequest(Guid ToMembershipId, Guid? FromMembershipId = null, byte[]? SealedForAssignee = null);

/// <summary>One eligible membership, with what the ranking used.</summary>
/// <param name="Margin">The membership's ceiling minus the task's risk: larger is safer for that person.</param>
/// <param name="OpenLoad">Tasks the membership has offered or accepted and not finished.</param>
/// <param name="RecentDeclines">Offers the membership declined or let expire in the last 30 days.</param>
public sealed record TaskSuggestion(Guid MembershipId, int Margin, int OpenLoad, int RecentDeclines);

/// <summary>PUT /api/v1/cells/{cellId}/members/{membershipId}/tags: a membership's capability tags (opaque 32-byte keyed hashes).</summary>
public sealed record SetTagsRequest(IReadOnlyList<byte[]> Tags);

/// <summary>Pushed to a cell's organizers when the relay released a member's part in a task.</summary>
public sealed record TaskReleased(Guid TaskId, Guid CellId, Guid MembershipId, string Reason);
