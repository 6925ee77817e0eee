using System.Security.Claims;
using Coordination.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Cells;
using Coordination.Server.Hosting;
using Coordination.Server.InputLimits;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Tasks;

/// <summary>
/// Tasks over REST. A task is visible to the members and organizers of its cell, and to a newcomer
/// only while they have a part in it; everyone else gets 404. Organizers create, offer, cancel,
/// hand over anyone's part and ask for suggestions; a member accepts, declines, gives back, hands
/// over and finishes their own part. <see cref="TaskPolicy"/> decides who may hold a task.
/// </summary>
public static class TaskEndpoints
{
    private const string NoSuchTask = "No such task.";

    public static IEndpointRouteBuilder MapTasks(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder cells = app.MapGroup("/api/v1/cells/{cellId:guid}").WithTags("Tasks").RequireAuthorization();
        cells.MapPost("/tasks", CreateTask).WithName(nameof(CreateTask));
        cells.MapGet("/tasks", ListTasks).WithName(nameof(ListTasks));
        cells.MapPut("/members/{membershipId:guid}/tags", SetTags).WithName(nameof(SetTags));

        RouteGroupBuilder tasks = app.MapGroup("/api/v1/tasks/{taskId:guid}").WithTags("Tasks").RequireAuthorization();
        tasks.MapGet("/", GetTask).WithName(nameof(GetTask));
        tasks.MapPost("/offers", OfferTask).WithName(nameof(OfferTask));
        tasks.MapPost("/accept", AcceptTask).WithName(nameof(AcceptTask));
        tasks.MapPost("/decline", DeclineTask).WithName(nameof(DeclineTask));
        tasks.MapPost("/withdraw", WithdrawFromTask).WithName(nameof(WithdrawFromTask));
        tasks.MapPost("/done", FinishTask).WithName(nameof(FinishTask));
        tasks.MapPost("/cancel", CancelTask).WithName(nameof(CancelTask));
        tasks.MapPost("/handover", HandOverTask).WithName(nameof(HandOverTask));
        tasks.MapGet("/suggestions", SuggestAssignees).WithName(nameof(SuggestAssignees));
        return app;
    }

    public static async Task<Results<Created<TaskInfo>, ProblemHttpResult>> CreateTask(
        Guid cellId, CreateTaskRequest request, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        ProblemHttpResult? denied = await CellEndpoints.RequireRoleAsync(db, cellId, accountId, MemberRole.Organizer, ct);
        if (denied is not null)
        {
            return denied;
        }

        (byte[]? tags, string? tagError) = TaskPolicy.Join(request?.RequiredTags);
        string? invalid = request is null ? "The body is missing."
            : !Enum.IsDefined(request.Risk) ? "risk must be 0 (low), 1 (elevated), 2 (high) or 3 (critical)."
            : tagError
            ?? (request.PeopleNeeded is < 1 or > 100 ? "peopleNeeded must be between 1 and 100."
            : request.SealedContent is not { Length: > 0 and <= Limits.MaxSealedEventBytes } ? $"sealedContent must be 1 to {Limits.MaxSealedEventBytes} bytes of ciphertext."
            : request.Deadline is <= 0 ? "deadline must be a Unix time in milliseconds."
            : null);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        if (request!.TaskId is { } chosen && (chosen == Guid.Empty || await db.Set<CellTask>().AnyAsync(t => t.Id == chosen, ct)))
        {
            return Problems.Conflict("A task with this id exists; choose another random id.");
        }

        Membership creator = (await CellEndpoints.MembershipOfAsync(db, cellId, accountId, ct))!;
        CellTask task = await board.CreateAsync(db, cellId, creator, request!, tags!, ct);
        return TypedResults.Created($"/api/v1/tasks/{task.Id}", await DescribeAsync(db, task, ct));
    }

