using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Tests.Messaging;

public class PairwiseEnvelopeTests
{
    private static readonly Guid s_conversation = Guid.NewGuid();

    [Fact]
    public void Seal_ThreeDevices_EachOpensTheSameSignedMessage()
    {
        using DeviceIdentity alice = Registered(DeviceIdentity.CreateAccount());
        using X25519KeyPair bobLaptop = X25519KeyPair.Generate();
        using X25519KeyPair bobPhone = X25519KeyPair.Generate();
        using X25519KeyPair aliceTablet = X25519KeyPair.Generate();
        Guid messageId = Guid.NewGuid();
        InnerMessage sent = InnerMessage.Create(alice, s_conversation, messageId, ContentType.Text, "court at ten"u8.ToArray(), 1_700_000_000_000);

        byte[] envelope = EnvelopePadding.Pad(PairwiseEnvelope.Seal(s_conversation, messageId, sent.Encode(),
            [Recipient(bobLaptop), Recipient(bobPhone), Recipient(aliceTablet)]));

        Assert.True(Limits.IsEnvelopeBucket(envelope.Length));
        foreach (X25519KeyPair device in new[] { bobLaptop, bobPhone, aliceTablet })
        {
            Assert.True(EnvelopePadding.TryUnpad(envelope, out ReadOnlyMemory<byte> plaintext));
            Assert.True(PairwiseEnvelope.TryOpen(plaintext.Span, s_conversation, messageId, device, out byte[]? inner));
            Assert.True(InnerMessage.TryDecode(inner, out InnerMessage? received));
            Assert.Equal("court at ten", received!.Text);
            Assert.Equal(alice.DeviceId, received.SenderDeviceId);
            Assert.True(received.Verify(alice.SigningKey.PublicKey, s_conversation, messageId));
        }
    }

    [Fact]
    public void TryOpen_NotARecipient_Fails()
    {
        using X25519KeyPair bob = X25519KeyPair.Generate();
        using X25519KeyPair eve = X25519KeyPair.Generate();
        Guid messageId = Guid.NewGuid();

        byte[] plaintext = PairwiseEnvelope.Seal(s_conversation, messageId, "secret"u8, [Recipient(bob)]);

        Assert.False(PairwiseEnvelope.TryOpen(plaintext, s_conversation, messageId, eve, out byte[]? inner));
        Assert.Null(inner);
    }

    [Fact]
    public void TryOpen_MovedToAnotherConversationOrMessageId_Fails()
    {
        using X25519KeyPair bob = X25519KeyPair.Generate();
        Guid messageId = Guid.NewGuid();

        byte[] plaintext = PairwiseEnvelope.Seal(s_conversation, messageId, "secret"u8, [Recipient(bob)]);

        Assert.False(PairwiseEnvelope.TryOpen(plaintext, Guid.NewGuid(), messageId, bob, out _));
        Assert.False(PairwiseEnvelope.TryOpen(plaintext, s_conversation, Guid.NewGuid(), bob, out _));
        Assert.True(PairwiseEnvelope.TryOpen(plaintext, s_conversation, messageId, bob, out _));
    }

    [Fact]
    public void TryOpen_AnyFlippedByte_Fails()
    {
        using X25519KeyPair bob = X25519KeyPair.Generate();
        Guid messageId = Guid.NewGuid();
        byte[] plaintext = PairwiseEnvelope.Seal(s_conversation, messageId, "secret"u8, [Recipient(bob)]);

        for (int i = 0; i < plaintext.Length; i++)
        {
            byte[] tampered = (byte[])plaintext.Clone();
            tampered[i] ^= 0x20;
            bool opened = PairwiseEnvelope.TryOpen(tampered, s_conversation, messageId, bob, out byte[]? inner);
            // A flipped hint byte only changes which slot is tried first; the content must still be intact.
            Assert.True(!opened || (i >= 36 && i < 44 && inner!.AsSpan().SequenceEqual("secret"u8)), $"byte {i}");
        }
    }

    [Fact]
    public void Verify_ForgedSenderOrOtherConversation_Fails()
    {
        using DeviceIdentity alice = Registered(DeviceIdentity.CreateAccount());
        using DeviceIdentity mallory = Registered(DeviceIdentity.CreateAccount());
        Guid messageId = Guid.NewGuid();
        InnerMessage genuine = InnerMessage.Create(alice, s_conversation, messageId, ContentType.Text, "hi"u8.ToArray(), 1);

        // Mallory claims to be Alice but can only sign with her own key.
        InnerMessage forged = InnerMessage.Create(mallory, s_conversation, messageId, ContentType.Text, "hi"u8.ToArray(), 1) with
        {
            SenderAccountId = alice.AccountId,
            SenderDeviceId = alice.DeviceId,
        };

        Assert.True(genuine.Verify(alice.SigningKey.PublicKey, s_conversation, messageId));
        Assert.False(genuine.Verify(alice.SigningKey.PublicKey, Guid.NewGuid(), messageId));
        Assert.False(genuine.Verify(mallory.SigningKey.PublicKey, s_conversation, messageId));
        Assert.False(forged.Verify(alice.SigningKey.PublicKey, s_conversation, messageId));
        Assert.False((genuine with { Body = "ho"u8.ToArray() }).Verify(alice.SigningKey.PublicKey, s_conversation, messageId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(44)]
    [InlineData(200)]
    public void InnerMessage_TruncatedOrGarbage_DoesNotDecode(int length)
    {
        Assert.False(InnerMessage.TryDecode(SecureRandom.Bytes(length), out _));
    }

    [Fact]
    public void Pad_TooLargeForAnyBucket_Throws()
    {
        Assert.Throws<ArgumentException>(() => EnvelopePadding.Pad(new byte[Limits.MaxEnvelopeBytes]));
        Assert.Equal(Limits.MaxEnvelopeBytes, EnvelopePadding.Pad(new byte[Limits.MaxEnvelopeBytes - 1]).Length);
    }

    internal static DeviceIdentity Registered(DeviceIdentity identity)
    {
        identity.AccountId = Guid.NewGuid();
        identity.DeviceId = Guid.NewGuid();
        return identity;
    }

    private static RecipientKey Recipient(X25519KeyPair device) => new(Guid.NewGuid(), device.PublicKey);
}
