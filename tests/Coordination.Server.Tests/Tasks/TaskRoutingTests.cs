using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Hub;
using Coordination.Client.Tasks;
using Coordination.Protocol;
using Coordination.Server.Persistence;
using Coordination.Server.Tasks;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Tasks;

/// <summary>
/// Tasks routed by risk through the SDK against the real relay: a high-risk public task goes to a
/// member abroad (a high ceiling), a low-risk in-country task to a member inside (a low ceiling and
/// the in-country tag), and the other way round is refused, whoever asks.
/// </summary>
public sealed class TaskRoutingTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Risky_work_goes_to_the_member_it_endangers_least_and_the_reverse_is_refused()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView fundraiser = await olga.CreateAsync(network.CellId, RiskLevel.High, "Speak at the fundraiser", "Public, under your name", ["public-name"], 1, null, None).WaitAsync(TestTimeouts.Default);
        TaskView parcel = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Carry a parcel to the detention centre", null, ["in-country"], 1, DateTimeOffset.UtcNow.AddDays(3), None).WaitAsync(TestTimeouts.Default);

        // Suggestions name only eligible memberships, safest first.
        Assert.Equal([network.AnnaMembership], (await olga.SuggestAsync(fundraiser.TaskId, None).WaitAsync(TestTimeouts.Default)).Select(s => s.MembershipId));
        Assert.Equal(
            new[] { network.BorisMembership, network.VeraMembership }.Order(),
            (await olga.SuggestAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default)).Select(s => s.MembershipId).Order());

        // The other way round is refused with the reason.
        RelayApiException aboveCeiling = await Assert.ThrowsAsync<RelayApiException>(() => olga.OfferAsync(fundraiser.TaskId, network.BorisMembership, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, aboveCeiling.Status);
        Assert.Contains("above this member's ceiling", aboveCeiling.Detail, StringComparison.Ordinal);
        RelayApiException missingTag = await Assert.ThrowsAsync<RelayApiException>(() => olga.OfferAsync(parcel.TaskId, network.AnnaMembership, None).WaitAsync(TestTimeouts.Default));
        Assert.Contains("lacks 1 of the task's required tags", missingTag.Detail, StringComparison.Ordinal);

        // Boris cannot take the risky task himself either.
        RelayApiException selfAssign = await Assert.ThrowsAsync<RelayApiException>(() => Network.Tasks(network.Boris).AcceptAsync(fundraiser.TaskId, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, selfAssign.Status);

        // The right way round: offered, accepted, done; the content is readable by the members.
        await olga.OfferAsync(fundraiser.TaskId, network.AnnaMembership, None).WaitAsync(TestTimeouts.Default);
        TaskView accepted = await Network.Tasks(network.Anna).AcceptAsync(fundraiser.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(TaskState.Accepted, accepted.State);
        Assert.Equal("Speak at the fundraiser", accepted.Title);
        await olga.OfferAsync(parcel.TaskId, network.BorisMembership, None).WaitAsync(TestTimeouts.Default);
        await Network.Tasks(network.Boris).AcceptAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default);
        TaskView done = await Network.Tasks(network.Boris).DoneAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(TaskState.Done, done.State);

        // The task thread: the assignee and the organizers, nobody else.
        await network.Anna.Messages.SendTextAsync(accepted.ThreadId, "Slides ready", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["Slides ready"], await network.Olga.ReadAsync(accepted.ThreadId));
        RelayApiException notOnIt = await Assert.ThrowsAsync<RelayApiException>(() => network.Boris.Device.Api.ListRecipientDevicesAsync(accepted.ThreadId).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, notOnIt.Status);

        // No task title or description, tag name, thread message, token or client address at rest or in the log.
        Coordination.Server.Tests.Intake.RelayScan.AssertAbsent(
            relay,
            ["Speak at the fundraiser", "Public, under your name", "Carry a parcel to the detention centre", "public-name", "in-country", "Slides ready",
                network.Olga.Device.Api.Token!, network.Anna.Device.Api.Token!, RelayFactory.ClientAddress],
            []);
    }

    [Fact]
    public async Task Lowering_a_ceiling_releases_the_tasks_above_it_and_tells_the_organizers()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView risky = await olga.CreateAsync(network.CellId, RiskLevel.High, "Hand out the newspaper", null, [], 1, null, None).WaitAsync(TestTimeouts.Default);
        await olga.OfferAsync(risky.TaskId, network.AnnaMembership, None).WaitAsync(TestTimeouts.Default);
        await Network.Tasks(network.Anna).AcceptAsync(risky.TaskId, None).WaitAsync(TestTimeouts.Default);

        TaskCompletionSource<TaskReleased> told = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using HubConnection organizerHub = await HubConnection.ConnectAsync(
            new Uri(relay.ServerAddress, RelayHubContract.Path), network.Olga.Device.Api.Token!, null,
            connection => connection.On<TaskReleased>(nameof(IRelayClient.TaskReleased), notice =>
            {
                told.TrySetResult(notice);
                return Task.CompletedTask;
            }),
            None).WaitAsync(TestTimeouts.Default);

        await network.Olga.Cells.SetCeilingAsync(network.CellId, network.AnnaMembership, RiskLevel.Elevated, None).WaitAsync(TestTimeouts.Default);

        TaskReleased notice = await told.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal((risky.TaskId, network.AnnaMembership), (notice.TaskId, notice.MembershipId));
        Assert.Contains("ceiling is now elevated", notice.Reason, StringComparison.Ordinal);
        TaskView after = await olga.GetAsync(risky.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(TaskState.Open, after.State);
        Assert.Equal(AssignmentState.Released, Assert.Single(after.Assignments).State);
        RelayApiException again = await Assert.ThrowsAsync<RelayApiException>(() => olga.OfferAsync(risky.TaskId, network.AnnaMembership, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, again.Status);
    }

    [Fact]
    public async Task Burning_a_member_frees_their_tasks()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView parcel = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Parcel", null, ["in-country"], 1, null, None).WaitAsync(TestTimeouts.Default);
        await olga.OfferAsync(parcel.TaskId, network.BorisMembership, None).WaitAsync(TestTimeouts.Default);
        await Network.Tasks(network.Boris).AcceptAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default);

        await network.Olga.Cells.BurnAsync(network.CellId, network.BorisMembership, None).WaitAsync(TestTimeouts.Default);

        TaskView freed = await olga.GetAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(TaskState.Open, freed.State);
        Assert.Equal(AssignmentState.Released, Assert.Single(freed.Assignments).State);
    }

    [Fact]
    public async Task A_hand_over_checks_the_policy_again_and_a_refused_one_changes_nothing()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView parcel = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Parcel", null, ["in-country"], 1, null, None).WaitAsync(TestTimeouts.Default);
        await olga.OfferAsync(parcel.TaskId, network.BorisMembership, None).WaitAsync(TestTimeouts.Default);
        TaskClient boris = Network.Tasks(network.Boris);
        await boris.AcceptAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default);

        RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => boris.HandOverAsync(parcel.TaskId, network.AnnaMembership, null, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Equal(AssignmentState.Accepted, Assert.Single((await olga.GetAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default)).Assignments).State);

        TaskView handed = await boris.HandOverAsync(parcel.TaskId, network.VeraMembership, null, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(AssignmentState.Withdrawn, handed.Assignments.Single(a => a.MembershipId == network.BorisMembership).State);
        Assert.Equal(AssignmentState.Offered, handed.Assignments.Single(a => a.MembershipId == network.VeraMembership).State);
        Assert.Equal(TaskState.Accepted, (await Network.Tasks(network.Vera).AcceptAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default)).State);
    }

    [Fact]
    public async Task An_unanswered_offer_expires_and_the_place_opens_again()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView task = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Translate a letter", null, [], 1, null, None).WaitAsync(TestTimeouts.Default);
        await network.Olga.Device.Api.OfferTaskAsync(task.TaskId, new OfferTaskRequest(network.AnnaMembership, OfferTtlSeconds: 60)).WaitAsync(TestTimeouts.Default);
        Assert.Equal(TaskState.Offered, (await olga.GetAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default)).State);

        relay.Clock.Advance(TimeSpan.FromMinutes(2));
        await using (AsyncServiceScope scope = relay.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TaskBoard>().ExpireOffersAsync(scope.ServiceProvider.GetRequiredService<CoordinationDbContext>(), None).WaitAsync(TestTimeouts.Default);
        }

        TaskView expired = await olga.GetAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(TaskState.Open, expired.State);
        Assert.Equal(AssignmentState.Expired, Assert.Single(expired.Assignments).State);
        RelayApiException late = await Assert.ThrowsAsync<RelayApiException>(() => Network.Tasks(network.Anna).DeclineAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Conflict, late.Status);

        // Expired and declined offers count against a member in the suggestions.
        TaskSuggestion anna = (await olga.SuggestAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default)).Single(s => s.MembershipId == network.AnnaMembership);
        Assert.Equal(1, anna.RecentDeclines);
    }

    [Fact]
    public async Task Someone_who_joins_a_thread_later_reads_what_is_written_after_and_a_cancelled_task_cannot_be_taken()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView letters = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Letters", null, [], 2, null, None).WaitAsync(TestTimeouts.Default);
        TaskView accepted = await Network.Tasks(network.Anna).AcceptAsync(letters.TaskId, None).WaitAsync(TestTimeouts.Default);
        await network.Anna.Messages.SendTextAsync(accepted.ThreadId, "first: I have the addresses", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["first: I have the addresses"], await network.Olga.ReadAsync(accepted.ThreadId));

        // Vera joins the thread later: the epoch moves on, Anna re-keys, Vera reads what follows.
        await Network.Tasks(network.Vera).AcceptAsync(letters.TaskId, None).WaitAsync(TestTimeouts.Default);
        await network.Anna.Messages.SendTextAsync(accepted.ThreadId, "second: envelopes at my place", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["second: envelopes at my place"], await network.Vera.ReadAsync(accepted.ThreadId));

        // A standing offer of a cancelled task cannot be accepted.
        TaskView parcel = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Parcel", null, ["in-country"], 1, null, None).WaitAsync(TestTimeouts.Default);
        await olga.OfferAsync(parcel.TaskId, network.BorisMembership, None).WaitAsync(TestTimeouts.Default);
        await olga.CancelAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default);
        RelayApiException finished = await Assert.ThrowsAsync<RelayApiException>(() => Network.Tasks(network.Boris).AcceptAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Conflict, finished.Status);
        Assert.Equal(AssignmentState.Withdrawn, Assert.Single((await olga.GetAsync(parcel.TaskId, None).WaitAsync(TestTimeouts.Default)).Assignments).State);
    }

    [Fact]
    public async Task The_relay_cannot_show_one_tasks_content_on_another()
    {
        await using Network network = await Network.CreateAsync(relay);
        TaskClient olga = Network.Tasks(network.Olga);
        TaskView harmless = await olga.CreateAsync(network.CellId, RiskLevel.Low, "Write a postcard", null, [], 1, null, None).WaitAsync(TestTimeouts.Default);
        TaskView risky = await olga.CreateAsync(network.CellId, RiskLevel.Critical, "Speak at the rally under your name", null, [], 1, null, None).WaitAsync(TestTimeouts.Default);

        // Swapped in the database: the low-risk task would now say what the critical one says.
        byte[] low = ContentOf(harmless.TaskId);
        byte[] high = ContentOf(risky.TaskId);
        relay.Tamper("UPDATE Tasks SET SealedContent = $1 WHERE Id = $0", harmless.TaskId, high);
        relay.Tamper("UPDATE Tasks SET SealedContent = $1 WHERE Id = $0", risky.TaskId, low);

        TaskView shown = await Network.Tasks(network.Anna).GetAsync(harmless.TaskId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal("(unreadable on this device)", shown.Title);
        Assert.Equal("(unreadable on this device)", (await olga.GetAsync(risky.TaskId, None).WaitAsync(TestTimeouts.Default)).Title);
    }

    private byte[] ContentOf(Guid taskId) => (byte[])Assert.Single(relay.Query("SELECT SealedContent FROM Tasks WHERE Id = $0", taskId))[0]!;

    [Fact]
    public async Task Two_organizers_racing_for_the_last_place_cannot_both_win()
    {
        await using Network network = await Network.CreateAsync(relay);
        await network.Olga.Cells.SetRoleAsync(network.CellId, network.VeraMembership, MemberRole.Organizer, None).WaitAsync(TestTimeouts.Default);
        TaskClient olga = Network.Tasks(network.Olga);
        for (int round = 0; round < 5; round++)
        {
            TaskView task = await olga.CreateAsync(network.CellId, RiskLevel.Low, $"Round {round}", null, [], 1, null, None).WaitAsync(TestTimeouts.Default);
            Task<TaskView> first = olga.OfferAsync(task.TaskId, network.AnnaMembership, None);
            Task<TaskView> second = Network.Tasks(network.Vera).OfferAsync(task.TaskId, network.BorisMembership, None);
            int won = 0;
            foreach (Task<TaskView> attempt in new[] { first, second })
            {
                try
                {
                    await attempt.WaitAsync(TestTimeouts.Default);
                    won++;
                }
                catch (RelayApiException ex) when (ex.Status == HttpStatusCode.Conflict)
                {
                }
            }

            Assert.Equal(1, won);
            Assert.Single((await olga.GetAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default)).Assignments, a => a.State == AssignmentState.Offered);
        }
    }

}

