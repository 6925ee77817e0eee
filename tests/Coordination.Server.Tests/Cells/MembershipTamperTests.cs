using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Relay;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Cells;

/// <summary>
/// Someone who controls the relay's database (a seized server) changes memberships directly,
/// without any organizer's signature. The clients must notice, refuse to encrypt to the result,
/// and say so; and a removed member must not read what is sent after the removal even if the
/// relay keeps delivering to them.
/// </summary>
public sealed class MembershipTamperTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_ghost_member_inserted_into_the_database_is_refused_and_reported()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember ghost = await CellMember.CreateAsync(relay);
        Guid cell = await CellWithAsync(olga, mark);

        // The ghost is made a member, a participant and a recipient, with no log entry.
        relay.Tamper("INSERT INTO Memberships (Id, CellId, AccountId, Role, Ceiling) VALUES ($0, $1, $2, 2, 3)", Guid.NewGuid(), cell, ghost.AccountId);
        relay.Tamper("INSERT INTO ConversationParticipants (ConversationId, AccountId) VALUES ($0, $1)", cell, ghost.AccountId);
        relay.Tamper("INSERT INTO DeliveryCursors (DeviceId, ConversationId, AckedSeq) VALUES ($0, $1, 0)", ghost.Device.DeviceId, cell);
        // And the relay claims the cell is a direct conversation, which has no log to check.
        relay.Tamper("UPDATE Conversations SET Kind = 1 WHERE Id = $0", cell);
        relay.Services.GetRequiredService<ConversationDirectory>().Invalidate(cell);

        // The relay now lists three members; the verified roster has two, and the ghost is reported.
        Assert.Equal(3, (await mark.Device.Api.ListMembersAsync(cell).WaitAsync(TestTimeouts.Default)).Count);
        List<VerifiedMember> members = await mark.Cells.MembersAsync(cell, None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(new[] { olga.AccountId, mark.AccountId }.Order(), members.Select(m => m.AccountId).Order());
        Assert.Contains(mark.Alerts, a => a.Kind == MembershipAlertKind.GhostMember && a.AccountId == ghost.AccountId);

        // A group message: nothing is encrypted to the ghost, the sender reports it, and the ghost,
        // who does receive the envelopes, cannot read them.
        await olga.Messages.SendTextAsync(cell, "The list of addresses is ready", None).WaitAsync(TestTimeouts.Default);
        Assert.Contains(olga.Alerts, a => a.Kind == MembershipAlertKind.GhostMember && a.AccountId == ghost.AccountId);
        Assert.Equal(["The list of addresses is ready"], await mark.ReadAsync(cell));
        Assert.Empty(await ghost.ReadAsync(cell));
        Assert.NotEmpty(ghost.Failures);
    }

    [Fact]
    public async Task A_removal_dropped_from_the_end_of_the_log_is_detected_by_those_who_saw_it()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember nina = await CellMember.CreateAsync(relay);
        Guid cell = await CellWithAsync(olga, mark, nina);
        Guid ninaMembership = (await nina.Cells.GetAsync(cell, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
        List<SignedMembershipEntry> before = await olga.Device.Api.GetMembershipLogAsync(cell).WaitAsync(TestTimeouts.Default);

        await olga.Cells.RemoveAsync(cell, ninaMembership, None).WaitAsync(TestTimeouts.Default);
        await mark.Cells.MembersAsync(cell, None).WaitAsync(TestTimeouts.Default);

        // The removal is deleted and Nina put back, as if it never happened.
        relay.Tamper("DELETE FROM MembershipLog WHERE CellId = $0 AND \"Index\" = $1", cell, (long)before.Count);
        relay.Tamper("UPDATE Cells SET LogLength = $1, LogHead = $2 WHERE Id = $0", cell, (long)before.Count, before[^1].Hash());
        relay.Tamper("INSERT INTO Memberships (Id, CellId, AccountId, Role, Ceiling) VALUES ($0, $1, $2, 2, 0)", ninaMembership, cell, nina.AccountId);
        relay.Tamper("INSERT INTO ConversationParticipants (ConversationId, AccountId) VALUES ($0, $1)", cell, nina.AccountId);
        relay.Services.GetRequiredService<ConversationDirectory>().Invalidate(cell);

        // The shortened log verifies on its own, but not against what Mark and Olga saw.
        MembershipTamperingException rolledBack = await Assert.ThrowsAsync<MembershipTamperingException>(() => mark.Cells.MembersAsync(cell, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(MembershipAlertKind.RolledBackLog, rolledBack.Alert!.Kind);

        // Olga's client will not encrypt to a roster it cannot trust: the message is not sent.
        await Assert.ThrowsAsync<MembershipTamperingException>(() => olga.Messages.SendTextAsync(cell, "for the remaining members", None).WaitAsync(TestTimeouts.Default));
        Assert.Contains(olga.Alerts, a => a.Kind == MembershipAlertKind.RolledBackLog);
        Assert.Empty(await nina.ReadAsync(cell));
    }

    [Fact]
    public async Task A_removal_dropped_from_the_middle_of_the_log_breaks_the_chain_for_everyone()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember nina = await CellMember.CreateAsync(relay);
        Guid cell = await CellWithAsync(olga, mark, nina);
        CellView ninaView = await nina.Cells.GetAsync(cell, None).WaitAsync(TestTimeouts.Default);
        Guid markMembership = (await mark.Cells.GetAsync(cell, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
        await olga.Cells.RemoveAsync(cell, ninaView.Membership.MembershipId, None).WaitAsync(TestTimeouts.Default);
        AppendEntryResponse after = await olga.Cells.SetCeilingAsync(cell, markMembership, RiskLevel.Elevated, None).WaitAsync(TestTimeouts.Default);
        long removal = after.LogLength - 2;

        relay.Tamper("DELETE FROM MembershipLog WHERE CellId = $0 AND \"Index\" = $1", cell, removal);
        relay.Tamper("INSERT INTO Memberships (Id, CellId, AccountId, Role, Ceiling) VALUES ($0, $1, $2, 2, 0)", ninaView.Membership.MembershipId, cell, nina.AccountId);

        // Even a device that never saw the log (a fresh store) finds the gap.
        await using LocalMessageStoreScope fresh = new(relay);
        CellClient newDevice = new(mark.Device.Identity, mark.Device.Api, fresh.Store);
        MembershipTamperingException broken = await Assert.ThrowsAsync<MembershipTamperingException>(() => newDevice.VerifiedLogAsync(cell, None).WaitAsync(TestTimeouts.Default));
        Assert.Equal(MembershipAlertKind.BrokenLog, broken.Alert!.Kind);
        Assert.Contains($"entry {removal}", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_removal_the_removed_device_cannot_read_new_messages_even_if_the_relay_delivers_them()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember nina = await CellMember.CreateAsync(relay);
        Guid cell = await CellWithAsync(olga, mark, nina);
        await olga.Messages.SendTextAsync(cell, "before: we meet at six", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["before: we meet at six"], await nina.ReadAsync(cell));

        Guid ninaMembership = (await nina.Cells.GetAsync(cell, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
        await olga.Cells.RemoveAsync(cell, ninaMembership, None).WaitAsync(TestTimeouts.Default);

        // Nina is out: the relay refuses her, and her old chain keys are for the old epoch.
        RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => nina.Device.Api.ListRecipientDevicesAsync(cell).WaitAsync(TestTimeouts.Default));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.Status);

        // A relay that keeps delivering to her anyway (her cursor put back) gains nothing.
        relay.Tamper("INSERT INTO ConversationParticipants (ConversationId, AccountId) VALUES ($0, $1)", cell, nina.AccountId);
        relay.Tamper("INSERT INTO DeliveryCursors (DeviceId, ConversationId, AckedSeq) VALUES ($0, $1, 0)", nina.Device.DeviceId, cell);
        relay.Services.GetRequiredService<ConversationDirectory>().Invalidate(cell);
        await olga.Messages.SendTextAsync(cell, "after: the new address is 12 Gedimino", None).WaitAsync(TestTimeouts.Default);

        Assert.Equal(["after: the new address is 12 Gedimino"], (await mark.ReadAsync(cell)).Skip(1));
        List<string> ninaReads = await nina.ReadAsync(cell);
        Assert.DoesNotContain("after: the new address is 12 Gedimino", ninaReads);
        Assert.Contains(nina.Failures, f => f.ConversationId == cell && f.Reason.Contains("no sender keys for epoch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_group_message_for_an_old_epoch_is_refused_and_the_sdk_rekeys()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        await using CellMember mark = await CellMember.CreateAsync(relay);
        await using CellMember nina = await CellMember.CreateAsync(relay);
        Guid cell = await CellWithAsync(olga, mark, nina);
        await mark.Messages.SendTextAsync(cell, "epoch one", None).WaitAsync(TestTimeouts.Default);
        int oldEpoch = (await mark.Cells.GetAsync(cell, None).WaitAsync(TestTimeouts.Default)).Epoch;

        Guid ninaMembership = (await nina.Cells.GetAsync(cell, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
        AppendEntryResponse removed = await olga.Cells.RemoveAsync(cell, ninaMembership, None).WaitAsync(TestTimeouts.Default);
        Assert.True(removed.Epoch > oldEpoch);

        // A raw group envelope still sealed for the old epoch: refused with 409.
        byte[] stale = SecureRandom.Bytes(1024);
        stale[0] = 0x01;
        stale[1] = 0x02;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(stale.AsSpan(2), (uint)oldEpoch);
        RelayApiException conflict = await Assert.ThrowsAsync<RelayApiException>(() => mark.Device.Api.SendAsync(new SendEnvelope(cell, Guid.NewGuid(), stale)).WaitAsync(TestTimeouts.Default));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.Status);
        Assert.Contains($"epoch {removed.Epoch}", conflict.Detail, StringComparison.Ordinal);

        // Mark's client still thinks the old epoch is current; it is told, re-keys and sends.
        await mark.Messages.SendTextAsync(cell, "epoch two", None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(["epoch one", "epoch two"], await olga.ReadAsync(cell));
    }

    /// <summary>A cell founded by <paramref name="organizer"/> with the others admitted as members.</summary>
    private static async Task<Guid> CellWithAsync(CellMember organizer, params CellMember[] members)
    {
        CellView cell = await organizer.Cells.CreateAsync(ConversationKind.Cell, "Tbilisi", null, null, null, None).WaitAsync(TestTimeouts.Default);
        string code = await organizer.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Elevated, members.Length, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
        foreach (CellMember member in members)
        {
            Assert.True((await member.Cells.JoinAsync(code, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
        }

        await organizer.Cells.MembersAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
        return cell.CellId;
    }

    /// <summary>A throwaway encrypted store, as a newly linked device would start with.</summary>
    private sealed class LocalMessageStoreScope(RelayFactory relay) : IAsyncDisposable
    {
        public LocalMessageStore Store { get; } = LocalMessageStore.Open(Path.Combine(relay.DataDirectory, "fresh", Guid.NewGuid().ToString("N")), SecureRandom.Bytes(32));

        public ValueTask DisposeAsync()
        {
            Store.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
