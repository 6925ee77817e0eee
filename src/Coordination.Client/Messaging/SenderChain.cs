using System.Buffers.Binary;
using Coordination.Crypto;

namespace Coordination.Client.Messaging;

/// <summary>
/// One device's sender chain for a group conversation and epoch (protocol section 6.3). Each
/// step gives a message key and a hint, then replaces the chain key with the next one; the old
/// keys are wiped, so a device seized later cannot decrypt earlier messages.
/// </summary>
public sealed class SenderChain : IDisposable
{
    public const int ChainKeyBytes = 32;
    public const int HintBytes = 8;

    private SecretKey _chainKey;

    private SenderChain(SecretKey chainKey, uint iteration)
    {
        _chainKey = chainKey;
        Iteration = iteration;
    }

    /// <summary>The number of the next message this chain produces or expects.</summary>
    public uint Iteration { get; private set; }

    public static SenderChain Create() => new(SecretKey.Generate(ChainKeyBytes), 0);

    /// <summary>A chain from a distribution (its key and the iteration it starts at).</summary>
    public static SenderChain FromKey(ReadOnlySpan<byte> chainKey, uint iteration)
    {
        if (chainKey.Length != ChainKeyBytes)
        {
            throw new ArgumentException($"A chain key is {ChainKeyBytes} bytes.", nameof(chainKey));
        }

        return new SenderChain(SecretKey.Import(chainKey), iteration);
    }

    /// <summary>Copies the current chain key out (for a distribution or encrypted storage); wipe it after use.</summary>
    public void ExportKey(Span<byte> destination) => _chainKey.Export(destination);

    /// <summary>The hint of the current iteration without advancing.</summary>
    public byte[] CurrentHint() => Hint(_chainKey);

    /// <summary>The key and hint for message <see cref="Iteration"/>, then moves the chain one step on.</summary>
    public (SecretKey MessageKey, byte[] Hint, uint Iteration) Next()
    {
        SecretKey messageKey = SubkeyDerivation.DeriveSubkey(_chainKey, 1, "msgkey__");
        byte[] hint = Hint(_chainKey);
        uint iteration = Iteration;
        SecretKey next = SubkeyDerivation.DeriveSubkey(_chainKey, 2, "chainkey");
        _chainKey.Dispose();
        _chainKey = next;
        Iteration = checked(Iteration + 1);
        return (messageKey, hint, iteration);
    }

    /// <summary>Distribution body: conversation (uuid) || epoch (u32) || iteration (u32) || chain key (32).</summary>
    public byte[] Distribution(Guid conversationId, uint epoch)
    {
        byte[] body = new byte[16 + 4 + 4 + ChainKeyBytes];
        Wire.WriteUuid(body, conversationId);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), epoch);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(20), Iteration);
        ExportKey(body.AsSpan(24));
        return body;
    }

    public static bool TryParseDistribution(ReadOnlySpan<byte> body, out Guid conversationId, out uint epoch, out SenderChain? chain)
    {
        conversationId = Guid.Empty;
        epoch = 0;
        chain = null;
        if (body.Length != 16 + 4 + 4 + ChainKeyBytes)
        {
            return false;
        }

        conversationId = Wire.ReadUuid(body);
        epoch = BinaryPrimitives.ReadUInt32BigEndian(body[16..]);
        chain = FromKey(body[24..], BinaryPrimitives.ReadUInt32BigEndian(body[20..]));
        return true;
    }

    public void Dispose() => _chainKey.Dispose();

    private static byte[] Hint(SecretKey chainKey)
    {
        using SecretKey hintKey = SubkeyDerivation.DeriveSubkey(chainKey, 3, "msghint_");
        byte[] full = new byte[32];
        hintKey.Export(full);
        return full[..HintBytes];
    }
}

