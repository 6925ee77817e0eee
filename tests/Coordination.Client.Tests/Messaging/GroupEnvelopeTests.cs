using Coordination.Client.Messaging;

namespace Coordination.Client.Tests.Messaging;

public class GroupEnvelopeTests
{
    private static readonly Guid s_conversation = Guid.NewGuid();
    private static readonly Guid s_sender = Guid.NewGuid();

    [Fact]
    public void Messages_InOrder_AllOpen()
    {
        using SenderChain mine = SenderChain.Create();
        using ReceivingChains theirs = Receiving(mine);

        for (int i = 0; i < 20; i++)
        {
            Guid id = Guid.NewGuid();
            byte[] sealedMessage = GroupEnvelope.Seal(s_conversation, id, 3, System.Text.Encoding.UTF8.GetBytes($"m{i}"), mine);

            Assert.True(GroupEnvelope.TryOpen(sealedMessage, s_conversation, id, theirs, out byte[]? inner, out Guid sender));
            Assert.Equal($"m{i}", System.Text.Encoding.UTF8.GetString(inner!));
            Assert.Equal(s_sender, sender);
        }
    }

    [Fact]
    public void Messages_OutOfOrder_OpenOnceEach()
    {
        using SenderChain mine = SenderChain.Create();
        using ReceivingChains theirs = Receiving(mine);
        List<(Guid Id, byte[] Sealed)> sent = [.. Enumerable.Range(0, 6).Select(i =>
        {
            Guid id = Guid.NewGuid();
            return (id, GroupEnvelope.Seal(s_conversation, id, 1, [(byte)i], mine));
        })];

        foreach (int i in new[] { 4, 0, 5, 2, 1, 3 })
        {
            Assert.True(GroupEnvelope.TryOpen(sent[i].Sealed, s_conversation, sent[i].Id, theirs, out byte[]? inner, out _), $"message {i}");
            Assert.Equal([(byte)i], inner!);
        }

        // Each key is gone after use: a replay does not open again.
        Assert.False(GroupEnvelope.TryOpen(sent[2].Sealed, s_conversation, sent[2].Id, theirs, out _, out _));
        Assert.Equal(0, theirs.SkippedCount);
    }

    [Fact]
    public void StolenChainState_CannotReadEarlierMessages()
    {
        using SenderChain mine = SenderChain.Create();
        using ReceivingChains victim = Receiving(mine);
        Guid earlyId = Guid.NewGuid();
        byte[] early = GroupEnvelope.Seal(s_conversation, earlyId, 1, "before the arrest"u8, mine);
        Assert.True(GroupEnvelope.TryOpen(early, s_conversation, earlyId, victim, out _, out _));

        // The phone is seized now: its chain state is copied.
        byte[] stolenKey = new byte[32];
        mine.ExportKey(stolenKey);
        using ReceivingChains attacker = new();
        attacker.Install(s_sender, SenderChain.FromKey(stolenKey, mine.Iteration));

        Assert.False(GroupEnvelope.TryOpen(early, s_conversation, earlyId, attacker, out _, out _));
        Guid lateId = Guid.NewGuid();
        byte[] late = GroupEnvelope.Seal(s_conversation, lateId, 1, "after"u8, mine);
        Assert.True(GroupEnvelope.TryOpen(late, s_conversation, lateId, attacker, out _, out _));
    }

    [Fact]
    public void TryOpen_TamperedHeaderOrBodyOrOtherConversation_Fails()
    {
        using SenderChain mine = SenderChain.Create();
        using SenderChain before = mine.Clone();
        Guid id = Guid.NewGuid();
        byte[] sealedMessage = GroupEnvelope.Seal(s_conversation, id, 7, "x"u8, mine);

        for (int i = 0; i < sealedMessage.Length; i++)
        {
            using ReceivingChains receiver = new();
            receiver.Install(s_sender, before.Clone());
            byte[] tampered = (byte[])sealedMessage.Clone();
            tampered[i] ^= 0x01;
            Assert.False(GroupEnvelope.TryOpen(tampered, s_conversation, id, receiver, out _, out _), $"byte {i}");
        }

        using ReceivingChains other = new();
        other.Install(s_sender, before.Clone());
        Assert.False(GroupEnvelope.TryOpen(sealedMessage, Guid.NewGuid(), id, other, out _, out _));
        using ReceivingChains genuine = new();
        genuine.Install(s_sender, before.Clone());
        Assert.True(GroupEnvelope.TryOpen(sealedMessage, s_conversation, id, genuine, out _, out _));
    }

    [Fact]
    public void Epoch_IsReadableFromTheHeader()
    {
        using SenderChain mine = SenderChain.Create();

        byte[] sealedMessage = GroupEnvelope.Seal(s_conversation, Guid.NewGuid(), 42, "x"u8, mine);

        Assert.True(GroupEnvelope.TryReadEpoch(sealedMessage, out uint epoch));
        Assert.Equal(42u, epoch);
        Assert.False(GroupEnvelope.TryReadEpoch([0x01, 0x01, 0, 0, 0, 0], out _));
    }

    [Fact]
    public void Distribution_RoundTripsTheChain()
    {
        using SenderChain mine = SenderChain.Create();
        mine.Next().MessageKey.Dispose();

        Assert.True(SenderChain.TryParseDistribution(mine.Distribution(s_conversation, 5), out Guid conversation, out uint epoch, out SenderChain? copy));
        using (copy)
        {
            Assert.Equal(s_conversation, conversation);
            Assert.Equal(5u, epoch);
            Assert.Equal(mine.Iteration, copy!.Iteration);
            Assert.Equal(mine.CurrentHint(), copy.CurrentHint());
        }

        Assert.False(SenderChain.TryParseDistribution(new byte[10], out _, out _, out _));
    }

    private static ReceivingChains Receiving(SenderChain sender)
    {
        ReceivingChains chains = new();
        chains.Install(s_sender, ChainAt(sender, sender.Iteration));
        return chains;
    }

    private static SenderChain ChainAt(SenderChain sender, uint iteration)
    {
        byte[] key = new byte[32];
        sender.ExportKey(key);
        return SenderChain.FromKey(key, iteration);
    }
}

internal static class SenderChainTestExtensions
{
    public static SenderChain Clone(this SenderChain chain)
    {
        byte[] key = new byte[32];
        chain.ExportKey(key);
        return SenderChain.FromKey(key, chain.Iteration);
    }
}
