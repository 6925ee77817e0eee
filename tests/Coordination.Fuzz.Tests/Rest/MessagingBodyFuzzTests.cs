using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;

namespace Coordination.Fuzz.Tests.Rest;

/// <summary>Direct conversations, sends and acknowledgements, with envelopes already stored for both devices.</summary>
public sealed class MessagingWorld : RelayWorld
{
    public static readonly string[] Names = ["direct-conversation", "send", "acks"];

    protected override async Task BuildAsync()
    {
        Person alice = await PersonAsync();
        Person bob = await PersonAsync();
        Person carol = await PersonAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await bob.Api.SendAsync(new SendEnvelope(conversation, Guid.NewGuid(), SecureRandom.Bytes(256))).WaitAsync(TestTimeouts.Default);
        await alice.Api.SendAsync(new SendEnvelope(conversation, Guid.NewGuid(), SecureRandom.Bytes(1024))).WaitAsync(TestTimeouts.Default);

        Add(new BodyEndpoint("direct-conversation", HttpMethod.Post, "/api/v1/conversations/direct", alice.Token,
            () => Task.FromResult(Body(new OpenDirectConversationRequest(carol.AccountId))), ["Conversations", "ConversationParticipants", "DeliveryCursors"])
        { KnownIds = [alice.AccountId, bob.AccountId, carol.AccountId, conversation] });

        Add(new BodyEndpoint("send", HttpMethod.Post, $"/api/v1/conversations/{conversation}/envelopes", alice.Token,
            () => Task.FromResult(Body(new SendEnvelope(conversation, Guid.NewGuid(), SecureRandom.Bytes(256)))), ["Envelopes", "SendReceipts"])
        { KnownIds = [conversation, bob.AccountId] });

        // The valid acknowledgement names a conversation the device is not in: changing it must not
        // make the relay delete anything the device has not read.
        Add(new BodyEndpoint("acks", HttpMethod.Post, "/api/v1/inbox/acks", alice.Token,
            () => Task.FromResult(Body(new AckRequest([new Ack(Guid.NewGuid(), 1)]))), ["Envelopes", "DeliveryCursors"]));
    }
}

/// <summary>
/// Sends and acknowledgements with generated bodies: never a 5xx, every 4xx a problem, no envelope
/// stored or deleted by a refused request, no error logged.
/// </summary>
public sealed class MessagingBodyFuzzTests(MessagingWorld world) : IClassFixture<MessagingWorld>
{
    public static TheoryData<string> Endpoints => new(MessagingWorld.Names);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomJsonBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomJsonAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomBytesBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomBytesAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task ValidBodiesWithOneFieldChanged_AreRefusedCleanly(string endpoint) => BodyFuzz.MutatedValidAsync(world, endpoint);
}