    public static async Task<Results<Ok<List<TaskInfo>>, ProblemHttpResult>> ListTasks(Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        Membership? member = await CellEndpoints.MembershipOfAsync(db, cellId, accountId, ct);
        if (member is null)
        {
            return Problems.NotFound("No such cell.");
        }

        IQueryable<CellTask> visible = db.Set<CellTask>().AsNoTracking().Where(t => t.CellId == cellId);
        if (member.Role == MemberRole.Newcomer)
        {
            visible = visible.Where(t => db.Set<TaskAssignment>().Any(a => a.TaskId == t.Id && a.MembershipId == member.Id));
        }

        List<CellTask> tasks = await visible.ToListAsync(ct);
        List<Guid> ids = [.. tasks.Select(t => t.Id)];
        ILookup<Guid, AssignmentInfo> parts = (await db.Set<TaskAssignment>().AsNoTracking().Where(a => ids.Contains(a.TaskId)).ToListAsync(ct))
            .ToLookup(a => a.TaskId, Info);
        return TypedResults.Ok(tasks.Select(t => Describe(t, [.. parts[t.Id]])).ToList());
    }

    /// <summary>Sets a membership's capability tags (opaque hashes): by an organizer, or by the member for themselves.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> SetTags(
        Guid cellId, Guid membershipId, SetTagsRequest request, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        Membership? caller = await CellEndpoints.MembershipOfAsync(db, cellId, accountId, ct);
        if (caller is null)
        {
            return Problems.NotFound("No such cell.");
        }

        if (caller.Id != membershipId && caller.Role != MemberRole.Organizer)
        {
            return Problems.Forbidden("Only organizers set other members' tags.");
        }

