using Coordination.Client.Cells;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;

namespace Coordination.Fuzz.Tests.Rest;

/// <summary>
/// A cell with a task offered to its member, and a GRAS group with an event: tasks, offers,
/// hand-overs, capability tags, events and answers each have a valid body.
/// </summary>
public sealed class TaskAndEventWorld : RelayWorld
{
    public static readonly string[] Names = ["task-create", "task-offer", "task-handover", "tags", "event-create", "rsvp"];

    protected override async Task BuildAsync()
    {
        CancellationToken none = CancellationToken.None;
        Person organizer = await PersonAsync();
        Person member = await PersonAsync();
        CellView cell = await organizer.Cells.CreateAsync(ConversationKind.Cell, "Fuzz tasks", null, null, null, none).WaitAsync(TestTimeouts.Default);
        Guid memberMembership = await AdmitAsync(organizer, member, cell.CellId);
        CellView group = await organizer.Cells.CreateAsync(ConversationKind.GrasGroup, "Fuzz group", null, null, DateTimeOffset.UtcNow.AddDays(2), none).WaitAsync(TestTimeouts.Default);
        await AdmitAsync(organizer, member, group.CellId);

        TaskClient tasks = new(organizer.Cells);
        TaskView task = await tasks.CreateAsync(cell.CellId, RiskLevel.Low, "Print leaflets", null, [], 2, null, none).WaitAsync(TestTimeouts.Default);
        await tasks.OfferAsync(task.TaskId, memberMembership, none).WaitAsync(TestTimeouts.Default);
        GroupEventInfo groupEvent = await member.Api.CreateEventAsync(group.CellId, new CreateEventRequest(Guid.NewGuid(), SecureRandom.Bytes(200))).WaitAsync(TestTimeouts.Default);
        Guid organizerMembership = cell.Membership.MembershipId;
        Guid[] known = [cell.CellId, group.CellId, task.TaskId, memberMembership, organizerMembership, groupEvent.EventId, member.AccountId];

        Add(new BodyEndpoint("task-create", HttpMethod.Post, $"/api/v1/cells/{cell.CellId}/tasks", organizer.Token,
            () => Task.FromResult(Body(new CreateTaskRequest(RiskLevel.Elevated, [SecureRandom.Bytes(32)], 1, DateTimeOffset.UtcNow.AddDays(3).ToUnixTimeMilliseconds(), SecureRandom.Bytes(300), Guid.NewGuid()))),
            ["Tasks", "TaskAssignments", "Conversations", "ConversationParticipants"]) { KnownIds = known });

        Add(new BodyEndpoint("task-offer", HttpMethod.Post, $"/api/v1/tasks/{task.TaskId}/offers", organizer.Token,
            () => Task.FromResult(Body(new OfferTaskRequest(organizerMembership, 3600, SecureRandom.Bytes(64)))), ["TaskAssignments"]) { KnownIds = known });

        Add(new BodyEndpoint("task-handover", HttpMethod.Post, $"/api/v1/tasks/{task.TaskId}/handover", organizer.Token,
            () => Task.FromResult(Body(new HandOverTaskRequest(organizerMembership, memberMembership, SecureRandom.Bytes(64)))), ["TaskAssignments"]) { KnownIds = known });

        Add(new BodyEndpoint("tags", HttpMethod.Put, $"/api/v1/cells/{cell.CellId}/members/{memberMembership}/tags", organizer.Token,
            () => Task.FromResult(Body(new SetTagsRequest([SecureRandom.Bytes(32), SecureRandom.Bytes(32)]))), ["MembershipTags", "TaskAssignments"]) { KnownIds = known });

        Add(new BodyEndpoint("event-create", HttpMethod.Post, $"/api/v1/cells/{group.CellId}/events", member.Token,
            () => Task.FromResult(Body(new CreateEventRequest(Guid.NewGuid(), SecureRandom.Bytes(300)))), ["GroupEvents"]) { KnownIds = known });

        Add(new BodyEndpoint("rsvp", HttpMethod.Post, $"/api/v1/cells/{group.CellId}/events/{groupEvent.EventId}/rsvps", member.Token,
            () => Task.FromResult(Body(new RsvpRequest(SecureRandom.Bytes(56)))), ["EventRsvps"]) { KnownIds = known });
    }

    private static async Task<Guid> AdmitAsync(Person organizer, Person member, Guid cellId)
    {
        string code = await organizer.Cells.InviteAsync(cellId, MemberRole.Member, RiskLevel.Low, 1, TimeSpan.FromHours(2), 0, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        JoinResult joined = await member.Cells.JoinAsync(code, null, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        return joined.Cell!.Membership.MembershipId;
    }
}

/// <summary>
/// Tasks, offers, hand-overs, tags, events and answers with generated bodies: never a 5xx, every
/// 4xx a problem, no task, part, tag, event or answer stored from a refused request, no error logged.
/// </summary>
public sealed class TaskAndEventBodyFuzzTests(TaskAndEventWorld world) : IClassFixture<TaskAndEventWorld>
{
    public static TheoryData<string> Endpoints => new(TaskAndEventWorld.Names);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomJsonBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomJsonAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomBytesBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomBytesAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task ValidBodiesWithOneFieldChanged_AreRefusedCleanly(string endpoint) => BodyFuzz.MutatedValidAsync(world, endpoint);
}
