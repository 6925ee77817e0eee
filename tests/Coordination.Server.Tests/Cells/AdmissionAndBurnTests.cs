using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Cells;

/// <summary>Vouches, newcomers and their announcements, promotion, and burning a member everywhere at once.</summary>
public sealed class AdmissionAndBurnTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task An_invite_that_needs_two_vouches_admits_only_after_two_members_signed()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember ivan = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Riga", null, null, null, None).WaitAsync(TestTimeouts.Default);
        string markCode = await olga.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Low, 1, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
        await mark.Cells.JoinAsync(markCode, null, None).WaitAsync(TestTimeouts.Default);

        string code = await olga.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Low, 1, TimeSpan.FromHours(1), 2, None).WaitAsync(TestTimeouts.Default);
        JoinResult waiting = await ivan.Cells.JoinAsync(code, "Ivan", None).WaitAsync(TestTimeouts.Default);
        Assert.False(waiting.Admitted);
        Assert.Equal((0, 2), (waiting.Vouches, waiting.RequiredVouches));

        // Members see the candidate; Ivan sees nothing of the cell yet.
        PendingAdmission candidate = Assert.Single(await mark.Cells.AdmissionsAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(ivan.AccountId, candidate.AccountId);
        await Assert.ThrowsAsync<RelayApiException>(() => ivan.Device.Api.GetCellAsync(cell.CellId).WaitAsync(TestTimeouts.Default));

        await mark.Cells.VouchAsync(cell.CellId, ivan.AccountId, None).WaitAsync(TestTimeouts.Default);
        Assert.False((await ivan.Cells.JoinAsync(code, "Ivan", None).WaitAsync(TestTimeouts.Default)).Admitted);
        await olga.Cells.VouchAsync(cell.CellId, ivan.AccountId, None).WaitAsync(TestTimeouts.Default);
        JoinResult admitted = await ivan.Cells.JoinAsync(code, "Ivan", None).WaitAsync(TestTimeouts.Default);

        Assert.True(admitted.Admitted);
        Assert.Empty(await olga.Cells.AdmissionsAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default));
        List<VerifiedMember> members = await olga.Cells.MembersAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
        Assert.Contains(members, m => m.AccountId == ivan.AccountId && m.DisplayName == "Ivan");

        // The vouches are in the signed admission, so every client can check them.
        List<SignedMembershipEntry> log = await olga.Device.Api.GetMembershipLogAsync(cell.CellId).WaitAsync(TestTimeouts.Default);
        Assert.True(MembershipEntry.TryDecode(log[^1].Body, out MembershipEntry? entry));
        Assert.True(AdmissionStatements.TryDecodeAuthorization(entry!.Authorization, out _, out _, out _, out List<Vouch> vouches));
        Assert.Equal(new[] { olga.AccountId, mark.AccountId }.Order(), vouches.Select(v => v.VoucherAccountId).Order());
    }

    [Fact]
    public async Task A_newcomer_reads_announcements_but_not_the_roster_or_the_cell_until_promoted()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember nadia = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Yerevan", null, null, null, None).WaitAsync(TestTimeouts.Default);
        await olga.AdmitAsync(mark, cell.CellId, MemberRole.Member, RiskLevel.Low);
        Guid nadiaMembership = await olga.AdmitAsync(nadia, cell.CellId, MemberRole.Newcomer, RiskLevel.Low);
        Assert.Equal(MemberRole.Newcomer, (await nadia.Cells.GetAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default)).Membership.Role);
        Guid announcements = cell.AnnouncementsId!.Value;

        RelayApiException roster = await Assert.ThrowsAsync<RelayApiException>(() => nadia.Device.Api.ListMembersAsync(cell.CellId).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Forbidden, roster.Status);
        await olga.Messages.SendTextAsync(announcements, "Welcome! Training on Sunday.", None).WaitAsync(TestTimeouts.Default);
        await mark.Messages.SendTextAsync(cell.CellId, "members only: the court list", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["Welcome! Training on Sunday."], await nadia.ReadAsync(announcements));
        Assert.Empty(await nadia.ReadAsync(cell.CellId));
        Assert.Equal(["Welcome! Training on Sunday."], await mark.ReadAsync(announcements));

        // The announcements' audience is the whole roster; a newcomer sees only the organizers (and themselves) in it.
        Assert.Equal(
            new[] { olga.AccountId, nadia.AccountId }.Order(),
            (await nadia.Device.Api.ListRecipientDevicesAsync(announcements).WaitAsync(TestTimeouts.Default)).Select(d => d.AccountId).Distinct().Order());
        ConversationInfo seen = (await nadia.Device.Api.ListConversationsAsync().WaitAsync(TestTimeouts.Default)).Single(c => c.ConversationId == announcements);
        Assert.Equal(new[] { olga.AccountId, nadia.AccountId }.Order(), seen.Participants.Order());
        Assert.Equal(3, (await olga.Device.Api.ListRecipientDevicesAsync(announcements).WaitAsync(TestTimeouts.Default)).Select(d => d.AccountId).Distinct().Count());

        // Only organizers post announcements.
        RelayApiException post = await Assert.ThrowsAsync<RelayApiException>(() => mark.Messages.SendTextAsync(announcements, "not allowed", None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Forbidden, post.Status);

        // A newcomer can leave on their own (signing on the relay's head, since they cannot read the log).
        await using (CellMember passerby = await CellMember.CreateAsync(relay))
        {
            await olga.AdmitAsync(passerby, cell.CellId, MemberRole.Newcomer, RiskLevel.Low);
            await passerby.Cells.LeaveAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<RelayApiException>(() => passerby.Device.Api.GetCellAsync(cell.CellId).WaitAsync(TestTimeouts.Default))).Status);
        }

        // Promoted, Nadia joins the cell's conversation and reads what is sent from then on.
        await olga.Cells.SetRoleAsync(cell.CellId, nadiaMembership, MemberRole.Member, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(3, (await nadia.Cells.MembersAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default)).Count);
        await mark.Messages.SendTextAsync(cell.CellId, "welcome to the cell, Nadia", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["welcome to the cell, Nadia"], await nadia.ReadAsync(cell.CellId));
    }

    [Fact]
    public async Task Burning_a_member_revokes_their_devices_and_removes_them_everywhere_with_one_entry()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember vera = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Almaty", null, null, null, None).WaitAsync(TestTimeouts.Default);
        CellView group = await vera.Cells.CreateAsync(ConversationKind.GrasGroup, "Film club", null, null, DateTimeOffset.UtcNow.AddDays(30), None).WaitAsync(TestTimeouts.Default);
        await olga.AdmitAsync(vera, cell.CellId, MemberRole.Member, RiskLevel.Low);
        Guid markInCellMembership = await olga.AdmitAsync(mark, cell.CellId, MemberRole.Member, RiskLevel.High);
        await vera.AdmitAsync(mark, group.CellId, MemberRole.Member, RiskLevel.Low);
        int groupEpoch = (await vera.Cells.GetAsync(group.CellId, None).WaitAsync(TestTimeouts.Default)).Epoch;
        long logBefore = (await olga.Cells.VerifiedLogAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default)).Length;

        await olga.Cells.BurnAsync(cell.CellId, markInCellMembership, None).WaitAsync(TestTimeouts.Default);

        // One entry in the cell's log, signed by the organizer.
        MembershipLog log = await olga.Cells.VerifiedLogAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(logBefore + 1, log.Length);
        Assert.DoesNotContain(log.Members.Values, m => m.AccountId == mark.AccountId);

        // Every device of Mark's is revoked: his session is dead and he cannot log in again.
        RelayApiException dead = await Assert.ThrowsAsync<RelayApiException>(() => mark.Device.Api.ListCellsAsync().WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.Unauthorized, dead.Status);
        await Assert.ThrowsAsync<RelayApiException>(() => mark.Device.Api.LoginAsync(mark.Device.Identity).WaitAsync(TestTimeouts.Default));

        // He is gone from the group too, whose epoch moved on; nothing is encrypted to him there.
        CellView groupNow = await vera.Cells.GetAsync(group.CellId, None).WaitAsync(TestTimeouts.Default);
        Assert.True(groupNow.Epoch > groupEpoch);
        Assert.DoesNotContain(await vera.Cells.MembersAsync(group.CellId, None).WaitAsync(TestTimeouts.Default), m => m.AccountId == mark.AccountId);
        Assert.DoesNotContain(await vera.Device.Api.ListRecipientDevicesAsync(group.CellId).WaitAsync(TestTimeouts.Default), d => d.AccountId == mark.AccountId);
        await vera.Messages.SendTextAsync(group.CellId, "screening moved to Friday", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM DeliveryCursors WHERE DeviceId = '{mark.Device.DeviceId.ToString().ToUpperInvariant()}'"));
    }

    [Fact]
    public async Task A_vouch_from_someone_removed_since_does_not_spoil_the_admission()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember ivan = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Tallinn", null, null, null, None).WaitAsync(TestTimeouts.Default);
        Guid markJoinedMembership = await olga.AdmitAsync(mark, cell.CellId, MemberRole.Member, RiskLevel.Low);
        string code = await olga.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Low, 1, TimeSpan.FromHours(1), 1, None).WaitAsync(TestTimeouts.Default);
        Assert.False((await ivan.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
        await mark.Cells.VouchAsync(cell.CellId, ivan.AccountId, None).WaitAsync(TestTimeouts.Default);
        await olga.Cells.RemoveAsync(cell.CellId, markJoinedMembership, None).WaitAsync(TestTimeouts.Default);

        // Mark's vouch no longer counts; Olga's does, and Mark's stale one is not carried along.
        Assert.False((await ivan.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
        await olga.Cells.VouchAsync(cell.CellId, ivan.AccountId, None).WaitAsync(TestTimeouts.Default);
        Assert.True((await ivan.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
    }

    [Fact]
    public async Task Burning_an_organizer_withdraws_the_invites_they_issued_elsewhere()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember stranger = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Minsk", null, null, null, None).WaitAsync(TestTimeouts.Default);
        Guid markJoinedMembership = await olga.AdmitAsync(mark, cell.CellId, MemberRole.Member, RiskLevel.Low);
        CellView group = await mark.Cells.CreateAsync(ConversationKind.GrasGroup, "Reading club", null, null, null, None).WaitAsync(TestTimeouts.Default);
        string markInvite = await mark.Cells.InviteAsync(group.CellId, MemberRole.Member, RiskLevel.Low, 5, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);

        await olga.Cells.BurnAsync(cell.CellId, markJoinedMembership, None).WaitAsync(TestTimeouts.Default);

        RelayApiException gone = await Assert.ThrowsAsync<RelayApiException>(() => stranger.Cells.JoinAsync(markInvite, null, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task The_last_organizer_cannot_leave_and_a_member_can()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Warsaw", null, null, null, None).WaitAsync(TestTimeouts.Default);
        await olga.AdmitAsync(mark, cell.CellId, MemberRole.Member, RiskLevel.Low);

        RelayApiException alone = await Assert.ThrowsAsync<RelayApiException>(() => olga.Cells.LeaveAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.BadRequest, alone.Status);
        Assert.Contains("last organizer", alone.Detail, StringComparison.Ordinal);

        await mark.Cells.LeaveAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
        RelayApiException gone = await Assert.ThrowsAsync<RelayApiException>(() => mark.Device.Api.GetCellAsync(cell.CellId).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Single(await olga.Cells.MembersAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default));
    }
}