        Membership? target = await db.Set<Membership>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == membershipId && m.CellId == cellId, ct);
        if (target is null)
        {
            return Problems.NotFound("No such membership in this cell.");
        }

        (byte[]? joined, string? error) = TaskPolicy.Join(request?.Tags);
        if (error is not null || request?.Tags is null)
        {
            return Problems.BadRequest(error ?? "tags is required (an empty list clears them).");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Database.LockAsync(membershipId, ct);
        await db.Set<MembershipTag>().Where(t => t.MembershipId == membershipId).ExecuteDeleteAsync(ct);
        List<byte[]> tags = TaskPolicy.Split(joined!);
        db.Set<MembershipTag>().AddRange(tags.Select(t => new MembershipTag { MembershipId = membershipId, Tag = t }));
        await db.SaveChangesAsync(ct);

        // A member who lost a tag no longer holds the tasks that need it.
        await board.TagsChangedAsync(db, target, tags, ct);
        await transaction.CommitAsync(ct);
        await board.PublishAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<TaskInfo>, ProblemHttpResult>> GetTask(Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (CellTask? task, Membership? _, ProblemHttpResult? problem) = await VisibleAsync(db, taskId, user, null, ct);
        return task is null ? problem! : TypedResults.Ok(await DescribeAsync(db, task, ct));
    }

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> OfferTask(
        Guid taskId, OfferTaskRequest request, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Organizer, (task, _) =>
        {
            string? invalid = request is null || request.MembershipId == Guid.Empty ? "membershipId is required."
                : request.OfferTtlSeconds is { } ttl && (ttl < 60 || ttl > Limits.MaxEnvelopeTtl.TotalSeconds) ? "offerTtlSeconds must be between 60 and 2592000."
                : request.SealedForAssignee is { Length: 0 or > Limits.MaxSealedEventBytes } ? $"sealedForAssignee must be 1 to {Limits.MaxSealedEventBytes} bytes."
                : null;
            return invalid is not null ? Task.FromResult<TaskRefusal?>(new TaskRefusal(StatusCodes.Status400BadRequest, invalid)) : board.OfferAsync(db, task, request!, ct);
        }, ct);

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> AcceptTask(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Newcomer, (task, member) => board.AcceptAsync(db, task, member, ct), ct);

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> DeclineTask(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Newcomer, (task, member) => board.DeclineAsync(db, task, member, ct), ct);

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> WithdrawFromTask(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Newcomer, (task, member) => board.WithdrawAsync(db, task, member, ct), ct);

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> FinishTask(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Newcomer, (task, member) => board.DoneAsync(db, task, member, ct), ct);

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> CancelTask(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Organizer, (task, _) => board.CancelAsync(db, task, ct), ct);

    public static Task<Results<Ok<TaskInfo>, ProblemHttpResult>> HandOverTask(
        Guid taskId, HandOverTaskRequest request, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, RateLimits limits, CancellationToken ct) =>
        ChangeAsync(taskId, user, db, limits, MemberRole.Newcomer, (task, member) =>
            request is null || request.ToMembershipId == Guid.Empty || request.SealedForAssignee is { Length: 0 or > Limits.MaxSealedEventBytes }
                ? Task.FromResult<TaskRefusal?>(new TaskRefusal(StatusCodes.Status400BadRequest, "toMembershipId is required (and sealedForAssignee, if given, 1 to 4096 bytes)."))
                : board.HandOverAsync(db, task, member, request, ct), ct);

    /// <summary>Eligible memberships for the task, safest first (organizers only): membership ids and the numbers behind the order.</summary>
    public static async Task<Results<Ok<List<TaskSuggestion>>, ProblemHttpResult>> SuggestAssignees(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, TaskBoard board, CancellationToken ct)
    {
        (CellTask? task, Membership? _, ProblemHttpResult? problem) = await VisibleAsync(db, taskId, user, MemberRole.Organizer, ct);
        return task is null ? problem! : TypedResults.Ok(await board.SuggestAsync(db, task, ct));
    }

    private static async Task<Results<Ok<TaskInfo>, ProblemHttpResult>> ChangeAsync(
        Guid taskId, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, MemberRole least, Func<CellTask, Membership, Task<TaskRefusal?>> change, CancellationToken ct)
    {
        (_, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (CellTask? task, Membership? member, ProblemHttpResult? problem) = await VisibleAsync(db, taskId, user, least, ct);
        if (task is null)
        {
            return problem!;
        }

        TaskRefusal? refusal = await change(task, member!);
        return refusal is not null ? Problems.Problem(refusal.Status, refusal.Detail) : TypedResults.Ok(await DescribeAsync(db, task, ct));
    }

    /// <summary>
    /// The task if the caller may see it (404 otherwise, so its existence does not leak), and 403 if
    /// they may see it but their role is below <paramref name="least"/>.
    /// </summary>
    private static async Task<(CellTask? Task, Membership? Member, ProblemHttpResult? Problem)> VisibleAsync(
        CoordinationDbContext db, Guid taskId, ClaimsPrincipal user, MemberRole? least, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        CellTask? task = await db.Set<CellTask>().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        Membership? member = task is null ? null : await CellEndpoints.MembershipOfAsync(db, task.CellId, accountId, ct);
        bool visible = member is not null
            && (member.Role != MemberRole.Newcomer || await db.Set<TaskAssignment>().AnyAsync(a => a.TaskId == taskId && a.MembershipId == member.Id, ct));
        if (!visible)
        {
            return (null, null, Problems.NotFound(NoSuchTask));
        }

        if (least == MemberRole.Organizer && member!.Role != MemberRole.Organizer)
        {
            return (null, null, Problems.Forbidden("Only the cell's organizers may do this."));
        }

        return (task, member, null);
    }

    private static async Task<TaskInfo> DescribeAsync(CoordinationDbContext db, CellTask task, CancellationToken ct) =>
        Describe(task, [.. (await db.Set<TaskAssignment>().AsNoTracking().Where(a => a.TaskId == task.Id).ToListAsync(ct)).Select(Info)]);

    private static TaskInfo Describe(CellTask task, List<AssignmentInfo> assignments) =>
        new(task.Id, task.CellId, task.Risk, TaskPolicy.Split(task.RequiredTags), task.PeopleNeeded, task.Deadline, task.State,
            task.SealedContent, task.ThreadId, task.CreatedBy, assignments);

    private static AssignmentInfo Info(TaskAssignment a) => new(a.MembershipId, a.State, a.OfferExpiresAt, a.SealedForAssignee);
}

/// <summary>Expires unanswered offers every <see cref="Interval"/>.</summary>
public sealed class TaskOfferSweeper(IServiceScopeFactory scopes, TimeProvider clock, ILogger<TaskOfferSweeper> logger)
    : PeriodicSweep(Interval, clock, logger)
{
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(30);

    protected override async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        await using AsyncServiceScope scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TaskBoard>().ExpireOffersAsync(scope.ServiceProvider.GetRequiredService<CoordinationDbContext>(), ct);
    }
}

public static class TaskExtensions
{
    public static WebApplicationBuilder AddTasks(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddScoped<TaskBoard>();
        builder.Services.AddScoped<IMembershipObserver>(sp => sp.GetRequiredService<TaskBoard>());
        builder.Services.AddHostedService<TaskOfferSweeper>();
        return builder;
    }
}
