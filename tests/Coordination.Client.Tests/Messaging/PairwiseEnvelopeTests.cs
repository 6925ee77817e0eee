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

        byte[] envelope = PairwiseEnvelope.Seal(s_conversation, messageId, sent.Encode(),
            [Recipient(bobLaptop), Recipient(bobPhone), Recipient(aliceTablet)]);

        Assert.True(Limits.IsEnvelopeBucket(envelope.Length));
        foreach (X25519KeyPair device in new[] { bobLaptop, bobPhone, aliceTablet })
        {
            Assert.True(PairwiseEnvelope.TryOpen(envelope, s_conversation, messageId, device, out byte[]? inner));
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
    public void Seal_MessagesOfDifferentLengths_AreTheSameSizeAndShowNoLength()
    {
        using X25519KeyPair bob = X25519KeyPair.Generate();

        byte[] small = PairwiseEnvelope.Seal(s_conversation, Guid.NewGuid(), new byte[10], [Recipient(bob)]);
        byte[] larger = PairwiseEnvelope.Seal(s_conversation, Guid.NewGuid(), new byte[100], [Recipient(bob)]);
        byte[] big = PairwiseEnvelope.Seal(s_conversation, Guid.NewGuid(), new byte[3000], [Recipient(bob)]);

        // The padding is inside the ciphertext: both fill the same bucket exactly.
        Assert.Equal(256, small.Length);
        Assert.Equal(256, larger.Length);
        Assert.Equal(4096, big.Length);
    }

    [Fact]
    public void Slots_CannotBeMatchedToDevicesFromPublicKeysAlone()
    {
        using X25519KeyPair bob = X25519KeyPair.Generate();
        using X25519KeyPair alice = X25519KeyPair.Generate();
        byte[] envelope = PairwiseEnvelope.Seal(s_conversation, Guid.NewGuid(), "x"u8, [Recipient(alice), Recipient(bob)]);
        byte[] eph = envelope[2..34];

        // What the relay could compute from public keys: the old public-key hint matches no slot.
        foreach (X25519KeyPair device in new[] { alice, bob })
        {
            byte[] publicHint = Blake2b.Hash([.. "coordination/v1/hint"u8, .. eph, .. device.PublicKey.Bytes], 32)[..8];
            Assert.NotEqual(publicHint, envelope[36..44]);
            Assert.NotEqual(publicHint, envelope[92..100]);
        }
    }

    [Fact]
    public void PadInner_TooLargeForAnyBucket_Throws()
    {
        Assert.Throws<ArgumentException>(() => EnvelopePadding.PadInner(new byte[Limits.MaxEnvelopeBytes], 0));
        Assert.Equal(Limits.MaxEnvelopeBytes - 100, EnvelopePadding.PadInner(new byte[Limits.MaxEnvelopeBytes - 101], 100).Length);
        Assert.True(EnvelopePadding.TryUnpadInner(EnvelopePadding.PadInner("abc"u8, 40), out byte[]? inner));
        Assert.Equal("abc"u8.ToArray(), inner);
    }

    internal static DeviceIdentity Registered(DeviceIdentity identity)
    {
        identity.AccountId = Guid.NewGuid();
        identity.DeviceId = Guid.NewGuid();
        return identity;
    }

    private static RecipientKey Recipient(X25519KeyPair device) => new(Guid.NewGuid(), device.PublicKey);
}
