using System.Text;
using Coordination.Client.Api;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Coordination.Server.Tests.Auth;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.EndToEnd;

/// <summary>The SDK's end-to-end messaging against the real relay: real keys, real sockets, a real database.</summary>
public sealed class MessagingTests : IClassFixture<RelayFactory>, IDisposable
{
    private readonly RelayFactory _relay;
    private readonly string _storeRoot = Path.Combine(Path.GetTempPath(), "coordination-stores", Guid.NewGuid().ToString("N"));

    public MessagingTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Direct_BothWays_LiveAndAfterBeingOffline()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        await using MessagingClient aliceClient = Client(alice);
        await using MessagingClient bobClient = Client(bob);
        Task<StoredMessage> bobGets = NextMessage(bobClient);
        await aliceClient.ConnectAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await bobClient.ConnectAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Guid conversation = await aliceClient.ResolveConversationAsync(bob.AccountId.ToString(), CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await aliceClient.SendTextAsync(conversation, "live: court at ten", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        StoredMessage live = await bobGets.WaitAsync(TestTimeouts.Default);

        Assert.Equal("live: court at ten", live.Text);
        Assert.Equal(alice.AccountId, live.SenderAccountId);
        Assert.Equal(alice.DeviceId, live.SenderDeviceId);

        // Alice goes offline; Bob answers; Alice catches up when she comes back.
        await aliceClient.DisposeAsync();
        Guid fromBob = await bobClient.ResolveConversationAsync(alice.AccountId.ToString(), CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Assert.Equal(conversation, fromBob);
        await bobClient.SendTextAsync(conversation, "offline: understood", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await using MessagingClient aliceAgain = Client(alice);
        int caughtUp = await aliceAgain.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Equal(1, caughtUp);
        Assert.Contains(aliceAgain.Store.Messages, m => m.Text == "offline: understood" && m.SenderAccountId == bob.AccountId && !m.Outgoing);
    }

    [Fact]
    public async Task DroppedConnection_ReconnectsByItselfAndCatchesUp()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        await using MessagingClient bobClient = Client(bob);
        await bobClient.ConnectAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await using MessagingClient aliceClient = Client(alice);

        // The network drops Bob's connection; Alice sends while he is away.
        ConnectionRegistry registry = _relay.Services.GetRequiredService<ConnectionRegistry>();
        foreach (ConnectionRegistry.Connection connection in registry.OfAccounts([bob.AccountId]))
        {
            connection.Context.Abort();
        }

        await aliceClient.SendTextAsync(conversation, "sent while you were away", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Task<StoredMessage> live = NextMessage(bobClient);
        await WaitUntilAsync(() => bobClient.Store.Messages.Any(m => m.Text == "sent while you were away"));
        await aliceClient.SendTextAsync(conversation, "and live again", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await WaitUntilAsync(() => bobClient.Store.Messages.Any(m => m.Text == "and live again"));

        Assert.True(bobClient.IsLive);
        Assert.NotNull(await live.WaitAsync(TestTimeouts.Default));
    }

    [Fact]
    public async Task Direct_ReachesEveryDeviceOfBothAccounts_AndRestartResumesWithoutDuplicates()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice aliceTablet = await DeviceTests.LinkSecondDeviceAsync(alice);
        using TestDevice bob = await _relay.NewAccountAsync();
        using TestDevice bobPhone = await DeviceTests.LinkSecondDeviceAsync(bob);
        await using MessagingClient sender = Client(alice);
        Guid conversation = await sender.ResolveConversationAsync(bob.AccountId.ToString(), CancellationToken.None).WaitAsync(TestTimeouts.Default);

        for (int i = 0; i < 3; i++)
        {
            await sender.SendTextAsync(conversation, $"message {i}", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        }

        foreach (TestDevice device in new[] { aliceTablet, bob, bobPhone })
        {
            await using (MessagingClient first = Client(device))
            {
                Assert.Equal(3, await first.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default));
            }

            await using MessagingClient restarted = Client(device);
            Assert.Equal(0, await restarted.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default));
            Assert.Equal(["message 0", "message 1", "message 2"], restarted.Store.Messages.Select(m => m.Text));
        }

        // The sender's own device acknowledges its own messages: everything can now be deleted.
        Assert.Equal(0, await sender.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default));
        await _relay.Services.GetRequiredService<RelayWriter>().SweepAsync().WaitAsync(TestTimeouts.Default);
        Assert.Equal(0, _relay.Count($"SELECT COUNT(*) FROM Envelopes WHERE ConversationId = '{conversation.ToString().ToUpperInvariant()}'"));
    }

    [Fact]
    public async Task GhostDevice_InsertedByTheServer_IsNotEncryptedTo()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        await using MessagingClient sender = Client(alice);
        Guid conversation = await sender.ResolveConversationAsync(bob.AccountId.ToString(), CancellationToken.None).WaitAsync(TestTimeouts.Default);
        using X25519KeyPair ghostKeys = X25519KeyPair.Generate();
        using Ed25519KeyPair ghostSigning = Ed25519KeyPair.Generate();
        InsertGhostDevice(bob.AccountId, conversation, ghostSigning.PublicKey.ToArray(), ghostKeys.PublicKey.ToArray());
        Assert.Equal(3, (await alice.Api.ListRecipientDevicesAsync(conversation).WaitAsync(TestTimeouts.Default)).Count);

        SendResult sent = await sender.SendTextAsync(conversation, "not for the ghost", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        EnvelopeDelivery envelope = (await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes.Single(e => e.Seq == sent.Seq);

        Assert.False(PairwiseEnvelope.TryOpen(envelope.Ciphertext, conversation, envelope.MessageId, ghostKeys, out _));
        Assert.True(PairwiseEnvelope.TryOpen(envelope.Ciphertext, conversation, envelope.MessageId, bob.Identity.AgreementKey, out _));
        Assert.Equal(2, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(envelope.Ciphertext.AsSpan(34)));
    }

    [Fact]
    public async Task Garbage_AndForgedSender_AreReportedStoredAsFailuresAndAcknowledged()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        using TestDevice mallory = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await alice.Api.SendAsync(new SendEnvelope(conversation, Guid.NewGuid(), SecureRandom.Bytes(256))).WaitAsync(TestTimeouts.Default);

        // Alice's device encrypts correctly to Bob but signs as someone else would: the signature is Mallory's.
        Guid forgedId = Guid.NewGuid();
        InnerMessage forged = InnerMessage.Create(mallory.Identity, conversation, forgedId, ContentType.Text, "trust me"u8.ToArray(), 1) with
        {
            SenderAccountId = alice.AccountId,
            SenderDeviceId = alice.DeviceId,
        };
        RecipientDevice bobDevice = (await alice.Api.ListRecipientDevicesAsync(conversation).WaitAsync(TestTimeouts.Default)).Single(d => d.Device.DeviceId == bob.DeviceId);
        byte[] sealedForged = PairwiseEnvelope.Seal(conversation, forgedId, forged.Encode(), [new RecipientKey(bob.DeviceId, X25519PublicKey.FromBytes(bobDevice.Device.AgreementPublicKey))]);
        await alice.Api.SendAsync(new SendEnvelope(conversation, forgedId, sealedForged)).WaitAsync(TestTimeouts.Default);

        await using MessagingClient bobClient = Client(bob);
        List<DecryptionFailure> failures = [];
        bobClient.DecryptionFailed += failures.Add;
        await bobClient.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.Reason.Contains("envelope type", StringComparison.Ordinal) || f.Reason.Contains("not addressed", StringComparison.Ordinal) || f.Reason.Contains("sender keys", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.MessageId == forgedId && f.Reason.Contains("signature", StringComparison.Ordinal));
        Assert.Equal(2, bobClient.Store.Messages.Count(m => m.Failure is not null));
        Assert.DoesNotContain(bobClient.Store.Messages, m => m.Text == "trust me");
        Assert.Empty((await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
    }

    [Fact]
    public async Task Group_SenderKeys_EveryMemberReadsEveryoneAndTheServerSeesOneEnvelope()
    {
        using TestDevice a = await _relay.NewAccountAsync();
        using TestDevice b = await _relay.NewAccountAsync();
        using TestDevice c = await _relay.NewAccountAsync();
        Guid conversation = await CreateGroupAsync(a, b, c);
        await using MessagingClient ca = Client(a);
        await using MessagingClient cb = Client(b);
        await using MessagingClient cc = Client(c);

        await ca.SendTextAsync(conversation, "from a 1", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await ca.SendTextAsync(conversation, "from a 2", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await cb.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await cb.SendTextAsync(conversation, "from b", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await cc.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await ca.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Equal(["from a 1", "from a 2", "from b"], cc.Store.Messages.Where(m => m.Text is not null).Select(m => m.Text));
        Assert.Contains(ca.Store.Messages, m => m.Text == "from b" && m.SenderAccountId == b.AccountId);
        Assert.DoesNotContain(cc.Store.Messages, m => m.Failure is not null);

        // A client restarted from its stored state keeps reading the group.
        await ca.SendTextAsync(conversation, "after restart", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await cc.DisposeAsync();
        await using MessagingClient ccAgain = Client(c);
        await ccAgain.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Assert.Contains(ccAgain.Store.Messages, m => m.Text == "after restart");
        Assert.DoesNotContain(ccAgain.Store.Messages, m => m.Failure is not null);
    }

    [Fact]
    public async Task Canary_ThroughTheSdk_IsCiphertextAtRestOnServerAndDevice()
    {
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        await using MessagingClient aliceClient = Client(alice);
        await using MessagingClient bobClient = Client(bob);
        Guid conversation = await aliceClient.ResolveConversationAsync(bob.AccountId.ToString(), CancellationToken.None).WaitAsync(TestTimeouts.Default);

        await aliceClient.SendTextAsync(conversation, canary, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await bobClient.SyncAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Contains(bobClient.Store.Messages, m => m.Text == canary);
        byte[] needle = Encoding.UTF8.GetBytes(canary);
        Assert.True(_relay.ReadStorage().AsSpan().IndexOf(needle) < 0, "the canary is in the relay's database");
        foreach (string file in Directory.EnumerateFiles(_relay.DataDirectory).Concat(Directory.EnumerateFiles(_storeRoot, "*", SearchOption.AllDirectories)))
        {
            byte[] content = RelayFactory.ReadShared(file);
            Assert.True(content.AsSpan().IndexOf(needle) < 0, $"the canary is in {Path.GetFileName(file)}");
        }

        Assert.DoesNotContain(canary, string.Join('\n', _relay.Logs), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_storeRoot, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private MessagingClient Client(TestDevice device)
    {
        // Each device keeps its history under a key only it holds (derived here from its account key for the test).
        byte[] seed = new byte[32];
        device.Identity.SigningKey.ExportSeed(seed);
        byte[] storageKey = Blake2b.Hash(seed, 32);
        RelayApi api = new(_relay.CreateRealClient());
        return new MessagingClient(device.Identity, api, LocalMessageStore.Open(Path.Combine(_storeRoot, device.DeviceId.ToString("N")), storageKey));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using CancellationTokenSource timeout = new(TestTimeouts.Default);
        while (!condition())
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    private static Task<StoredMessage> NextMessage(MessagingClient client)
    {
        TaskCompletionSource<StoredMessage> next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        client.MessageReceived += m => next.TrySetResult(m);
        return next.Task;
    }

    private async Task<Guid> CreateGroupAsync(params TestDevice[] members)
    {
        using IServiceScope scope = _relay.Services.CreateScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        return await scope.ServiceProvider.GetRequiredService<ConversationMembership>()
            .CreateAsync(db, ConversationKind.Cell, [.. members.Select(m => m.AccountId)], null, CancellationToken.None)
            .WaitAsync(TestTimeouts.Default);
    }

    /// <summary>What a compromised server could do: add a device row the account key never signed.</summary>
    private void InsertGhostDevice(Guid accountId, Guid conversation, byte[] signingKey, byte[] agreementKey)
    {
        Guid ghost = Guid.NewGuid();
        _relay.Tamper(
            "INSERT INTO Devices (Id, AccountId, SigningPublicKey, AgreementPublicKey, AccountSignature, Revoked) VALUES ($0, $1, $2, $3, $4, $5)",
            ghost, accountId, signingKey, agreementKey, new byte[64], false);
        _relay.Tamper("INSERT INTO DeliveryCursors (DeviceId, ConversationId, AckedSeq) VALUES ($0, $1, 0)", ghost, conversation);
    }
}
