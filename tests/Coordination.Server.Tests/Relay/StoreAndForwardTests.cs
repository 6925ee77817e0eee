using System.Net;
using System.Net.Http.Json;
using Coordination.Client.Api;
using Coordination.Protocol;
using Coordination.Server.Relay;
using Coordination.Server.Tests.Auth;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Relay;

public sealed class StoreAndForwardTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public StoreAndForwardTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task OpenDirect_BothSides_GetTheSameConversation()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();

        ConversationInfo fromAlice = await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default);
        ConversationInfo fromBob = await bob.Api.OpenDirectConversationAsync(alice.AccountId).WaitAsync(TestTimeouts.Default);

        Assert.Equal(fromAlice.ConversationId, fromBob.ConversationId);
        Assert.Equal(ConversationKind.Direct, fromAlice.Kind);
        Assert.Equal(new[] { alice.AccountId, bob.AccountId }.Order(), fromAlice.Participants.Order());
    }

    [Fact]
    public async Task Send_FetchAck_DeletesOnceEveryDeviceAcknowledged()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        SendEnvelope envelope = TestDevice.Envelope(conversation, "meet at the courthouse");

        SendResult sent = await alice.Api.SendAsync(envelope).WaitAsync(TestTimeouts.Default);
        InboxPage bobInbox = await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default);

        EnvelopeDelivery delivered = Assert.Single(bobInbox.Envelopes);
        Assert.Equal(sent.Seq, delivered.Seq);
        Assert.Equal(envelope.Ciphertext, delivered.Ciphertext);
        Assert.Equal(envelope.MessageId, delivered.MessageId);
        Assert.Equal(1, CountEnvelopes(conversation));

        // Bob acknowledges; Alice's own device still has it in its inbox, so it stays.
        await bob.Api.AckAsync([new Ack(conversation, sent.Seq)]).WaitAsync(TestTimeouts.Default);
        await SweepAsync();
        Assert.Empty((await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
        Assert.Equal(1, CountEnvelopes(conversation));

        await alice.Api.AckAsync([new Ack(conversation, sent.Seq)]).WaitAsync(TestTimeouts.Default);
        await SweepAsync();
        Assert.Equal(0, CountEnvelopes(conversation));
    }

    [Fact]
    public async Task Fetch_ManyEnvelopes_PagesInOrder()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        List<long> sent = [];
        for (int i = 0; i < 25; i++)
        {
            sent.Add((await alice.Api.SendAsync(TestDevice.Envelope(conversation, $"message {i}")).WaitAsync(TestTimeouts.Default)).Seq);
        }

        List<long> received = [];
        for (int page = 0; page < 10; page++)
        {
            InboxPage inbox = await bob.Api.FetchAsync(limit: 10).WaitAsync(TestTimeouts.Default);
            received.AddRange(inbox.Envelopes.Select(e => e.Seq));
            if (inbox.Envelopes.Count > 0)
            {
                await bob.Api.AckAsync([new Ack(conversation, inbox.Envelopes[^1].Seq)]).WaitAsync(TestTimeouts.Default);
            }

            if (!inbox.More)
            {
                break;
            }
        }

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Send_SameMessageIdTwice_ReturnsFirstResultAndStoresOnce()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        SendEnvelope envelope = TestDevice.Envelope(conversation, "once");

        SendResult first = await alice.Api.SendAsync(envelope).WaitAsync(TestTimeouts.Default);
        SendResult retry = await alice.Api.SendAsync(envelope).WaitAsync(TestTimeouts.Default);
        SendResult[] racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => alice.Api.SendAsync(envelope))).WaitAsync(TestTimeouts.Default);

        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.Equal(first.Seq, retry.Seq);
        Assert.All(racing, r => Assert.Equal(first.Seq, r.Seq));
        Assert.Equal(1, CountEnvelopes(conversation));
        Assert.Single((await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
    }

    [Fact]
    public async Task Send_RetryAfterDeliveryAndDeletion_IsStillADuplicate()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        SendEnvelope envelope = TestDevice.Envelope(conversation, "lost ack");
        SendResult first = await alice.Api.SendAsync(envelope).WaitAsync(TestTimeouts.Default);
        await bob.Api.AckAsync([new Ack(conversation, first.Seq)]).WaitAsync(TestTimeouts.Default);
        await alice.Api.AckAsync([new Ack(conversation, first.Seq)]).WaitAsync(TestTimeouts.Default);
        await SweepAsync();
        Assert.Equal(0, CountEnvelopes(conversation));

        SendResult retry = await alice.Api.SendAsync(envelope).WaitAsync(TestTimeouts.Default);

        Assert.True(retry.Duplicate);
        Assert.Equal(first.Seq, retry.Seq);
        Assert.Empty((await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
    }

    [Fact]
    public async Task Send_TtlPassed_EnvelopeIsDeletedUndelivered()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await alice.Api.SendAsync(TestDevice.Envelope(conversation, "short-lived", ttlSeconds: 60)).WaitAsync(TestTimeouts.Default);
        await alice.Api.SendAsync(TestDevice.Envelope(conversation, "long-lived", ttlSeconds: 3600)).WaitAsync(TestTimeouts.Default);

        _relay.Clock.Advance(TimeSpan.FromSeconds(61));
        try
        {
            await SweepAsync();
            InboxPage inbox = await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default);

            Assert.Single(inbox.Envelopes);
            Assert.Equal(1, CountEnvelopes(conversation));
        }
        finally
        {
            _relay.Clock.Advance(TimeSpan.FromSeconds(-61));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(255)]
    [InlineData(300)]
    [InlineData(1023)]
    [InlineData(65535)]
    public async Task Send_CiphertextNotABucketSize_Is400AndStoresNothing(int size)
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;

        RelayApiException error = await Assert.ThrowsAsync<RelayApiException>(
            () => alice.Api.SendAsync(new SendEnvelope(conversation, Guid.NewGuid(), new byte[size])).WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Contains("padded", error.Detail, StringComparison.Ordinal);
        Assert.Equal(0, CountEnvelopes(conversation));
    }

    [Fact]
    public async Task Send_EveryBucketSize_IsAccepted()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;

        foreach (int bucket in Limits.EnvelopeBuckets)
        {
            await alice.Api.SendAsync(new SendEnvelope(conversation, Guid.NewGuid(), new byte[bucket])).WaitAsync(TestTimeouts.Default);
        }

        Assert.Equal(Limits.EnvelopeBuckets.Count, CountEnvelopes(conversation));
    }

    [Fact]
    public async Task Send_BodyOverTheWireLimit_Is413()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        using HttpRequestMessage request = new(HttpMethod.Post, $"api/v1/conversations/{conversation}/envelopes")
        {
            Content = JsonContent.Create(new SendEnvelope(conversation, Guid.NewGuid(), new byte[200_000])),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", alice.Api.Token);

        HttpResponseMessage response = await alice.Api.Http.SendAsync(request).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, CountEnvelopes(conversation));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(40 * 24 * 3600)]
    public async Task Send_TtlOutOfRange_Is400(int ttl)
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;

        RelayApiException error = await Assert.ThrowsAsync<RelayApiException>(
            () => alice.Api.SendAsync(TestDevice.Envelope(conversation, "x", ttlSeconds: ttl)).WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
    }

    [Fact]
    public async Task Send_ToAConversationYouAreNotIn_Is404()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        using TestDevice mallory = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;

        RelayApiException send = await Assert.ThrowsAsync<RelayApiException>(() => mallory.Api.SendAsync(TestDevice.Envelope(conversation, "x")).WaitAsync(TestTimeouts.Default));
        RelayApiException devices = await Assert.ThrowsAsync<RelayApiException>(() => mallory.Api.ListRecipientDevicesAsync(conversation).WaitAsync(TestTimeouts.Default));
        RelayApiException unknown = await Assert.ThrowsAsync<RelayApiException>(() => mallory.Api.SendAsync(TestDevice.Envelope(Guid.NewGuid(), "x")).WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.NotFound, send.Status);
        Assert.Equal(HttpStatusCode.NotFound, devices.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Empty((await mallory.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
    }

    [Fact]
    public async Task Ack_Malformed_Is400AndChangesNothing()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await alice.Api.SendAsync(TestDevice.Envelope(conversation, "x")).WaitAsync(TestTimeouts.Default);

        RelayApiException empty = await Assert.ThrowsAsync<RelayApiException>(() => bob.Api.AckAsync([]).WaitAsync(TestTimeouts.Default));
        RelayApiException negative = await Assert.ThrowsAsync<RelayApiException>(() => bob.Api.AckAsync([new Ack(conversation, -1)]).WaitAsync(TestTimeouts.Default));
        RelayApiException tooMany = await Assert.ThrowsAsync<RelayApiException>(
            () => bob.Api.AckAsync([.. Enumerable.Range(0, Limits.MaxAcksPerRequest + 1).Select(i => new Ack(conversation, i))]).WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);
        Assert.Equal(HttpStatusCode.BadRequest, negative.Status);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.Status);
        Assert.Single((await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
    }

    [Fact]
    public async Task NewlyLinkedDevice_GetsNoHistoryButNewMessages()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await alice.Api.SendAsync(TestDevice.Envelope(conversation, "before")).WaitAsync(TestTimeouts.Default);

        using TestDevice bobPhone = await DeviceTests.LinkSecondDeviceAsync(bob);
        Assert.Empty((await bobPhone.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
        SendResult after = await alice.Api.SendAsync(TestDevice.Envelope(conversation, "after")).WaitAsync(TestTimeouts.Default);

        EnvelopeDelivery received = Assert.Single((await bobPhone.Api.FetchAsync().WaitAsync(TestTimeouts.Default)).Envelopes);
        Assert.Equal(after.Seq, received.Seq);
        Assert.Equal(2, (await alice.Api.ListRecipientDevicesAsync(conversation).WaitAsync(TestTimeouts.Default)).Count(d => d.AccountId == bob.AccountId));
    }

    [Fact]
    public async Task RevokedDevice_NoLongerHoldsBackDeletion()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        using TestDevice bobPhone = await DeviceTests.LinkSecondDeviceAsync(bob);
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        SendResult sent = await alice.Api.SendAsync(TestDevice.Envelope(conversation, "x")).WaitAsync(TestTimeouts.Default);
        await alice.Api.AckAsync([new Ack(conversation, sent.Seq)]).WaitAsync(TestTimeouts.Default);
        await bob.Api.AckAsync([new Ack(conversation, sent.Seq)]).WaitAsync(TestTimeouts.Default);
        await SweepAsync();
        Assert.Equal(1, CountEnvelopes(conversation));

        await bob.Api.RevokeDeviceAsync(bobPhone.DeviceId).WaitAsync(TestTimeouts.Default);
        await SweepAsync();

        Assert.Equal(0, CountEnvelopes(conversation));
        Assert.DoesNotContain(await alice.Api.ListRecipientDevicesAsync(conversation).WaitAsync(TestTimeouts.Default), d => d.Device.DeviceId == bobPhone.DeviceId);
    }

    private long CountEnvelopes(Guid conversation) =>
        _relay.Count($"SELECT COUNT(*) FROM Envelopes WHERE ConversationId = '{conversation.ToString().ToUpperInvariant()}'");

    private Task<int> SweepAsync() => _relay.Services.GetRequiredService<RelayWriter>().SweepAsync().WaitAsync(TestTimeouts.Default);
}