/// <summary>
/// A cell like the demo's: Olga organizes (ceiling critical); Anna lives abroad (ceiling critical,
/// speaks publicly); Boris and Vera live inside (ceiling low, in-country). No field says where
/// anyone is: the ceilings and the opaque tags carry it.
/// </summary>
internal sealed class Network : IAsyncDisposable
{
    private Network(CellMember olga, CellMember anna, CellMember boris, CellMember vera, Guid cellId, Guid anna2, Guid boris2, Guid vera2)
    {
        Olga = olga;
        Anna = anna;
        Boris = boris;
        Vera = vera;
        CellId = cellId;
        AnnaMembership = anna2;
        BorisMembership = boris2;
        VeraMembership = vera2;
    }

    public CellMember Olga { get; }

    public CellMember Anna { get; }

    public CellMember Boris { get; }

    public CellMember Vera { get; }

    public Guid CellId { get; }

    public Guid AnnaMembership { get; }

    public Guid BorisMembership { get; }

    public Guid VeraMembership { get; }

    public static async Task<Network> CreateAsync(RelayFactory relay)
    {
        CancellationToken none = CancellationToken.None;
        CellMember olga = await CellMember.CreateAsync(relay);
        CellMember anna = await CellMember.CreateAsync(relay);
        CellMember boris = await CellMember.CreateAsync(relay);
        CellMember vera = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "North Harbour", null, null, null, none).WaitAsync(TestTimeouts.Default);
        Guid annaId = await olga.AdmitAsync(anna, cell.CellId, MemberRole.Member, RiskLevel.Critical);
        Guid borisId = await olga.AdmitAsync(boris, cell.CellId, MemberRole.Member, RiskLevel.Low);
        Guid veraId = await olga.AdmitAsync(vera, cell.CellId, MemberRole.Member, RiskLevel.Low);
        TaskClient tasks = new(olga.Cells);
        await tasks.SetTagsAsync(cell.CellId, annaId, ["public-name", "russian-speaking"], none).WaitAsync(TestTimeouts.Default);
        await tasks.SetTagsAsync(cell.CellId, borisId, ["in-country", "printing"], none).WaitAsync(TestTimeouts.Default);
        await tasks.SetTagsAsync(cell.CellId, veraId, ["in-country"], none).WaitAsync(TestTimeouts.Default);
        return new Network(olga, anna, boris, vera, cell.CellId, annaId, borisId, veraId);
    }

    public static TaskClient Tasks(CellMember member) => new(member.Cells);

    public async ValueTask DisposeAsync()
    {
        foreach (CellMember member in new[] { Olga, Anna, Boris, Vera })
        {
            await member.DisposeAsync();
        }
    }
}
