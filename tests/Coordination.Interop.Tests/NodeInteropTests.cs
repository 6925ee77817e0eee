using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Interop.Tests.Infrastructure;
using Coordination.Protocol;
using Xunit.Abstractions;

namespace Coordination.Interop.Tests;

/// <summary>
/// A client nobody here wrote — Node.js with the official @microsoft/signalr client and
/// libsodium-wrappers, implemented from docs/protocol.md alone (tests/interop/node/interop.mjs) —
/// against the real relay on a real port and the C# SDK, in both directions: Node registers, logs
/// in, opens the direct conversation and sends a pairwise-encrypted text that the SDK opens and
/// verifies; then the SDK sends one that Node fetches over the hub, opens, verifies and acknowledges.
/// </summary>
public sealed class NodeInteropTests : IClassFixture<RelayFactory>, IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly RelayFactory _relay;
    private readonly ITestOutputHelper _output;
    private readonly List<IDisposable> _disposables = [];

    public NodeInteropTests(RelayFactory relay, ITestOutputHelper output)
    {
        _relay = relay;
        _output = output;
    }

    [Fact]
    public async Task NodeClient_AndCSharpSdk_ExchangePairwiseMessages_BothWays()
    {
        (DeviceIdentity me, RelayApi api) = await NewAccountAsync();

        await ExchangeAsync(me, api, others: []);
    }

    [Fact]
    public async Task NodeClient_AndCSharpSdk_WithTwoCSharpDevices_EveryDeviceGetsItsOwnSlot()
    {
        (DeviceIdentity laptop, RelayApi laptopApi) = await NewAccountAsync();
        (DeviceIdentity phone, RelayApi phoneApi) = await LinkSecondDeviceAsync(laptop, laptopApi);

        await ExchangeAsync(laptop, laptopApi, others: [(phone, phoneApi)]);
    }

    [Fact]
    public void NodeAndItsPackages_AreInstalled()
    {
        // Fails (does not skip) with the command to run when Node.js or node_modules are missing.
        string node = NodeClient.RequireNode();

        Assert.True(File.Exists(node));
        Assert.True(File.Exists(Path.Combine(NodeClient.ScriptDirectory, "package-lock.json")), "tests/interop/node/package-lock.json pins the npm versions and must be committed.");
    }

    public void Dispose()
    {
        foreach (IDisposable disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }
    }

    /// <summary>
    /// Node sends to <paramref name="me"/>'s account, every C# device opens and verifies it; then
    /// <paramref name="me"/> sends back and Node opens, verifies and acknowledges it.
    /// </summary>
    private async Task ExchangeAsync(DeviceIdentity me, RelayApi api, IReadOnlyList<(DeviceIdentity Identity, RelayApi Api)> others)
    {
        string fromNode = $"Grüße aus Node.js ✓ 🚀 {Guid.NewGuid():N}";
        string fromCSharp = $"Привет from C# — 日本語 🌍 {Guid.NewGuid():N}";
        int csharpDevices = 1 + others.Count;

        await using NodeClient node = NodeClient.Start(
        [
            "--server", _relay.ServerAddress.GetLeftPart(UriPartial.Authority),
            "--peer", me.AccountId.ToString(),
            "--peer-account-key", Convert.ToBase64String(me.AccountKey.PublicKey.ToArray()),
            "--text", fromNode,
            "--timeout-ms", "120000",
        ]);
        try
        {
            JsonElement registered = await node.WaitForStepAsync("registered");
            Guid nodeAccount = registered.GetProperty("accountId").GetGuid();
            Guid nodeDevice = registered.GetProperty("deviceId").GetGuid();
            await node.WaitForStepAsync("loggedIn");
            Guid conversation = (await node.WaitForStepAsync("conversation")).GetProperty("conversationId").GetGuid();
            JsonElement listed = await node.WaitForStepAsync("devices");
            JsonElement sent = await node.WaitForStepAsync("sent");
            await node.WaitForStepAsync("waiting");
            Guid nodeMessage = sent.GetProperty("messageId").GetGuid();

            // Node saw every device of both accounts and verified every account signature.
            Assert.Equal(csharpDevices + 1, listed.GetProperty("devices").GetArrayLength());
            Assert.All(listed.GetProperty("devices").EnumerateArray(), d => Assert.True(d.GetProperty("verified").GetBoolean()));
            Assert.Equal(csharpDevices + 1, sent.GetProperty("recipients").GetArrayLength());
            Assert.Equal(conversation, sent.GetProperty("conversationId").GetGuid());

            // (a) Node -> C#: the SDK finds the same conversation and checks Node's device keys.
            ConversationInfo direct = await api.OpenDirectConversationAsync(nodeAccount).WaitAsync(s_timeout);
            Assert.Equal(conversation, direct.ConversationId);
            Assert.Equal(ConversationKind.Direct, direct.Kind);
            List<RecipientDevice> devices = await api.ListRecipientDevicesAsync(conversation).WaitAsync(s_timeout);
            RecipientDevice nodeEntry = Assert.Single(devices, d => d.Device.DeviceId == nodeDevice);
            Assert.Equal(nodeAccount, nodeEntry.AccountId);
            Assert.Equal(Convert.FromBase64String(registered.GetProperty("accountPublicKey").GetString()!), nodeEntry.AccountPublicKey);
            Assert.True(AccountSignatureVerifies(nodeEntry), "The account signature Node made over its device statement does not verify.");

            foreach ((DeviceIdentity identity, RelayApi deviceApi) in others.Prepend((me, api)))
            {
                InboxPage inbox = await deviceApi.FetchAsync().WaitAsync(s_timeout);
                EnvelopeDelivery delivery = Assert.Single(inbox.Envelopes, e => e.MessageId == nodeMessage);
                Assert.Equal(conversation, delivery.ConversationId);
                Assert.Equal(sent.GetProperty("seq").GetInt64(), delivery.Seq);
                Assert.Equal(sent.GetProperty("bucket").GetInt32(), delivery.Ciphertext.Length);
                Assert.True(Limits.IsEnvelopeBucket(delivery.Ciphertext.Length));

                Assert.True(
                    PairwiseEnvelope.TryOpen(delivery.Ciphertext, conversation, nodeMessage, identity.AgreementKey, out byte[]? innerBytes),
                    $"Device {identity.DeviceId} could not open Node's pairwise envelope.");
                Assert.True(InnerMessage.TryDecode(innerBytes, out InnerMessage? inner), "Node's inner message does not decode.");
                Assert.Equal(nodeAccount, inner!.SenderAccountId);
                Assert.Equal(nodeDevice, inner.SenderDeviceId);
                Assert.Equal(ContentType.Text, inner.ContentType);
                Ed25519PublicKey nodeSigningKey = Ed25519PublicKey.FromBytes(nodeEntry.Device.SigningPublicKey);
                Assert.True(inner.Verify(nodeSigningKey, conversation, nodeMessage), "Node's message signature does not verify.");
                Assert.False(inner.Verify(nodeSigningKey, Guid.NewGuid(), nodeMessage), "The signature must be bound to the conversation.");
                Assert.False(inner.Verify(nodeSigningKey, conversation, Guid.NewGuid()), "The signature must be bound to the message id.");
                Assert.InRange(inner.SentAt, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
                Assert.Equal(fromNode, inner.Text);

                // The same envelope is not for anyone else: wrong conversation or message id, or another key, fails.
                Assert.False(PairwiseEnvelope.TryOpen(delivery.Ciphertext, Guid.NewGuid(), nodeMessage, identity.AgreementKey, out _));
                Assert.False(PairwiseEnvelope.TryOpen(delivery.Ciphertext, conversation, Guid.NewGuid(), identity.AgreementKey, out _));
                using X25519KeyPair stranger = X25519KeyPair.Generate();
                Assert.False(PairwiseEnvelope.TryOpen(delivery.Ciphertext, conversation, nodeMessage, stranger, out _));

                await deviceApi.AckAsync([new Ack(conversation, delivery.Seq)]).WaitAsync(s_timeout);
            }

            // (b) C# -> Node: sealed to every verified device of the conversation, this one included.
            Guid myMessage = Guid.NewGuid();
            byte[] myInner = InnerMessage.Create(me, conversation, myMessage, ContentType.Text, Encoding.UTF8.GetBytes(fromCSharp), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Encode();
            List<RecipientKey> recipients = [.. devices
                .Where(d => !d.Device.Revoked && AccountSignatureVerifies(d))
                .Select(d => new RecipientKey(d.Device.DeviceId, X25519PublicKey.FromBytes(d.Device.AgreementPublicKey)))];
            Assert.Equal(csharpDevices + 1, recipients.Count);
            byte[] envelope = PairwiseEnvelope.Seal(conversation, myMessage, myInner, recipients);
            SendResult result = await api.SendAsync(new SendEnvelope(conversation, myMessage, envelope)).WaitAsync(s_timeout);

            await node.SendCommandAsync(new { command = "receive", messageId = myMessage });
            JsonElement received = await node.WaitForStepAsync("received");
            JsonElement acked = await node.WaitForStepAsync("acked");
            await node.WaitForStepAsync("done");
            int exitCode = await node.WaitForExitAsync();

            Assert.Equal(fromCSharp, received.GetProperty("text").GetString());
            Assert.True(received.GetProperty("verified").GetBoolean());
            Assert.Equal(myMessage, received.GetProperty("messageId").GetGuid());
            Assert.Equal(conversation, received.GetProperty("conversationId").GetGuid());
            Assert.Equal(result.Seq, received.GetProperty("seq").GetInt64());
            Assert.Equal(me.AccountId, received.GetProperty("senderAccountId").GetGuid());
            Assert.Equal(me.DeviceId, received.GetProperty("senderDeviceId").GetGuid());
            Assert.Equal((int)ContentType.Text, received.GetProperty("contentType").GetInt32());
            Assert.Equal(csharpDevices + 1, received.GetProperty("slots").GetInt32());
            Assert.True(received.GetProperty("hintMatched").GetBoolean(), "Node's hint for its own slot should match the C# slot hint.");
            Assert.Equal(envelope.Length, received.GetProperty("bucket").GetInt32());

            // Node opened its own echo too (it is one of its own message's recipients), acknowledged
            // everything and left nothing in its inbox.
            Assert.True(acked.GetProperty("ownEcho").GetProperty("opened").GetBoolean());
            Assert.Equal(0, acked.GetProperty("remaining").GetInt32());
            Assert.Equal(0, exitCode);

            // The C# device can open the envelope it sent to itself (the sending device is a recipient).
            InboxPage own = await api.FetchAsync().WaitAsync(s_timeout);
            EnvelopeDelivery echo = Assert.Single(own.Envelopes, e => e.MessageId == myMessage);
            Assert.True(PairwiseEnvelope.TryOpen(echo.Ciphertext, conversation, myMessage, me.AgreementKey, out _));
        }
        finally
        {
            _output.WriteLine(node.Transcript());
        }
    }

    private static bool AccountSignatureVerifies(RecipientDevice device)
    {
        byte[] statement = SignedStatements.Device(device.AccountPublicKey, device.Device.SigningPublicKey, device.Device.AgreementPublicKey);
        return Ed25519PublicKey.FromBytes(device.AccountPublicKey).Verify(statement, device.Device.AccountSignature);
    }

    private async Task<(DeviceIdentity Identity, RelayApi Api)> NewAccountAsync()
    {
        RelayApi api = Track(new RelayApi(_relay.CreateRealClient()));
        DeviceIdentity identity = Track(DeviceIdentity.CreateAccount());
        await api.RegisterAccountAsync(identity).WaitAsync(s_timeout);
        await api.LoginAsync(identity).WaitAsync(s_timeout);
        return (identity, api);
    }

    private async Task<(DeviceIdentity Identity, RelayApi Api)> LinkSecondDeviceAsync(DeviceIdentity first, RelayApi firstApi)
    {
        using DeviceLinkCode code = DeviceLinkCode.Create();
        byte[] seed = new byte[32];
        first.AccountKey.ExportSeed(seed);
        await firstApi.CreateLinkCodeAsync(code, seed).WaitAsync(s_timeout);
        RelayApi api = Track(new RelayApi(_relay.CreateRealClient()));
        LinkCodeOffer offer = await api.GetLinkCodeAsync(code).WaitAsync(s_timeout);
        Assert.True(code.TryOpen(offer.Payload, out byte[]? accountSeed));
        DeviceIdentity identity = Track(DeviceIdentity.ForExistingAccount(accountSeed));
        await api.LinkDeviceAsync(code, identity).WaitAsync(s_timeout);
        await api.LoginAsync(identity).WaitAsync(s_timeout);
        return (identity, api);
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }
}
