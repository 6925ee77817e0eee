using Coordination.Protocol;

namespace Coordination.Server.Tasks;

/// <summary>
/// A task in a cell. The relay keeps only what it enforces policy with (risk, opaque tags, people
/// needed, deadline, state) and the content sealed under the cell key, which it cannot read.
/// </summary>
public sealed class CellTask
{
    public Guid Id { get; set; }

    public Guid CellId { get; set; }

    public RiskLevel Risk { get; set; }

    /// <summary>Required capability tags: 32-byte keyed hashes, concatenated. Meaningless to the relay.</summary>
    public required byte[] RequiredTags { get; set; }

    public int PeopleNeeded { get; set; }

    public long? Deadline { get; set; }

    public TaskState State { get; set; }

    public required byte[] SealedContent { get; set; }

    /// <summary>The task's own conversation (organizers and the people on it).</summary>
    public Guid ThreadId { get; set; }

    /// <summary>The membership that created it.</summary>
    public Guid CreatedBy { get; set; }
}

/// <summary>One membership's part in a task.</summary>
public sealed class TaskAssignment
{
    public Guid TaskId { get; set; }

    public Guid MembershipId { get; set; }

    public AssignmentState State { get; set; }

    public long? OfferExpiresAt { get; set; }

    /// <summary>Details for this assignee only, sealed by the client to them. Optional, opaque.</summary>
    public byte[]? SealedForAssignee { get; set; }

    /// <summary>When the state last changed (Unix ms): expires offers and ranks recent declines.</summary>
    public long ChangedAt { get; set; }
}

/// <summary>A capability tag of a membership: a 32-byte keyed hash the clients compute from a name the relay never sees.</summary>
public sealed class MembershipTag
{
    public Guid MembershipId { get; set; }

    public required byte[] Tag { get; set; }
}
