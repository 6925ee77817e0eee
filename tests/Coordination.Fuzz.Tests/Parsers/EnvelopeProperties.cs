using System.Text;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// The client's envelope openers over whatever the relay delivers: arbitrary bytes and changed
/// envelopes return false and never throw; a changed envelope never opens to anything but the
/// original message (a pairwise envelope's slots for other devices are theirs to lose, so a change
/// there may still open, to the same message).
/// </summary>
public sealed class EnvelopeProperties : IDisposable
{
    private static readonly Guid s_conversation = Guid.Parse("3d2f7f0e-6a2b-4f7e-9d1c-5b8e0c4a7f10");
    private static readonly Guid s_message = Guid.Parse("9c1e5d2a-7b3f-4e6a-8d0c-1f2e3d4c5b6a");
    private static readonly byte[] s_inner = Encoding.UTF8.GetBytes("Meet at the north gate at nine; bring water.");

    private readonly X25519KeyPair _me = X25519KeyPair.Generate();
    private readonly X25519KeyPair _other = X25519KeyPair.Generate();
    private readonly byte[] _pairwise;

    public EnvelopeProperties()
    {
        // This device is the first recipient: its slot is the first.
        _pairwise = PairwiseEnvelope.Seal(s_conversation, s_message, s_inner, [new RecipientKey(Guid.NewGuid(), _me.PublicKey), new RecipientKey(Guid.NewGuid(), _other.PublicKey)]);
    }

    /// <summary>Header (2) + ephemeral key (32) + count (2): where the slots start.</summary>
    private static int SlotsStart => 36;

    private static int SlotBytes => 8 + 32 + XChaCha20Poly1305.TagSize;

    [Fact]
    public void Pairwise_TryOpen_ArbitraryBytes_False()
    {
        Assert.True(PairwiseEnvelope.TryOpen(_pairwise, s_conversation, s_message, _me, out byte[]? inner) && inner!.SequenceEqual(s_inner));
        Gen<Bytes> bytes = Gen.OneOf(
            Gens.Bytes(0, 2 * Limits.MaxEnvelopeBytes),
            Gens.Prefixed([PairwiseEnvelope.Version, PairwiseEnvelope.Type], 1100),
            // A plausible header: a random key and a small slot count.
            from key in Gens.ExactBytes(32)
            from count in Gen.Choose(0, 20)
            from tail in Gens.Bytes(0, 1500)
            select new Bytes([PairwiseEnvelope.Version, PairwiseEnvelope.Type, .. key, 0, (byte)count, .. tail.Value], $"header with {count} slots + {tail.How}"));
        Fuzzer.Check(1500, Fuzzer.Cases(bytes), b =>
        {
            Assert.False(PairwiseEnvelope.TryOpen(b.Value, s_conversation, s_message, _me, out byte[]? opened));
            Assert.Null(opened);
        });
    }

    [Fact]
    public void Pairwise_TryOpen_MutatedEnvelope_FalseOrTheSameMessage()
    {
        int slotsEnd = SlotsStart + (2 * SlotBytes);
        Fuzzer.Check(2000, Fuzzer.Cases(Gens.Mutations(_pairwise)), m =>
        {
            bool opened = PairwiseEnvelope.TryOpen(m.Value, s_conversation, s_message, _me, out byte[]? inner);
            if (!opened)
            {
                Assert.Null(inner);
                return;
            }

            Assert.Equal(s_inner, inner);
            // Only the other device's slot and this device's hint are outside what authenticates the message for this device.
            Assert.True(m.SameLength, "an envelope of another length opened");
            Assert.All(m.Changed, i => Assert.True(i >= SlotsStart && i < slotsEnd && (i < SlotsStart + 8 || i >= SlotsStart + SlotBytes), $"a change at {i} still opened"));
        });
    }

    [Fact]
    public void Pairwise_TryOpen_OtherConversationOrMessage_False()
    {
        Gen<(Guid Conversation, Guid Message)> ids = Gen.Zip(
            Gen.Elements(s_conversation, Guid.Empty, Guid.NewGuid()),
            Gen.Elements(s_message, Guid.Empty, Guid.NewGuid()));
        Fuzzer.Check(50, Fuzzer.Cases(ids), c =>
        {
            bool same = c.Conversation == s_conversation && c.Message == s_message;
            Assert.Equal(same, PairwiseEnvelope.TryOpen(_pairwise, c.Conversation, c.Message, _me, out _));
        });
    }