/// <summary>
/// The chains a device has received from the other senders of one group conversation and epoch,
/// with message keys skipped over (out-of-order delivery) kept for at most <see cref="MaxSkipped"/> messages.
/// </summary>
public sealed class ReceivingChains : IDisposable
{
    public const int MaxSkipped = 2000;

    private readonly Dictionary<Guid, SenderChain> _chains = [];
    private readonly Dictionary<string, (Guid Sender, SecretKey Key)> _skipped = new(StringComparer.Ordinal);
    private readonly Queue<string> _skippedOrder = new();

    public int SkippedCount => _skipped.Count;

    /// <summary>Installs (or replaces) the chain of <paramref name="senderDeviceId"/>.</summary>
    public void Install(Guid senderDeviceId, SenderChain chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (_chains.Remove(senderDeviceId, out SenderChain? old))
        {
            old.Dispose();
        }

        _chains[senderDeviceId] = chain;
    }

    public bool Has(Guid senderDeviceId) => _chains.ContainsKey(senderDeviceId);

    /// <summary>Every chain at its current position (keys already used are gone): sender, chain key, iteration.</summary>
    public IReadOnlyList<(Guid Sender, byte[] Key, uint Iteration)> Export()
    {
        List<(Guid, byte[], uint)> chains = [];
        foreach ((Guid sender, SenderChain chain) in _chains)
        {
            byte[] key = new byte[SenderChain.ChainKeyBytes];
            chain.ExportKey(key);
            chains.Add((sender, key, chain.Iteration));
        }

        return chains;
    }

    /// <summary>The message key for <paramref name="hint"/>, searching each chain up to <see cref="MaxSkipped"/> steps ahead.</summary>
    public SecretKey? TakeKey(ReadOnlySpan<byte> hint, out Guid senderDeviceId)
    {
        string key = Convert.ToHexString(hint);
        if (_skipped.Remove(key, out (Guid Sender, SecretKey Key) found))
        {
            senderDeviceId = found.Sender;
            return found.Key;
        }

        foreach ((Guid sender, SenderChain chain) in _chains)
        {
            // Look ahead without consuming: only advance when the hint is found.
            if (!FindAhead(chain, hint, out int steps))
            {
                continue;
            }

            for (int i = 0; i < steps; i++)
            {
                (SecretKey skippedKey, byte[] skippedHint, _) = chain.Next();
                Remember(sender, Convert.ToHexString(skippedHint), skippedKey);
            }

            (SecretKey messageKey, _, _) = chain.Next();
            senderDeviceId = sender;
            return messageKey;
        }

        senderDeviceId = Guid.Empty;
        return null;
    }

    public void Dispose()
    {
        foreach (SenderChain chain in _chains.Values)
        {
            chain.Dispose();
        }

        foreach ((Guid _, SecretKey key) in _skipped.Values)
        {
            key.Dispose();
        }

        _chains.Clear();
        _skipped.Clear();
    }

    private static bool FindAhead(SenderChain chain, ReadOnlySpan<byte> hint, out int steps)
    {
        byte[] key = new byte[SenderChain.ChainKeyBytes];
        try
        {
            chain.ExportKey(key);
            using SenderChain probe = SenderChain.FromKey(key, chain.Iteration);
            for (steps = 0; steps <= MaxSkipped; steps++)
            {
                if (probe.CurrentHint().AsSpan().SequenceEqual(hint))
                {
                    return true;
                }

                probe.Next().MessageKey.Dispose();
            }

            return false;
        }
        finally
        {
            Array.Clear(key);
        }
    }

    private void Remember(Guid sender, string hint, SecretKey key)
    {
        _skipped[hint] = (sender, key);
        _skippedOrder.Enqueue(hint);
        while (_skippedOrder.Count > MaxSkipped && _skippedOrder.TryDequeue(out string? oldest))
        {
            if (_skipped.Remove(oldest, out (Guid Sender, SecretKey Key) dropped))
            {
                dropped.Key.Dispose();
            }
        }
    }
}
