using System.Threading.Channels;
using Coordination.Client.Hub;
using Coordination.Protocol;
using Coordination.Server.Tests.Auth;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Relay;

/// <summary>The relay hub driven by the SDK's WebSocket hub client against the real Kestrel port.</summary>
public sealed class HubRelayTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public HubRelayTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Send_OverTheHub_IsPushedLiveToTheOtherDevice()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await using HubConnection aliceHub = await ConnectAsync(alice);
        await using HubConnection bobHub = await ConnectAsync(bob);
        Channel<EnvelopeDelivery> bobReceived = Listen(bobHub);
        Channel<EnvelopeDelivery> aliceReceived = Listen(aliceHub);
        SendEnvelope envelope = TestDevice.Envelope(conversation, "live");

        SendResult result = await aliceHub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [envelope], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        EnvelopeDelivery pushed = await bobReceived.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);

        Assert.Equal(result.Seq, pushed.Seq);
        Assert.Equal(envelope.MessageId, pushed.MessageId);
        Assert.Equal(envelope.Ciphertext, pushed.Ciphertext);
        Assert.Equal(conversation, pushed.ConversationId);

        // The sending connection is not echoed; a second message proves the channel would have had it by now.
        await aliceHub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [TestDevice.Envelope(conversation, "second")], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await bobReceived.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);
        Assert.False(aliceReceived.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Send_ManyConcurrently_AllDeliveredLiveInSeqOrder()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await using HubConnection aliceHub = await ConnectAsync(alice);
        await using HubConnection bobHub = await ConnectAsync(bob);
        Channel<EnvelopeDelivery> bobReceived = Listen(bobHub);

        SendResult[] results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            aliceHub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [TestDevice.Envelope(conversation, $"m{i}")], CancellationToken.None))).WaitAsync(TestTimeouts.Default);
        List<long> pushed = [];
        while (pushed.Count < results.Length)
        {
            pushed.Add((await bobReceived.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default)).Seq);
        }

        Assert.Equal(200, results.Select(r => r.Seq).Distinct().Count());
        Assert.Equal(results.Select(r => r.Seq).Order(), pushed);
    }

    [Fact]
    public async Task Fetch_AndAck_OverTheHub_DrainTheInbox()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        for (int i = 0; i < 3; i++)
        {
            await alice.Api.SendAsync(TestDevice.Envelope(conversation, $"offline {i}")).WaitAsync(TestTimeouts.Default);
        }

        await using HubConnection bobHub = await ConnectAsync(bob);
        InboxPage page = await bobHub.InvokeAsync<InboxPage>(nameof(IRelayHub.Fetch), [10], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await bobHub.InvokeAsync(nameof(IRelayHub.Ack), [new AckRequest([new Ack(conversation, page.Envelopes[^1].Seq)])], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        InboxPage after = await bobHub.InvokeAsync<InboxPage>(nameof(IRelayHub.Fetch), [10], CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Equal(3, page.Envelopes.Count);
        Assert.False(page.More);
        Assert.Empty(after.Envelopes);
    }

    [Fact]
    public async Task Send_BadInput_IsAHubErrorAndTheConnectionStaysUsable()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await using HubConnection hub = await ConnectAsync(alice);

        HubInvocationException size = await Assert.ThrowsAsync<HubInvocationException>(() =>
            hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [new SendEnvelope(conversation, Guid.NewGuid(), new byte[300])], CancellationToken.None).WaitAsync(TestTimeouts.Default));
        HubInvocationException stranger = await Assert.ThrowsAsync<HubInvocationException>(() =>
            hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [TestDevice.Envelope(Guid.NewGuid(), "x")], CancellationToken.None).WaitAsync(TestTimeouts.Default));
        HubInvocationException shape = await Assert.ThrowsAsync<HubInvocationException>(() =>
            hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), ["not an envelope"], CancellationToken.None).WaitAsync(TestTimeouts.Default));
        HubInvocationException ack = await Assert.ThrowsAsync<HubInvocationException>(() =>
            hub.InvokeAsync(nameof(IRelayHub.Ack), [new AckRequest([])], CancellationToken.None).WaitAsync(TestTimeouts.Default));
        SendResult ok = await hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [TestDevice.Envelope(conversation, "still fine")], CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Contains("padded", size.Message, StringComparison.Ordinal);
        Assert.Contains("No such conversation", stranger.Message, StringComparison.Ordinal);
        Assert.NotEmpty(shape.Message);
        Assert.Contains("acks", ack.Message, StringComparison.Ordinal);
        Assert.True(ok.Seq > 0);
        Assert.Equal(1, _relay.Count($"SELECT COUNT(*) FROM Envelopes WHERE ConversationId = '{conversation.ToString().ToUpperInvariant()}'"));
    }

    [Fact]
    public async Task Message_OverTheHubLimit_ClosesThatConnectionOnlyAndStoresNothing()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await using HubConnection attacker = await ConnectAsync(alice);
        await using HubConnection bystander = await ConnectAsync(bob);

        await attacker.SendAsync(nameof(IRelayHub.Send), [new SendEnvelope(conversation, Guid.NewGuid(), new byte[Limits.MaxWireMessageBytes])], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await attacker.ConnectionClosed.WaitAsync(TestTimeouts.Default);

        Assert.Equal(HubConnectionState.Closed, attacker.State);
        Assert.Equal(HubConnectionState.Connected, bystander.State);
        Assert.Equal(0, _relay.Count($"SELECT COUNT(*) FROM Envelopes WHERE ConversationId = '{conversation.ToString().ToUpperInvariant()}'"));
        await bystander.InvokeAsync<InboxPage>(nameof(IRelayHub.Fetch), [1], CancellationToken.None).WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Revoke_ClosesTheRevokedDevicesOpenConnectionAtOnce()
    {
        using TestDevice bob = await _relay.NewAccountAsync();
        using TestDevice bobPhone = await DeviceTests.LinkSecondDeviceAsync(bob);
        await using HubConnection phoneHub = await ConnectAsync(bobPhone);
        await using HubConnection laptopHub = await ConnectAsync(bob);

        await bob.Api.RevokeDeviceAsync(bobPhone.DeviceId).WaitAsync(TestTimeouts.Default);
        await phoneHub.ConnectionClosed.WaitAsync(TestTimeouts.Default);

        Assert.Equal(HubConnectionState.Closed, phoneHub.State);
        Assert.Equal(HubConnectionState.Connected, laptopHub.State);
        Assert.IsNotType<TimeoutException>(await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(bobPhone)));
        InboxPage stillWorks = await laptopHub.InvokeAsync<InboxPage>(nameof(IRelayHub.Fetch), [1], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Assert.NotNull(stillWorks);
    }

    [Fact]
    public async Task Connect_WithoutOrWithBadToken_IsRefused()
    {
        Uri hub = new(_relay.ServerAddress, RelayHubContract.Path);

        Assert.IsNotType<TimeoutException>(await Assert.ThrowsAnyAsync<Exception>(() => HubConnection.ConnectAsync(hub, null, null, CancellationToken.None).WaitAsync(TestTimeouts.Default)));
        Assert.IsNotType<TimeoutException>(await Assert.ThrowsAnyAsync<Exception>(() => HubConnection.ConnectAsync(hub, "bm90LWEtdG9rZW4", null, CancellationToken.None).WaitAsync(TestTimeouts.Default)));
    }

    [Fact]
    public async Task TokenInQueryString_Works_AndNeverReachesTheLogs()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;

        await using HubConnection hub = await HubConnection.ConnectAsync(
            new Uri(_relay.ServerAddress, RelayHubContract.Path), alice.Api.Token, new HubConnectionOptions { TokenInQueryString = true }, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        SendResult sent = await hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [TestDevice.Envelope(conversation, "via query token")], CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.True(sent.Seq > 0);
        Assert.DoesNotContain(alice.Api.Token!, string.Join('\n', _relay.Logs), StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(alice.Api.Token!), string.Join('\n', _relay.Logs), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewConversation_ReachesAnAlreadyConnectedDevice()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        await using HubConnection bobHub = await ConnectAsync(bob);
        Channel<EnvelopeDelivery> bobReceived = Listen(bobHub);
        TaskCompletionSource<ConversationInfo> added = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = bobHub.On<ConversationInfo>(nameof(IRelayClient.ConversationAdded), info =>
        {
            added.TrySetResult(info);
            return Task.CompletedTask;
        });

        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        ConversationInfo info = await added.Task.WaitAsync(TestTimeouts.Default);
        SendResult sent = await alice.Api.SendAsync(TestDevice.Envelope(conversation, "hello")).WaitAsync(TestTimeouts.Default);
        EnvelopeDelivery pushed = await bobReceived.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);

        Assert.Equal(conversation, info.ConversationId);
        Assert.Equal(sent.Seq, pushed.Seq);
    }

    private Task<HubConnection> ConnectAsync(TestDevice device) =>
        HubConnection.ConnectAsync(new Uri(_relay.ServerAddress, RelayHubContract.Path), device.Api.Token, null, CancellationToken.None).WaitAsync(TestTimeouts.Default);

    private static Channel<EnvelopeDelivery> Listen(HubConnection hub)
    {
        Channel<EnvelopeDelivery> received = Channel.CreateUnbounded<EnvelopeDelivery>();
        hub.On<EnvelopeDelivery>(nameof(IRelayClient.ReceiveEnvelope), envelope => received.Writer.WriteAsync(envelope).AsTask());
        return received;
    }
}
