using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Relay;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Events;

/// <summary>
/// Events in GRAS groups through the SDK against the real relay: created, listed, answered and
/// cancelled with the details and answers read back decrypted; only ciphertext at rest; every role
/// answered exactly; bad input refused; and a relay that moves ciphertext around is noticed.
/// </summary>
public sealed class EventTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Saturday = new(2026, 12, 5, 18, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Members_create_answer_and_cancel_events_and_read_them_decrypted()
    {
        await using Group group = await Group.CreateAsync(relay, "Film club");
        (CellMember olga, CellMember mark, CellMember nina) = (group.Organizer, group.Members[0], group.Members[1]);

        GroupEventView created = await Events(mark).CreateAsync(group.Id, new EventDetails(" Kino Pasaka, hall 2 ", Saturday, "Screening and talk "), None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(new EventDetails("Kino Pasaka, hall 2", Saturday, "Screening and talk"), created.Details);
        Assert.True(created.CreatedByMe);

        // Everyone reads the same details; answers are counted per member, and a later answer replaces an earlier one.
        await Events(olga).RsvpAsync(group.Id, created.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);
        await Events(mark).RsvpAsync(group.Id, created.EventId, RsvpAnswer.Maybe, None).WaitAsync(TestTimeouts.Default);
        await Events(nina).RsvpAsync(group.Id, created.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);
        await Events(nina).RsvpAsync(group.Id, created.EventId, RsvpAnswer.No, None).WaitAsync(TestTimeouts.Default);
        GroupEventView seenByNina = Assert.Single(await Events(nina).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(created.Details, seenByNina.Details);
        Assert.Equal(new RsvpTally(1, 1, 1, 0), seenByNina.Tally);
        Assert.Equal(RsvpAnswer.No, seenByNina.MyAnswer);
        Assert.False(seenByNina.CreatedByMe);
        Assert.Equal(RsvpAnswer.Maybe, Assert.Single(await Events(mark).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default)).MyAnswer);

        // Listed soonest first.
        GroupEventView earlier = await Events(nina).CreateAsync(group.Id, new EventDetails("Library", Saturday.AddDays(-1), "Reading"), None).WaitAsync(TestTimeouts.Default);
        Assert.Equal([earlier.EventId, created.EventId], (await Events(olga).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default)).Select(e => e.EventId));

        // Only the creator or an organizer cancels.
        RelayApiException notYours = await Assert.ThrowsAsync<RelayApiException>(() => Events(mark).CancelAsync(group.Id, earlier.EventId, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Forbidden, notYours.Status);
        await Events(nina).CancelAsync(group.Id, earlier.EventId, None).WaitAsync(TestTimeouts.Default);
        await Events(olga).CancelAsync(group.Id, created.EventId, None).WaitAsync(TestTimeouts.Default);
        await Events(olga).CancelAsync(group.Id, created.EventId, None).WaitAsync(TestTimeouts.Default);

        // A cancelled event stays listed, readable, without answers, and takes no more.
        List<GroupEventView> afterCancel = await Events(mark).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default);
        Assert.All(afterCancel, e => Assert.True(e.Cancelled));
        Assert.Equal(new RsvpTally(0, 0, 0, 0), afterCancel.Single(e => e.EventId == created.EventId).Tally);
        Assert.Equal("Kino Pasaka, hall 2", afterCancel.Single(e => e.EventId == created.EventId).Details!.Place);
        RelayApiException cancelled = await Assert.ThrowsAsync<RelayApiException>(() => Events(mark).RsvpAsync(group.Id, created.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Conflict, cancelled.Status);
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM EventRsvps WHERE EventId = '{Upper(created.EventId)}'"));
    }

    [Fact]
    public async Task A_member_who_leaves_takes_their_answers_along_but_not_their_events()
    {
        await using Group group = await Group.CreateAsync(relay, "Choir");
        (CellMember olga, CellMember mark) = (group.Organizer, group.Members[0]);
        GroupEventView rehearsal = await Events(mark).CreateAsync(group.Id, new EventDetails("Church hall", Saturday, "Rehearsal"), None).WaitAsync(TestTimeouts.Default);
        await Events(mark).RsvpAsync(group.Id, rehearsal.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);
        await Events(olga).RsvpAsync(group.Id, rehearsal.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);

        await mark.Cells.LeaveAsync(group.Id, None).WaitAsync(TestTimeouts.Default);

        GroupEventView seen = Assert.Single(await Events(olga).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal("Rehearsal", seen.Details!.Topic);
        Assert.Equal(new RsvpTally(1, 0, 0, 0), seen.Tally);
        RelayApiException gone = await Assert.ThrowsAsync<RelayApiException>(() => Events(mark).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task The_relay_stores_only_padded_ciphertext_of_details_and_answers()
    {
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        await using Group group = await Group.CreateAsync(relay, "Readers");
        GroupEventView created = await Events(group.Organizer).CreateAsync(group.Id, new EventDetails($"{canary} flat 12, third floor", Saturday, $"{canary} topic"), None)
            .WaitAsync(TestTimeouts.Default);
        await Events(group.Members[0]).RsvpAsync(group.Id, created.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);

        // Sizes say only "short details" and "an answer": one 1 KiB block and one 16-byte block, each with nonce and tag.
        Assert.Equal(24 + 1024 + 16, relay.Count($"SELECT length(SealedDetails) FROM GroupEvents WHERE Id = '{Upper(created.EventId)}'"));
        Assert.Equal(24 + 16 + 16, relay.Count($"SELECT length(SealedAnswer) FROM EventRsvps WHERE EventId = '{Upper(created.EventId)}'"));

        await relay.Services.GetRequiredService<RelayWriter>().SweepAsync().WaitAsync(TestTimeouts.Default);

        // The database (on SQLite its files, on PostgreSQL its files and the write-ahead log) and the logs.
        Coordination.Server.Tests.Intake.RelayScan.AssertAbsent(relay, [canary, group.Organizer.Device.Api.Token!, RelayFactory.ClientAddress], []);

        // Whatever else the relay keeps in its data directory.
        byte[] needle = Encoding.UTF8.GetBytes(canary);
        foreach (string file in Directory.EnumerateFiles(relay.DataDirectory, "*", SearchOption.AllDirectories))
        {
            Assert.True(RelayFactory.ReadShared(file).AsSpan().IndexOf(needle) < 0, $"The event's plaintext is in {file}");
        }
    }

    [Fact]
    public async Task Outsiders_get_404_as_for_no_group_newcomers_403_and_cells_400()
    {
        await using Group group = await Group.CreateAsync(relay, "Hikers", newcomers: 1);
        await using CellMember outsider = await CellMember.CreateAsync(relay);
        GroupEventView hike = await Events(group.Organizer).CreateAsync(group.Id, new EventDetails("Trailhead", Saturday, "Hike"), None).WaitAsync(TestTimeouts.Default);
        CellView cell = await group.Organizer.Cells.CreateAsync(ConversationKind.Cell, "Not a group", null, null, null, None).WaitAsync(TestTimeouts.Default);

        // The same status and detail for a group one is not in as for one that does not exist.
        foreach ((TestDevice device, Guid cellId, HttpStatusCode status) in new[]
        {
            (outsider.Device, group.Id, HttpStatusCode.NotFound),
            (outsider.Device, Guid.NewGuid(), HttpStatusCode.NotFound),
            (group.Newcomers[0].Device, group.Id, HttpStatusCode.Forbidden),
            (group.Organizer.Device, cell.CellId, HttpStatusCode.BadRequest),
        })
        {
            List<(string Call, Func<Task> Run)> calls =
            [
                ("create", () => device.Api.CreateEventAsync(cellId, new CreateEventRequest(Guid.NewGuid(), SecureRandom.Bytes(1064)))),
                ("list", () => device.Api.ListEventsAsync(cellId)),
                ("rsvp", () => device.Api.AnswerEventAsync(cellId, hike.EventId, new RsvpRequest(SecureRandom.Bytes(56)))),
                ("cancel", () => device.Api.CancelEventAsync(cellId, hike.EventId)),
            ];
            foreach ((string call, Func<Task> run) in calls)
            {
                RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => run().WaitAsync(TestTimeouts.Default));
                Assert.True(status == refused.Status, $"{call} in {cellId}: expected {status}, got {refused.Status} ({refused.Detail})");
                if (status == HttpStatusCode.NotFound)
                {
                    Assert.Equal("No such cell.", refused.Detail);
                }
            }
        }

        // Nothing an outsider or newcomer tried changed the group.
        GroupEventView still = Assert.Single(await Events(group.Members[0]).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default));
        Assert.False(still.Cancelled);
        Assert.Equal(new RsvpTally(0, 0, 0, 0), still.Tally);
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM GroupEvents WHERE CellId = '{Upper(cell.CellId)}'"));
    }

    [Fact]
    public async Task Oversized_empty_and_duplicate_input_is_refused_with_problem_details()
    {
        await using Group group = await Group.CreateAsync(relay, "Chess");
        TestDevice member = group.Members[0].Device;
        GroupEventView game = await Events(group.Members[0]).CreateAsync(group.Id, new EventDetails("Park", Saturday, "Blitz"), None).WaitAsync(TestTimeouts.Default);

        foreach ((string what, Func<Task> call, HttpStatusCode status) in new (string, Func<Task>, HttpStatusCode)[]
        {
            ("details one byte over", () => member.Api.CreateEventAsync(group.Id, new CreateEventRequest(Guid.NewGuid(), new byte[Limits.MaxSealedEventBytes + 1])), HttpStatusCode.BadRequest),
            ("empty details", () => member.Api.CreateEventAsync(group.Id, new CreateEventRequest(Guid.NewGuid(), [])), HttpStatusCode.BadRequest),
            ("no event id", () => member.Api.CreateEventAsync(group.Id, new CreateEventRequest(Guid.Empty, new byte[100])), HttpStatusCode.BadRequest),
            ("the same event id", () => member.Api.CreateEventAsync(group.Id, new CreateEventRequest(game.EventId, new byte[100])), HttpStatusCode.Conflict),
            ("answer one byte over", () => member.Api.AnswerEventAsync(group.Id, game.EventId, new RsvpRequest(new byte[EventLimits.MaxSealedRsvpBytes + 1])), HttpStatusCode.BadRequest),
            ("empty answer", () => member.Api.AnswerEventAsync(group.Id, game.EventId, new RsvpRequest([])), HttpStatusCode.BadRequest),
            ("answer to no event", () => member.Api.AnswerEventAsync(group.Id, Guid.NewGuid(), new RsvpRequest(new byte[56])), HttpStatusCode.NotFound),
            ("cancel no event", () => member.Api.CancelEventAsync(group.Id, Guid.NewGuid()), HttpStatusCode.NotFound),
        })
        {
            RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => call().WaitAsync(TestTimeouts.Default));
            Assert.True(status == refused.Status, $"{what}: expected {status}, got {refused.Status} ({refused.Detail})");
            Assert.False(string.IsNullOrEmpty(refused.Detail), what);
        }

        // The largest sealed details that fit are accepted, as the SDK's bound says.
        await member.Api.CreateEventAsync(group.Id, new CreateEventRequest(Guid.NewGuid(), new byte[Limits.MaxSealedEventBytes])).WaitAsync(TestTimeouts.Default);
        string longest = new('x', GroupEventClient.MaxDetailsJsonBytes - """{"place":"p","startsAt":0,"topic":""}""".Length);
        await Events(group.Members[0]).CreateAsync(group.Id, new EventDetails("p", DateTimeOffset.UnixEpoch, longest), None).WaitAsync(TestTimeouts.Default);
        await Assert.ThrowsAsync<ArgumentException>(
            () => Events(group.Members[0]).CreateAsync(group.Id, new EventDetails("p", DateTimeOffset.UnixEpoch, longest + "x"), None).WaitAsync(TestTimeouts.Default));

        // Errors are RFC 9457 problem details, and a malformed body is a 400 too.
        using HttpClient http = relay.CreateRealClient();
        using HttpRequestMessage request = new(HttpMethod.Post, new Uri($"/api/v1/cells/{group.Id}/events", UriKind.Relative))
        {
            Content = new StringContent("""{"eventId": "not a uuid", "sealedDetails": "AAAA"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", member.Api.Token);
        using HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default));
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_group_holds_at_most_the_bounded_number_of_events()
    {
        await using Group group = await Group.CreateAsync(relay, "Busy");
        TestDevice member = group.Members[0].Device;
        long already = relay.Count($"SELECT COUNT(*) FROM GroupEvents WHERE CellId = '{Upper(group.Id)}'");
        for (long i = already; i < EventLimits.MaxEventsPerGroup; i++)
        {
            await member.Api.CreateEventAsync(group.Id, new CreateEventRequest(Guid.NewGuid(), new byte[64])).WaitAsync(TestTimeouts.Default);
        }

        RelayApiException full = await Assert.ThrowsAsync<RelayApiException>(
            () => member.Api.CreateEventAsync(group.Id, new CreateEventRequest(Guid.NewGuid(), new byte[64])).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Conflict, full.Status);
        Assert.Equal(EventLimits.MaxEventsPerGroup, (await member.Api.ListEventsAsync(group.Id).WaitAsync(TestTimeouts.Default)).Count);
    }

    [Fact]
    public async Task A_relay_that_moves_details_or_answers_between_events_or_members_is_noticed()
    {
        await using Group group = await Group.CreateAsync(relay, "Tamper");
        (CellMember olga, CellMember mark, CellMember nina) = (group.Organizer, group.Members[0], group.Members[1]);
        GroupEventView first = await Events(olga).CreateAsync(group.Id, new EventDetails("Here", Saturday, "First"), None).WaitAsync(TestTimeouts.Default);
        GroupEventView second = await Events(olga).CreateAsync(group.Id, new EventDetails("There", Saturday.AddDays(1), "Second"), None).WaitAsync(TestTimeouts.Default);
        await Events(mark).RsvpAsync(group.Id, first.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);
        await Events(nina).RsvpAsync(group.Id, first.EventId, RsvpAnswer.No, None).WaitAsync(TestTimeouts.Default);

        // Whoever controls the database copies the first event's details onto the second, and
        // Mark's "going" over Nina's answer.
        relay.Tamper("UPDATE GroupEvents SET SealedDetails = (SELECT SealedDetails FROM GroupEvents WHERE Id = $0) WHERE Id = $1", first.EventId, second.EventId);
        Guid markMembership = (await mark.Cells.GetAsync(group.Id, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
        Guid ninaMembership = (await nina.Cells.GetAsync(group.Id, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
        relay.Tamper(
            "UPDATE EventRsvps SET SealedAnswer = (SELECT SealedAnswer FROM EventRsvps WHERE EventId = $0 AND MembershipId = $1) WHERE EventId = $0 AND MembershipId = $2",
            first.EventId, markMembership, ninaMembership);

        List<GroupEventView> seen = await Events(olga).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default);
        Assert.Null(seen.Single(e => e.EventId == second.EventId).Details);
        Assert.Equal(new RsvpTally(1, 0, 0, 1), seen.Single(e => e.EventId == first.EventId).Tally);
        Assert.Null(Assert.Single(await Events(nina).ListAsync(group.Id, None).WaitAsync(TestTimeouts.Default), e => e.EventId == first.EventId).MyAnswer);
    }

    private static GroupEventClient Events(CellMember member) => new(member.Device.Api, member.Store);

    private static string Upper(Guid id) => id.ToString().ToUpperInvariant();


    /// <summary>A GRAS group with an organizer, two members and optionally newcomers, each with their own device and store.</summary>
    private sealed class Group : IAsyncDisposable
    {
        private Group(Guid id, CellMember organizer, List<CellMember> members, List<CellMember> newcomers)
        {
            Id = id;
            Organizer = organizer;
            Members = members;
            Newcomers = newcomers;
        }

        public Guid Id { get; }

        public CellMember Organizer { get; }

        public List<CellMember> Members { get; }

        public List<CellMember> Newcomers { get; }

        public static async Task<Group> CreateAsync(RelayFactory relay, string name, int newcomers = 0)
        {
            CellMember organizer = await CellMember.CreateAsync(relay);
            CellView group = await organizer.Cells.CreateAsync(ConversationKind.GrasGroup, name, null, "Olga", null, None).WaitAsync(TestTimeouts.Default);
            string code = await organizer.Cells.InviteAsync(group.CellId, MemberRole.Member, RiskLevel.Low, 2, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
            List<CellMember> members = [];
            for (int i = 0; i < 2; i++)
            {
                CellMember member = await CellMember.CreateAsync(relay);
                Assert.True((await member.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
                members.Add(member);
            }

            List<CellMember> onProbation = [];
            if (newcomers > 0)
            {
                string probation = await organizer.Cells.InviteAsync(group.CellId, MemberRole.Newcomer, RiskLevel.Low, newcomers, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
                for (int i = 0; i < newcomers; i++)
                {
                    CellMember newcomer = await CellMember.CreateAsync(relay);
                    JoinResult joined = await newcomer.Cells.JoinAsync(probation, null, None).WaitAsync(TestTimeouts.Default);
                    Assert.Equal(MemberRole.Newcomer, joined.Cell!.Membership.Role);
                    onProbation.Add(newcomer);
                }
            }

            return new Group(group.CellId, organizer, members, onProbation);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (CellMember member in Members.Concat(Newcomers).Prepend(Organizer))
            {
                await member.DisposeAsync();
            }
        }
    }
}