    [Fact]
    public void Group_TryOpen_ArbitraryBytes_False()
    {
        using SenderChain sender = SenderChain.Create();
        Gen<(Bytes Bytes, bool WithChain)> cases =
            from bytes in Gen.OneOf(
                Gens.Bytes(0, 2 * Limits.MaxEnvelopeBytes),
                Gens.Prefixed([GroupEnvelope.Version, GroupEnvelope.Type], 1100))
            from withChain in Gen.Frequency((99, Gen.Constant(false)), (1, Gen.Constant(true)))
            select (bytes, withChain);
        Fuzzer.Check(600, Fuzzer.Cases(cases), c =>
        {
            // With a chain installed a random hint is looked for up to 2,000 steps ahead (slow), so most cases have none.
            using ReceivingChains chains = new();
            if (c.WithChain)
            {
                chains.Install(Guid.NewGuid(), Copy(sender));
            }

            Assert.False(GroupEnvelope.TryOpen(c.Bytes.Value, s_conversation, s_message, chains, out byte[]? inner, out _));
            Assert.Null(inner);
            _ = GroupEnvelope.TryReadEpoch(c.Bytes.Value, out _);
        }, divisor: 10);
    }

    [Fact]
    public void Group_TryOpen_MutatedEnvelope_False()
    {
        Gen<(int Seed, uint Epoch, int Skip)> cases =
            from seed in Gens.Seeds
            from epoch in Gen.Elements(0u, 1u, 7u, uint.MaxValue)
            from skip in Gen.Choose(0, 3)
            select (seed, epoch, skip);
        Fuzzer.Check(150, Fuzzer.Cases(cases), c =>
        {
            using SenderChain sender = SenderChain.Create();
            using ReceivingChains chains = new();
            Guid device = Guid.NewGuid();
            chains.Install(device, Copy(sender));
            for (int i = 0; i < c.Skip; i++)
            {
                GroupEnvelope.Seal(s_conversation, s_message, c.Epoch, s_inner, sender);
            }

            byte[] envelope = GroupEnvelope.Seal(s_conversation, s_message, c.Epoch, s_inner, sender);
            Mutation mutation = Gens.Mutate(envelope, new System.Random(c.Seed));
            Assert.False(GroupEnvelope.TryOpen(mutation.Value, s_conversation, s_message, chains, out byte[]? inner, out _), $"a changed group envelope opened: {mutation}");
            Assert.Null(inner);

            // A forgery that kept the hint used the message key up (the genuine envelope is then looked
            // for 2,000 steps ahead in vain, which is slow); otherwise the genuine one still opens.
            bool hintKept = mutation.Value.Length >= 14 && mutation.Value.AsSpan(6, 8).SequenceEqual(envelope.AsSpan(6, 8));
            if (!hintKept)
            {
                Assert.True(GroupEnvelope.TryOpen(envelope, s_conversation, s_message, chains, out byte[]? original, out Guid from));
                Assert.Equal(s_inner, original);
                Assert.Equal(device, from);
            }
        }, divisor: 20);
    }

    [Fact]
    public void InnerMessage_TryDecode_ArbitraryAndMutated_RefusesOrRoundTrips_AndNeverVerifiesChanged()
    {
        using DeviceIdentity sender = DeviceIdentity.CreateAccount();
        InnerMessage message = InnerMessage.Create(sender, s_conversation, s_message, ContentType.Text, s_inner, 1_700_000_000_000);
        byte[] encoded = message.Encode();
        Gen<Bytes> bytes = Gen.OneOf(
            Gens.Bytes(0, 400),
            Gens.Mutations(encoded).Select(m => new Bytes(m.Value, m.How)));
        Fuzzer.Check(2000, Fuzzer.Cases(bytes), b =>
        {
            if (!InnerMessage.TryDecode(b.Value, out InnerMessage? decoded))
            {
                Assert.Null(decoded);
                return;
            }

            Assert.Equal(b.Value, decoded!.Encode());
            Assert.Equal(b.Value.SequenceEqual(encoded), decoded.Verify(sender.SigningKey.PublicKey, s_conversation, s_message));
        });
    }

    [Fact]
    public void SenderKeyDistribution_TryParse_ArbitraryBytes_RefusesOrRoundTrips()
    {
        Fuzzer.Check(1000, Fuzzer.Cases(Gens.Bytes(0, 120)), b =>
        {
            if (SenderChain.TryParseDistribution(b.Value, out Guid conversation, out uint epoch, out SenderChain? chain))
            {
                using (chain)
                {
                    Assert.Equal(b.Value, chain!.Distribution(conversation, epoch));
                }
            }
            else
            {
                Assert.Null(chain);
            }
        });
    }

    [Fact]
    public void EnvelopePadding_TryUnpadInner_ArbitraryBytes_FalseOrAPrefix()
    {
        Fuzzer.Check(2000, Fuzzer.Cases(Gens.Bytes(0, 5000)), b =>
        {
            if (EnvelopePadding.TryUnpadInner(b.Value, out byte[]? inner))
            {
                Assert.True(b.Value.AsSpan().StartsWith(inner));
                Assert.Equal(0x80, b.Value[inner!.Length]);
            }
        });
    }

    public void Dispose()
    {
        _me.Dispose();
        _other.Dispose();
    }

    private static SenderChain Copy(SenderChain chain)
    {
        byte[] key = new byte[SenderChain.ChainKeyBytes];
        chain.ExportKey(key);
        return SenderChain.FromKey(key, chain.Iteration);
    }
}
