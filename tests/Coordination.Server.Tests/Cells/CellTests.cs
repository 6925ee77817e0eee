using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Cells;

/// <summary>Cells through the SDK against the real relay: creation, invites, roles, group messages, removal.</summary>
public sealed class CellTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Organizer_invites_members_who_exchange_group_messages_and_see_the_cell_by_name()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember nina = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Vilnius", "letters and court support", "Olga", null, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(MemberRole.Organizer, cell.Membership.Role);

        string code = await olga.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.High, 2, TimeSpan.FromDays(1), 0, None).WaitAsync(TestTimeouts.Default);
        JoinResult markJoined = await mark.Cells.JoinAsync(code, "Mark", None).WaitAsync(TestTimeouts.Default);
        JoinResult ninaJoined = await nina.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default);
        Assert.True(markJoined.Admitted);
        Assert.Equal("Vilnius", markJoined.Cell!.Name);
        Assert.Equal(RiskLevel.High, ninaJoined.Cell!.Membership.Ceiling);

        List<VerifiedMember> members = await mark.Cells.MembersAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(3, members.Count);
        Assert.Contains(members, m => m.AccountId == olga.AccountId && m.DisplayName == "Olga" && m.Role == MemberRole.Organizer);

        await olga.Messages.SendTextAsync(cell.CellId, "Letters on Saturday", None).WaitAsync(TestTimeouts.Default);
        await mark.Messages.SendTextAsync(cell.CellId, "I'll bring stamps", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["Letters on Saturday", "I'll bring stamps"], await nina.ReadAsync(cell.CellId));
        Assert.Equal(["Letters on Saturday"], await mark.ReadAsync(cell.CellId));
        Assert.Empty(nina.Failures);
        Assert.Empty(nina.Alerts);

        // The invite had two uses.
        await using CellMember late = await CellMember.CreateAsync(relay);
        RelayApiException usedUp = await Assert.ThrowsAsync<RelayApiException>(() => late.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, usedUp.Status);

        // At rest and in the log: no cell name or description, display name, message, invite code,
        // session token or client address.
        Coordination.Server.Tests.Intake.RelayScan.AssertAbsent(
            relay,
            ["Vilnius", "letters and court support", "Letters on Saturday", "I'll bring stamps", code, olga.Device.Api.Token!, mark.Device.Api.Token!, RelayFactory.ClientAddress],
            []);
    }
}
