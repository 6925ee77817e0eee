using System.Security.Claims;
using Coordination.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Cells;
using Coordination.Server.Hosting;
using Coordination.Server.InputLimits;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Events;

/// <summary>
/// Events in GRAS groups over REST (protocol section 9). The checks run in one order for every
/// endpoint: anyone who is not a member gets 404 (so a group's existence does not leak, and a group
/// whose end has passed is already gone), a newcomer 403, and a cell that is not a GRAS group 400.
/// Then the input is checked. The relay stores the sealed details and answers it cannot read.
/// </summary>
public static class EventEndpoints
{
    private const string NoSuchCell = "No such cell.";
    private const string NoSuchEvent = "No such event in this group.";

    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder events = app.MapGroup("/api/v1/cells/{cellId:guid}/events").WithTags("Events").RequireAuthorization();
        events.MapPost("/", CreateEvent).WithName(nameof(CreateEvent));
        events.MapGet("/", ListEvents).WithName(nameof(ListEvents));
        events.MapPost("/{eventId:guid}/rsvps", AnswerEvent).WithName(nameof(AnswerEvent));
        events.MapDelete("/{eventId:guid}", CancelEvent).WithName(nameof(CancelEvent));
        return app;
    }

    /// <summary>A member (not a newcomer) creates an event whose details are sealed under the cell key.</summary>
    public static async Task<Results<Created<GroupEventInfo>, ProblemHttpResult>> CreateEvent(
        Guid cellId, CreateEventRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (Membership? membership, ProblemHttpResult? denied) = await GroupMemberAsync(db, cellId, accountId, clock, ct);
        if (membership is null)
        {
            return denied!;
        }

        string? invalid = request is null ? "The body is missing."
            : request.EventId == Guid.Empty ? "eventId is required."
            : SealedError(request.SealedDetails, "sealedDetails", Limits.MaxSealedEventBytes);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        if (await db.Set<GroupEvent>().CountAsync(e => e.CellId == cellId, ct) >= EventLimits.MaxEventsPerGroup)
        {
            return Problems.Conflict($"This group holds {EventLimits.MaxEventsPerGroup} events, cancelled ones included, the most the relay keeps for one group.");
        }

        if (await db.Set<GroupEvent>().AnyAsync(e => e.Id == request!.EventId, ct))
        {
            return Problems.Conflict("An event with this id exists; choose another random id.");
        }

        GroupEvent created = new() { Id = request!.EventId, CellId = cellId, CreatorMembershipId = membership.Id, SealedDetails = request.SealedDetails };
        db.Set<GroupEvent>().Add(created);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The same id was taken at the same moment, or the group ended meanwhile.
            db.ChangeTracker.Clear();
            return await db.Set<Cell>().AnyAsync(c => c.Id == cellId, ct)
                ? Problems.Conflict("An event with this id exists; choose another random id.")
                : Problems.NotFound(NoSuchCell);
        }

        return TypedResults.Created((string?)null, new GroupEventInfo(created.Id, created.CreatorMembershipId, created.SealedDetails, false, []));
    }

    /// <summary>The group's events with their sealed answers. A cancelled event is listed, without answers.</summary>
    public static async Task<Results<Ok<List<GroupEventInfo>>, ProblemHttpResult>> ListEvents(
        Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        (Membership? membership, ProblemHttpResult? denied) = await GroupMemberAsync(db, cellId, accountId, clock, ct);
        if (membership is null)
        {
            return denied!;
        }

        List<GroupEvent> events = await db.Set<GroupEvent>().AsNoTracking().Where(e => e.CellId == cellId).OrderBy(e => e.Id).ToListAsync(ct);
        List<EventRsvp> answers = await (
            from r in db.Set<EventRsvp>()
            join e in db.Set<GroupEvent>() on r.EventId equals e.Id
            where e.CellId == cellId && !e.Cancelled
            select r).AsNoTracking().ToListAsync(ct);
        ILookup<Guid, EventRsvp> byEvent = answers.ToLookup(r => r.EventId);
        return TypedResults.Ok(events
            .Select(e => new GroupEventInfo(e.Id, e.CreatorMembershipId, e.SealedDetails, e.Cancelled,
                e.Cancelled ? [] : [.. byEvent[e.Id].Select(r => new EventRsvpInfo(r.MembershipId, r.SealedAnswer))]))
            .ToList());
    }

    /// <summary>The caller's sealed answer to an event; a later answer replaces it.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> AnswerEvent(
        Guid cellId, Guid eventId, RsvpRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (Membership? membership, ProblemHttpResult? denied) = await GroupMemberAsync(db, cellId, accountId, clock, ct);
        if (membership is null)
        {
            return denied!;
        }

        if ((request is null ? "The body is missing." : SealedError(request.SealedAnswer, "sealedAnswer", EventLimits.MaxSealedRsvpBytes)) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        GroupEvent? answered = await db.Set<GroupEvent>().AsNoTracking().FirstOrDefaultAsync(e => e.Id == eventId && e.CellId == cellId, ct);
        if (answered is null)
        {
            return Problems.NotFound(NoSuchEvent);
        }

        if (answered.Cancelled)
        {
            return Problems.Conflict("The event was cancelled.");
        }

        byte[] answer = request!.SealedAnswer;
        if (await ReplaceAnswerAsync(db, eventId, membership.Id, answer, ct))
        {
            return TypedResults.NoContent();
        }

        db.Set<EventRsvp>().Add(new EventRsvp { EventId = eventId, MembershipId = membership.Id, SealedAnswer = answer });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another device of the account answered at the same moment (replace its answer), or the
            // event, the membership or the group went meanwhile.
            db.ChangeTracker.Clear();
            if (!await ReplaceAnswerAsync(db, eventId, membership.Id, answer, ct))
            {
                return Problems.NotFound(NoSuchEvent);
            }
        }

        return TypedResults.NoContent();
    }

    /// <summary>The creator or an organizer of the group cancels an event: it stays listed, marked cancelled, and its answers go.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> CancelEvent(
        Guid cellId, Guid eventId, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        (Membership? membership, ProblemHttpResult? denied) = await GroupMemberAsync(db, cellId, accountId, clock, ct);
        if (membership is null)
        {
            return denied!;
        }

        GroupEvent? cancelled = await db.Set<GroupEvent>().AsNoTracking().FirstOrDefaultAsync(e => e.Id == eventId && e.CellId == cellId, ct);
        if (cancelled is null)
        {
            return Problems.NotFound(NoSuchEvent);
        }

        if (cancelled.CreatorMembershipId != membership.Id && membership.Role != MemberRole.Organizer)
        {
            return Problems.Forbidden("Only the event's creator or an organizer of the group may cancel it.");
        }

        await db.Set<GroupEvent>().Where(e => e.Id == eventId).ExecuteUpdateAsync(s => s.SetProperty(e => e.Cancelled, true), ct);
        await db.Set<EventRsvp>().Where(r => r.EventId == eventId).ExecuteDeleteAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The caller's membership if events are open to it: 404 for non-members and for a group whose
    /// end has passed (the sweep deletes it shortly), 403 for newcomers, 400 for a cell.
    /// </summary>
    private static async Task<(Membership? Membership, ProblemHttpResult? Problem)> GroupMemberAsync(
        CoordinationDbContext db, Guid cellId, Guid accountId, TimeProvider clock, CancellationToken ct)
    {
        Membership? membership = await CellEndpoints.MembershipOfAsync(db, cellId, accountId, ct);
        var cell = membership is null ? null
            : await db.Set<Cell>().AsNoTracking().Where(c => c.Id == cellId).Select(c => new { c.Kind, c.EndsAt }).FirstOrDefaultAsync(ct);
        if (membership is null || cell is null || cell.EndsAt <= clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            return (null, Problems.NotFound(NoSuchCell));
        }

        if (membership.Role == MemberRole.Newcomer)
        {
            return (null, Problems.Forbidden("Newcomers cannot see or plan events until an organizer makes them members."));
        }

        if (cell.Kind != ConversationKind.GrasGroup)
        {
            return (null, Problems.BadRequest("Events are for GRAS groups; this is a cell."));
        }

        return (membership, null);
    }

    private static async Task<bool> ReplaceAnswerAsync(CoordinationDbContext db, Guid eventId, Guid membershipId, byte[] answer, CancellationToken ct) =>
        await db.Set<EventRsvp>().Where(r => r.EventId == eventId && r.MembershipId == membershipId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.SealedAnswer, answer), ct) > 0;

    private static string? SealedError(byte[]? sealedBytes, string name, int max) =>
        sealedBytes is null ? $"{name} is required."
        : sealedBytes.Length is 0 || sealedBytes.Length > max ? $"{name} must be 1 to {max} bytes of ciphertext."
        : null;
}

public static class EventExtensions
{
    /// <summary>Events in GRAS groups, and the sweep that deletes groups whose end has passed (with expired invites).</summary>
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<GroupExpiry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GroupExpiry>());
        return builder;
    }
}
