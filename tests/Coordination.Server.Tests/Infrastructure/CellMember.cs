using Coordination.Client.Cells;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Server.Tests.Infrastructure;

/// <summary>
/// A person with one device in the cell tests: a registered account, its encrypted local store,
/// and the SDK's cell and messaging clients over them (the messaging client trusts only members
/// the verified membership log lists). Alerts and decryption failures are collected for assertions.
/// </summary>
public sealed class CellMember : IAsyncDisposable
{
    private readonly string _directory;

    private CellMember(TestDevice device, string directory)
    {
        Device = device;
        _directory = directory;
        Store = LocalMessageStore.Open(directory, SecureRandom.Bytes(32));
        Cells = new CellClient(device.Identity, device.Api, Store);
        Cells.MembershipAlert += Alerts.Add;
        Messages = new MessagingClient(device.Identity, device.Api, Store) { Trust = Cells };
        Messages.DecryptionFailed += Failures.Add;
    }

    public TestDevice Device { get; }

    public Guid AccountId => Device.AccountId;

    public LocalMessageStore Store { get; }

    public CellClient Cells { get; }

    public MessagingClient Messages { get; }

    public List<MembershipAlert> Alerts { get; } = [];

    public List<DecryptionFailure> Failures { get; } = [];

    public static async Task<CellMember> CreateAsync(RelayFactory relay)
    {
        TestDevice device = await relay.NewAccountAsync();
        return new CellMember(device, Path.Combine(relay.DataDirectory, "devices", device.AccountId.ToString("N")));
    }

    /// <summary>
    /// Invites <paramref name="member"/> to <paramref name="cellId"/> (one use, an hour, no vouches)
    /// and has them join; returns their membership id.
    /// </summary>
    public async Task<Guid> AdmitAsync(CellMember member, Guid cellId, MemberRole role = MemberRole.Member, RiskLevel ceiling = RiskLevel.Low)
    {
        ArgumentNullException.ThrowIfNull(member);
        string code = await Cells.InviteAsync(cellId, role, ceiling, 1, TimeSpan.FromHours(1), 0, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        JoinResult joined = await member.Cells.JoinAsync(code, null, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Assert.True(joined.Admitted);
        return joined.Cell!.Membership.MembershipId;
    }

    /// <summary>Texts this device has stored for <paramref name="conversationId"/>, after a sync.</summary>
    public async Task<List<string>> ReadAsync(Guid conversationId)
    {
        await Messages.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
        return [.. Store.Messages.Where(m => m.ConversationId == conversationId && m.Text is not null && !m.Outgoing).Select(m => m.Text!)];
    }

    public async ValueTask DisposeAsync()
    {
        await Messages.DisposeAsync();
        Store.Dispose();
        Device.Dispose();
        _ = _directory;
    }
}
