using System.Collections.Concurrent;
using Coordination.Protocol;
using Coordination.Server.Cells;
using Coordination.Server.Cluster;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Tasks;

/// <summary>A refusal of a task operation, with its HTTP status.</summary>
public sealed record TaskRefusal(int Status, string Detail);

/// <summary>
/// The life of tasks: open → offered → accepted → done, with decline, withdraw, hand-over, expiry
/// of unanswered offers, cancel, and release when a member may no longer hold a task. Every path
/// that puts a task in someone's hands runs <see cref="TaskPolicy"/>. Changes to one task are
/// serialized (two organizers racing to offer the last place cannot both win).
/// </summary>
public sealed class TaskBoard(
    ConversationMembership conversations, ConnectionRegistry registry, IHubContext<RelayHub, IRelayClient> hub, TimeProvider clock, CoordinationDbContext db, NodeSignals signals)
    : IMembershipObserver
{
    public static TimeSpan DefaultOfferLifetime { get; } = TimeSpan.FromDays(1);

    public static TimeSpan DeclineMemory { get; } = TimeSpan.FromDays(30);

    private static readonly ConcurrentDictionary<Guid, SemaphoreSlim> s_locks = new();

    private readonly List<(TaskReleased Notice, List<Guid> Organizers)> _released = [];

    /// <summary>
    /// Every reason a part in a task is released, so other relay nodes are told a number, not text:
    /// a tag gone, burned, left or removed, then the new ceiling (3 + its level).
    /// </summary>
    public static IReadOnlyList<string> ReleaseReasons => s_releaseReasons;

    private static readonly string[] s_releaseReasons =
    [
        "the member no longer has a tag the task needs",
        "the member was burned",
        "the member left or was removed",
        .. Enum.GetValues<RiskLevel>().Select(level => $"the member's ceiling is now {TaskPolicy.Name(level)}"),
    ];

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<CellTask> CreateAsync(CoordinationDbContext db, Guid cellId, Membership creator, CreateTaskRequest request, byte[] requiredTags, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(creator);
        ArgumentNullException.ThrowIfNull(request);
        List<Guid> organizers = await db.Set<Membership>().Where(m => m.CellId == cellId && m.Role == MemberRole.Organizer).Select(m => m.AccountId).ToListAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        Guid thread = await conversations.CreateAsync(db, ConversationKind.TaskThread, organizers, null, ct, partOfUnitOfWork: true);
        CellTask task = new()
        {
            Id = request.TaskId ?? Guid.NewGuid(),
            CellId = cellId,
            Risk = request.Risk,
            RequiredTags = requiredTags,
            PeopleNeeded = request.PeopleNeeded,
            Deadline = request.Deadline,
            State = TaskState.Open,
            SealedContent = request.SealedContent,
            ThreadId = thread,
            CreatedBy = creator.Id,
        };
        db.Set<CellTask>().Add(task);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        await conversations.PublishAsync(ct);
        return task;
    }

    /// <summary>An organizer offers the task to a membership of the cell.</summary>
    public Task<TaskRefusal?> OfferAsync(CoordinationDbContext db, CellTask task, OfferTaskRequest request, CancellationToken ct) =>
        ChangeAsync(db, task, async assignments =>
        {
            TimeSpan lifetime = request.OfferTtlSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultOfferLifetime;
            return await PutInHandsAsync(db, task, assignments, request.MembershipId, AssignmentState.Offered, Now + (long)lifetime.TotalMilliseconds, request.SealedForAssignee, ct);
        }, ct);

    /// <summary>The member accepts an offer, or takes an open place in the task themselves.</summary>
    public Task<TaskRefusal?> AcceptAsync(CoordinationDbContext db, CellTask task, Membership member, CancellationToken ct) =>
        ChangeAsync(db, task, async assignments =>
        {
            TaskAssignment? mine = assignments.Find(a => a.MembershipId == member.Id);
            if (mine is { State: AssignmentState.Accepted })
            {
                return null;
            }

            if (task.State is TaskState.Done or TaskState.Cancelled)
            {
                return new TaskRefusal(StatusCodes.Status409Conflict, "The task is finished.");
            }

            if (mine is { State: AssignmentState.Offered } && mine.OfferExpiresAt <= Now)
            {
                // Expired, whether or not the periodic sweep has seen it yet.
                Move(mine, AssignmentState.Expired);
            }

            if (mine is { State: AssignmentState.Offered })
            {
                // The policy is checked again: the ceiling or tags may have changed since the offer.
                if (await PolicyRefusalAsync(db, task, member.Id, ct) is { } refusal)
                {
                    return refusal;
                }

                Move(mine, AssignmentState.Accepted);
                await JoinThreadAsync(db, task, member.AccountId, ct);
                return null;
            }

            return await PutInHandsAsync(db, task, assignments, member.Id, AssignmentState.Accepted, null, null, ct);
        }, ct);

    public Task<TaskRefusal?> DeclineAsync(CoordinationDbContext db, CellTask task, Membership member, CancellationToken ct) =>
        ChangeAsync(db, task, assignments =>
        {
            TaskAssignment? mine = assignments.Find(a => a.MembershipId == member.Id && a.State == AssignmentState.Offered);
            if (mine is null)
            {
                return Task.FromResult<TaskRefusal?>(new TaskRefusal(StatusCodes.Status409Conflict, "There is no open offer of this task to you."));
            }

            Move(mine, AssignmentState.Declined);
            return Task.FromResult<TaskRefusal?>(null);
        }, ct);

    /// <summary>The assignee gives their part back (offered or accepted).</summary>
    public Task<TaskRefusal?> WithdrawAsync(CoordinationDbContext db, CellTask task, Membership member, CancellationToken ct) =>
        ChangeAsync(db, task, async assignments =>
        {
            TaskAssignment? mine = assignments.Find(a => a.MembershipId == member.Id && a.State is AssignmentState.Offered or AssignmentState.Accepted);
            if (mine is null)
            {
                return new TaskRefusal(StatusCodes.Status409Conflict, "You have no part in this task to give back.");
            }

            await LetGoAsync(db, task, mine, AssignmentState.Withdrawn, member.AccountId, ct);
            return null;
        }, ct);

    /// <summary>An assignee marks their part done; the task is done when enough parts are. An organizer marks the whole task done.</summary>
    public Task<TaskRefusal?> DoneAsync(CoordinationDbContext db, CellTask task, Membership member, CancellationToken ct) =>
        ChangeAsync(db, task, assignments =>
        {
            TaskAssignment? mine = assignments.Find(a => a.MembershipId == member.Id && a.State == AssignmentState.Accepted);
            if (mine is not null)
            {
                Move(mine, AssignmentState.Done);
            }
            else if (member.Role == MemberRole.Organizer)
            {
                task.State = TaskState.Done;
            }
            else
            {
                return Task.FromResult<TaskRefusal?>(new TaskRefusal(StatusCodes.Status409Conflict, "Only someone who accepted the task, or an organizer, can mark it done."));
            }

            return Task.FromResult<TaskRefusal?>(null);
        }, ct);

    public Task<TaskRefusal?> CancelAsync(CoordinationDbContext db, CellTask task, CancellationToken ct) =>
        ChangeAsync(db, task, assignments =>
        {
            task.State = TaskState.Cancelled;
            foreach (TaskAssignment open in assignments.Where(a => a.State == AssignmentState.Offered))
            {
                // Standing offers of a cancelled task can no longer be accepted.
                Move(open, AssignmentState.Withdrawn);
            }

            return Task.FromResult<TaskRefusal?>(null);
        }, ct);

    /// <summary>
    /// Hands one person's part to another membership: the policy is checked for the new person,
    /// who gets it as an offer to accept; the previous holder's part ends.
    /// </summary>
    public Task<TaskRefusal?> HandOverAsync(CoordinationDbContext db, CellTask task, Membership actor, HandOverTaskRequest request, CancellationToken ct) =>
        ChangeAsync(db, task, async assignments =>
        {
            Guid from = request.FromMembershipId ?? actor.Id;
            if (from != actor.Id && actor.Role != MemberRole.Organizer)
            {
                return new TaskRefusal(StatusCodes.Status403Forbidden, "Only organizers hand over someone else's part.");
            }

            TaskAssignment? current = assignments.Find(a => a.MembershipId == from && a.State is AssignmentState.Offered or AssignmentState.Accepted);
            if (current is null)
            {
                return new TaskRefusal(StatusCodes.Status409Conflict, "That membership has no part in this task to hand over.");
            }

            if (request.ToMembershipId == from)
            {
                return new TaskRefusal(StatusCodes.Status400BadRequest, "Hand the task to someone else.");
            }

            // Checked before anything changes, so a refused hand-over leaves the task as it was.
            if (await PolicyRefusalAsync(db, task, request.ToMembershipId, ct) is { } refusal)
            {
                return refusal;
            }

            Guid fromAccount = await db.Set<Membership>().Where(m => m.Id == from).Select(m => m.AccountId).FirstAsync(ct);
            await LetGoAsync(db, task, current, AssignmentState.Withdrawn, fromAccount, ct);
            return await PutInHandsAsync(db, task, assignments, request.ToMembershipId, AssignmentState.Offered, Now + (long)DefaultOfferLifetime.TotalMilliseconds, request.SealedForAssignee, ct);
        }, ct);

    /// <summary>Eligible memberships, safest first: the widest margin under the ceiling, then the lightest load, then the fewest recent declines.</summary>
    public async Task<List<TaskSuggestion>> SuggestAsync(CoordinationDbContext db, CellTask task, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(task);
        List<Membership> members = await db.Set<Membership>().AsNoTracking().Where(m => m.CellId == task.CellId).ToListAsync(ct);
        List<Guid> ids = [.. members.Select(m => m.Id)];
        List<MembershipTag> tags = await db.Set<MembershipTag>().AsNoTracking().Where(t => ids.Contains(t.MembershipId)).ToListAsync(ct);
        List<TaskAssignment> parts = await db.Set<TaskAssignment>().AsNoTracking().Where(a => ids.Contains(a.MembershipId)).ToListAsync(ct);
        List<Guid> openTasks = await db.Set<CellTask>().AsNoTracking().Where(t => t.CellId == task.CellId && (t.State == TaskState.Open || t.State == TaskState.Offered || t.State == TaskState.Accepted)).Select(t => t.Id).ToListAsync(ct);
        long since = Now - (long)DeclineMemory.TotalMilliseconds;
        return [.. members
            .Where(m => !parts.Exists(a => a.TaskId == task.Id && a.MembershipId == m.Id && a.State is AssignmentState.Offered or AssignmentState.Accepted or AssignmentState.Done))
            .Where(m => TaskPolicy.Refusal(task.Risk, task.RequiredTags, m.Ceiling, [.. tags.Where(t => t.MembershipId == m.Id).Select(t => t.Tag)]) is null)
            .Select(m => new TaskSuggestion(
                m.Id,
                m.Ceiling - task.Risk,
                parts.Count(a => a.MembershipId == m.Id && a.State is AssignmentState.Offered or AssignmentState.Accepted && openTasks.Contains(a.TaskId)),
                parts.Count(a => a.MembershipId == m.Id && a.State is AssignmentState.Declined or AssignmentState.Expired && a.ChangedAt >= since)))
            .OrderByDescending(s => s.Margin)
            .ThenBy(s => s.OpenLoad)
            .ThenBy(s => s.RecentDeclines)];
    }

    /// <summary>Offers nobody answered in time expire; their places open again.</summary>
    public async Task<int> ExpireOffersAsync(CoordinationDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        long now = Now;
        List<Guid> tasks = await db.Set<TaskAssignment>().Where(a => a.State == AssignmentState.Offered && a.OfferExpiresAt <= now).Select(a => a.TaskId).Distinct().ToListAsync(ct);
        foreach (Guid id in tasks)
        {
            CellTask? task = await db.Set<CellTask>().FirstOrDefaultAsync(t => t.Id == id, ct);
            if (task is not null)
            {
                await ChangeAsync(db, task, assignments =>
                {
                    foreach (TaskAssignment expired in assignments.Where(a => a.State == AssignmentState.Offered && a.OfferExpiresAt <= now))
                    {
                        Move(expired, AssignmentState.Expired);
                    }

                    return Task.FromResult<TaskRefusal?>(null);
                }, ct);
            }
        }

        return tasks.Count;
    }

    /// <inheritdoc />
    public Task CeilingChangedAsync(CoordinationDbContext db, Membership membership, RiskLevel ceiling, CancellationToken ct) =>
        ReleaseAsync(db, membership, t => t.Risk > ceiling, s_releaseReasons[3 + (int)ceiling], ct);

    /// <summary>
    /// After the caller's transaction committed: the live side of thread changes, and the release
    /// notices to the organizers (never sent for a change that did not commit).
    /// </summary>
    public async Task PublishAsync(CancellationToken ct)
    {
        await conversations.PublishAsync(ct);
        List<(TaskReleased Notice, List<Guid> Organizers)> released = [.. _released];
        _released.Clear();
        if (released.Count > 0)
        {
            await signals.PublishAsync(db, new RelaySignal.TasksReleased(signals.NodeId,
                [.. released.Select(r => (r.Notice.TaskId, r.Notice.CellId, r.Notice.MembershipId, Array.IndexOf(s_releaseReasons, r.Notice.Reason)))]), ct);
        }

        foreach ((TaskReleased notice, List<Guid> organizers) in released)
        {
            foreach (ConnectionRegistry.Connection connection in registry.OfAccounts(organizers))
            {
                await hub.Clients.Client(connection.ConnectionId).TaskReleased(notice);
            }
        }
    }

    /// <summary>After a membership's tags changed: parts in tasks that need a tag it no longer has are released.</summary>
    public Task TagsChangedAsync(CoordinationDbContext db, Membership membership, IReadOnlyCollection<byte[]> tags, CancellationToken ct) =>
        ReleaseAsync(db, membership, t => TaskPolicy.Refusal(t.Risk, t.RequiredTags, membership.Ceiling, tags) is not null, s_releaseReasons[0], ct);

    /// <inheritdoc />
    public async Task MembershipEndingAsync(CoordinationDbContext db, Membership membership, bool burned, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(membership);
        await ReleaseAsync(db, membership, _ => true, burned ? s_releaseReasons[1] : s_releaseReasons[2], ct);

        // Out of every task thread of the cell too (an organizer is in all of them, a finished assignee in theirs).
        List<Guid> threads = await (
            from t in db.Set<CellTask>()
            where t.CellId == membership.CellId
            join p in db.ConversationParticipants on t.ThreadId equals p.ConversationId
            where p.AccountId == membership.AccountId
            select t.ThreadId).ToListAsync(ct);
        foreach (Guid thread in threads)
        {
            await conversations.RemoveAsync(db, thread, membership.AccountId, ct);
            await conversations.AdvanceEpochAsync(db, thread, ct);
        }
    }

    private async Task ReleaseAsync(CoordinationDbContext db, Membership membership, Func<CellTask, bool> affected, string reason, CancellationToken ct)
    {
        List<Guid> held = await db.Set<TaskAssignment>()
            .Where(a => a.MembershipId == membership.Id && (a.State == AssignmentState.Offered || a.State == AssignmentState.Accepted))
            .Select(a => a.TaskId).ToListAsync(ct);
        List<TaskReleased> notices = [];
        foreach (Guid id in held)
        {
            CellTask task = await db.Set<CellTask>().FirstAsync(t => t.Id == id, ct);
            if (!affected(task) || task.State is TaskState.Done or TaskState.Cancelled)
            {
                continue;
            }

            TaskAssignment part = await db.Set<TaskAssignment>().FirstAsync(a => a.TaskId == id && a.MembershipId == membership.Id, ct);
            await LetGoAsync(db, task, part, AssignmentState.Released, membership.AccountId, ct);
            Recompute(task, await db.Set<TaskAssignment>().Where(a => a.TaskId == id).ToListAsync(ct));
            notices.Add(new TaskReleased(task.Id, task.CellId, membership.Id, reason));
        }

        if (notices.Count == 0)
        {
            return;
        }

        await db.SaveChangesAsync(ct);
        List<Guid> organizers = await db.Set<Membership>().Where(m => m.CellId == membership.CellId && m.Role == MemberRole.Organizer).Select(m => m.AccountId).ToListAsync(ct);
        _released.AddRange(notices.Select(n => (n, organizers)));
    }

    private async Task<TaskRefusal?> PutInHandsAsync(
        CoordinationDbContext db, CellTask task, List<TaskAssignment> assignments, Guid membershipId, AssignmentState state, long? offerExpiresAt, byte[]? sealedForAssignee, CancellationToken ct)
    {
        if (task.State is TaskState.Done or TaskState.Cancelled)
        {
            return new TaskRefusal(StatusCodes.Status409Conflict, "The task is finished.");
        }

        TaskAssignment? existing = assignments.Find(a => a.MembershipId == membershipId);
        if (existing is { State: AssignmentState.Offered or AssignmentState.Accepted or AssignmentState.Done })
        {
            return new TaskRefusal(StatusCodes.Status409Conflict, "That membership already has a part in this task.");
        }

        // The policy first: "not for this member" says more than "full at the moment".
        if (await PolicyRefusalAsync(db, task, membershipId, ct) is { } refusal)
        {
            return refusal;
        }

        if (assignments.Count(a => a.State is AssignmentState.Offered or AssignmentState.Accepted or AssignmentState.Done) >= task.PeopleNeeded)
        {
            return new TaskRefusal(StatusCodes.Status409Conflict, $"The task already has the {task.PeopleNeeded} people it needs.");
        }

        if (existing is null)
        {
            existing = new TaskAssignment { TaskId = task.Id, MembershipId = membershipId };
            db.Set<TaskAssignment>().Add(existing);
            assignments.Add(existing);
        }

        Move(existing, state);
        existing.OfferExpiresAt = offerExpiresAt;
        existing.SealedForAssignee = sealedForAssignee;
        if (state == AssignmentState.Accepted)
        {
            Guid account = await db.Set<Membership>().Where(m => m.Id == membershipId).Select(m => m.AccountId).FirstAsync(ct);
            await JoinThreadAsync(db, task, account, ct);
        }

        return null;
    }

    /// <summary>Null if the membership may hold the task; else 404 (no such membership in the cell) or 422 (the policy's reason).</summary>
    private static async Task<TaskRefusal?> PolicyRefusalAsync(CoordinationDbContext db, CellTask task, Guid membershipId, CancellationToken ct)
    {
        Membership? member = await db.Set<Membership>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == membershipId && m.CellId == task.CellId, ct);
        if (member is null)
        {
            return new TaskRefusal(StatusCodes.Status404NotFound, "No such membership in this cell.");
        }

        List<byte[]> tags = await db.Set<MembershipTag>().AsNoTracking().Where(t => t.MembershipId == membershipId).Select(t => t.Tag).ToListAsync(ct);
        return TaskPolicy.Refusal(task.Risk, task.RequiredTags, member.Ceiling, tags) is { } reason ? new TaskRefusal(StatusCodes.Status422UnprocessableEntity, reason) : null;
    }

    private async Task LetGoAsync(CoordinationDbContext db, CellTask task, TaskAssignment part, AssignmentState state, Guid accountId, CancellationToken ct)
    {
        bool wasAccepted = part.State == AssignmentState.Accepted;
        Move(part, state);
        part.OfferExpiresAt = null;
        if (wasAccepted)
        {
            bool organizer = await db.Set<Membership>().AnyAsync(m => m.CellId == task.CellId && m.AccountId == accountId && m.Role == MemberRole.Organizer, ct);
            if (!organizer)
            {
                await conversations.RemoveAsync(db, task.ThreadId, accountId, ct);
                await conversations.AdvanceEpochAsync(db, task.ThreadId, ct);
            }
        }
    }

    /// <summary>Into the thread, with a new epoch so everyone re-keys and the newcomer can read what follows.</summary>
    private async Task JoinThreadAsync(CoordinationDbContext db, CellTask task, Guid accountId, CancellationToken ct)
    {
        if (!await db.ConversationParticipants.AnyAsync(p => p.ConversationId == task.ThreadId && p.AccountId == accountId, ct))
        {
            await conversations.AddAsync(db, task.ThreadId, accountId, ct);
            await conversations.AdvanceEpochAsync(db, task.ThreadId, ct);
        }
    }

    private void Move(TaskAssignment part, AssignmentState state)
    {
        part.State = state;
        part.ChangedAt = Now;
    }

    private static void Recompute(CellTask task, List<TaskAssignment> assignments)
    {
        if (task.State is TaskState.Done or TaskState.Cancelled)
        {
            return;
        }

        int done = assignments.Count(a => a.State == AssignmentState.Done);
        int accepted = assignments.Count(a => a.State == AssignmentState.Accepted) + done;
        int active = accepted + assignments.Count(a => a.State == AssignmentState.Offered);
        task.State = done >= task.PeopleNeeded ? TaskState.Done
            : accepted >= task.PeopleNeeded ? TaskState.Accepted
            : active >= task.PeopleNeeded ? TaskState.Offered
            : TaskState.Open;
    }

    private async Task<TaskRefusal?> ChangeAsync(CoordinationDbContext db, CellTask task, Func<List<TaskAssignment>, Task<TaskRefusal?>> change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(task);
        SemaphoreSlim gate = s_locks.GetOrAdd(task.Id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            // Read again under the task's lock (across relay nodes on PostgreSQL), so the change is
            // checked against the task as it is now.
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.Database.LockAsync(task.Id, ct);
            await db.Entry(task).ReloadAsync(ct);
            List<TaskAssignment> assignments = await db.Set<TaskAssignment>().Where(a => a.TaskId == task.Id).ToListAsync(ct);
            TaskRefusal? refusal = await change(assignments);
            if (refusal is not null)
            {
                conversations.Discard();
                return refusal;
            }

            Recompute(task, assignments);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            await PublishAsync(ct);
            return null;
        }
        finally
        {
            gate.Release();
        }
    }
}
