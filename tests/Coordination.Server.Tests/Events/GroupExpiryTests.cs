using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Hub;
using Coordination.Client.Tasks;
using Coordination.Protocol;
using Coordination.Server.Events;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Events;

/// <summary>
/// A GRAS group whose end has passed is deleted with everything in it, and expired invites and
/// admission candidates go too. Time is moved forward on the relay's clock instead of waited for;
/// each test moves it by minutes, far less than a session lasts, and builds on whatever the other
/// test in this class already moved.
/// </summary>
public sealed class GroupExpiryTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_group_whose_end_has_passed_is_deleted_with_its_messages_events_tasks_and_invites()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        DateTimeOffset now = relay.Clock.GetUtcNow();
        CellView ending = await olga.Cells.CreateAsync(ConversationKind.GrasGroup, "One evening", null, null, now.AddMinutes(1), None).WaitAsync(TestTimeouts.Default);
        CellView lasting = await olga.Cells.CreateAsync(ConversationKind.GrasGroup, "All winter", null, null, now.AddDays(1), None).WaitAsync(TestTimeouts.Default);
        foreach (CellView group in new[] { ending, lasting })
        {
            string code = await olga.Cells.InviteAsync(group.CellId, MemberRole.Member, RiskLevel.Low, 5, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
            Assert.True((await mark.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
            await new GroupEventClient(olga.Device.Api, olga.Store).CreateAsync(group.CellId, new EventDetails("Flat 3", now.AddHours(2), "Screening"), None).WaitAsync(TestTimeouts.Default);
        }

        // In the ending group: an answer, a message Mark has not fetched yet, and a task with its own thread.
        GroupEventView evening = Assert.Single(await new GroupEventClient(mark.Device.Api, mark.Store).ListAsync(ending.CellId, None).WaitAsync(TestTimeouts.Default));
        await new GroupEventClient(mark.Device.Api, mark.Store).RsvpAsync(ending.CellId, evening.EventId, RsvpAnswer.Going, None).WaitAsync(TestTimeouts.Default);
        await olga.Messages.SendTextAsync(ending.CellId, "Doors at eight", None).WaitAsync(TestTimeouts.Default);
        TaskView task = await new TaskClient(olga.Cells).CreateAsync(ending.CellId, RiskLevel.Low, "Bring the projector", null, [], 1, null, None).WaitAsync(TestTimeouts.Default);
        string id = Upper(ending.CellId);
        string thread = Upper(task.ThreadId);
        string[] everything =
        [
            $"SELECT COUNT(*) FROM Cells WHERE Id = '{id}'",
            $"SELECT COUNT(*) FROM Conversations WHERE Id IN ('{id}', '{thread}')",
            $"SELECT COUNT(*) FROM ConversationParticipants WHERE ConversationId IN ('{id}', '{thread}')",
            $"SELECT COUNT(*) FROM DeliveryCursors WHERE ConversationId IN ('{id}', '{thread}')",
            $"SELECT COUNT(*) FROM Envelopes WHERE ConversationId = '{id}'",
            $"SELECT COUNT(*) FROM SendReceipts WHERE ConversationId = '{id}'",
            $"SELECT COUNT(*) FROM Memberships WHERE CellId = '{id}'",
            $"SELECT COUNT(*) FROM MembershipLog WHERE CellId = '{id}'",
            $"SELECT COUNT(*) FROM Invites WHERE CellId = '{id}'",
            $"SELECT COUNT(*) FROM Tasks WHERE CellId = '{id}'",
            $"SELECT COUNT(*) FROM GroupEvents WHERE CellId = '{id}'",
            $"SELECT COUNT(*) FROM EventRsvps WHERE EventId = '{Upper(evening.EventId)}'",
        ];
        Assert.All(everything, sql => Assert.True(relay.Count(sql) > 0, $"before the end, nothing for: {sql}"));

        // Mark is connected when the group ends.
        await using HubConnection hub = await HubConnection.ConnectAsync(
            new Uri(relay.ServerAddress, RelayHubContract.Path), mark.Device.Api.Token!, null, _ => { }, None).WaitAsync(TestTimeouts.Default);

        relay.Clock.Advance(TimeSpan.FromMinutes(2));
        await relay.Services.GetRequiredService<GroupExpiry>().SweepAsync().WaitAsync(TestTimeouts.Default);

        Assert.All(everything, sql => Assert.True(relay.Count(sql) == 0, $"left after the end: {sql}"));
        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM GroupEvents WHERE CellId = '{Upper(lasting.CellId)}'"));
        Assert.Equal(2, relay.Count($"SELECT COUNT(*) FROM Memberships WHERE CellId = '{Upper(lasting.CellId)}'"));

        // For its members the group is gone: 404 everywhere, and nothing more is accepted for it, live or over REST.
        foreach (Func<Task> call in new Func<Task>[]
        {
            () => mark.Device.Api.GetCellAsync(ending.CellId),
            () => mark.Device.Api.ListEventsAsync(ending.CellId),
            () => olga.Device.Api.CreateEventAsync(ending.CellId, new CreateEventRequest(Guid.NewGuid(), new byte[64])),
            () => olga.Device.Api.ListRecipientDevicesAsync(ending.CellId),
            () => olga.Device.Api.SendAsync(TestDevice.Envelope(ending.CellId, "Anyone there?")),
        })
        {
            RelayApiException gone = await Assert.ThrowsAsync<RelayApiException>(() => call().WaitAsync(TestTimeouts.Default));
            Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        }

        HubInvocationException refused = await Assert.ThrowsAsync<HubInvocationException>(() => hub.InvokeAsync<SendResult>(
            nameof(IRelayHub.Send), [new SendEnvelope(ending.CellId, Guid.NewGuid(), PairwiseShaped())], None).WaitAsync(TestTimeouts.Default));
        Assert.Contains("No such conversation.", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await mark.Device.Api.ListCellsAsync().WaitAsync(TestTimeouts.Default), c => c.CellId == ending.CellId);
        Assert.DoesNotContain(await mark.Device.Api.ListConversationsAsync().WaitAsync(TestTimeouts.Default), c => c.ConversationId == ending.CellId || c.ConversationId == task.ThreadId);

        // The other group goes on, and the connection is still there for it.
        Assert.Single(await new GroupEventClient(mark.Device.Api, mark.Store).ListAsync(lasting.CellId, None).WaitAsync(TestTimeouts.Default));
        SendResult stillOpen = await hub.InvokeAsync<SendResult>(
            nameof(IRelayHub.Send), [new SendEnvelope(lasting.CellId, Guid.NewGuid(), PairwiseShaped())], None).WaitAsync(TestTimeouts.Default);
        Assert.True(stillOpen.Seq > 0);
    }

    [Fact]
    public async Task Expired_invites_and_admission_candidates_are_deleted_by_the_same_sweep()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember candidate = await CellMember.CreateAsync(relay);
        CellView group = await olga.Cells.CreateAsync(ConversationKind.GrasGroup, "Open-ended", null, null, null, None).WaitAsync(TestTimeouts.Default);
        string shortLived = await olga.Cells.InviteAsync(group.CellId, MemberRole.Member, RiskLevel.Low, 3, TimeSpan.FromMinutes(10), 1, None).WaitAsync(TestTimeouts.Default);
        await olga.Cells.InviteAsync(group.CellId, MemberRole.Member, RiskLevel.Low, 3, TimeSpan.FromDays(1), 0, None).WaitAsync(TestTimeouts.Default);
        Assert.False((await candidate.Cells.JoinAsync(shortLived, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
        string id = Upper(group.CellId);
        Assert.Equal(2, relay.Count($"SELECT COUNT(*) FROM Invites WHERE CellId = '{id}'"));
        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM AdmissionCandidates WHERE CellId = '{id}'"));

        relay.Clock.Advance(TimeSpan.FromMinutes(15));
        await relay.Services.GetRequiredService<GroupExpiry>().SweepAsync().WaitAsync(TestTimeouts.Default);

        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM Invites WHERE CellId = '{id}'"));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM AdmissionCandidates WHERE CellId = '{id}'"));
        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM Cells WHERE Id = '{id}'"));
        RelayApiException expired = await Assert.ThrowsAsync<RelayApiException>(() => candidate.Cells.JoinAsync(shortLived, null, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, expired.Status);
    }

    private static string Upper(Guid id) => id.ToString().ToUpperInvariant();

    /// <summary>Bytes shaped like a pairwise envelope (version 0x01, type 0x01) of the smallest bucket.</summary>
    private static byte[] PairwiseShaped()
    {
        byte[] bytes = Coordination.Crypto.SecureRandom.Bytes(Limits.EnvelopeBuckets[0]);
        bytes[0] = 0x01;
        bytes[1] = 0x01;
        return bytes;
    }
}
