using System.Text.Json;

namespace Coordination.Client.Messaging;

/// <summary>
/// This device's sender chains and the chains it received, per group conversation and epoch.
/// Chains of an older epoch are discarded as soon as a newer epoch is seen. Saved (encrypted) by
/// <see cref="LocalMessageStore"/>; skipped message keys are not persisted.
/// </summary>
public sealed class GroupKeys : IDisposable
{
    private readonly Dictionary<Guid, (uint Epoch, SenderChain Chain)> _own = [];
    private readonly Dictionary<Guid, (uint Epoch, ReceivingChains Chains)> _received = [];

    public SenderChain? Own(Guid conversationId, uint epoch) =>
        _own.TryGetValue(conversationId, out (uint Epoch, SenderChain Chain) own) && own.Epoch == epoch ? own.Chain : null;

    /// <summary>A fresh chain for this device, replacing any older one for the conversation.</summary>
    public SenderChain CreateOwn(Guid conversationId, uint epoch)
    {
        if (_own.Remove(conversationId, out (uint Epoch, SenderChain Chain) old))
        {
            old.Chain.Dispose();
        }

        SenderChain chain = SenderChain.Create();
        _own[conversationId] = (epoch, chain);
        return chain;
    }

    /// <summary>Installs a chain received from <paramref name="senderDeviceId"/>; chains of older epochs are dropped.</summary>
    public bool Install(Guid conversationId, uint epoch, Guid senderDeviceId, SenderChain chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (_received.TryGetValue(conversationId, out var existing))
        {
            if (epoch < existing.Epoch)
            {
                chain.Dispose();
                return false;
            }

            if (epoch > existing.Epoch)
            {
                existing.Chains.Dispose();
                _received.Remove(conversationId);
            }
        }

        if (!_received.TryGetValue(conversationId, out var entry))
        {
            entry = (epoch, new ReceivingChains());
            _received[conversationId] = entry;
        }

        entry.Chains.Install(senderDeviceId, chain);
        return true;
    }

    public ReceivingChains? Receiving(Guid conversationId, uint epoch) =>
        _received.TryGetValue(conversationId, out var entry) && entry.Epoch == epoch ? entry.Chains : null;

    /// <summary>
    /// Serialized state: every chain at its current position, so keys already used stay gone
    /// after a restart too.
    /// </summary>
    public byte[] Export()
    {
        List<ChainRecord> records = [];
        foreach ((Guid conversation, (uint epoch, SenderChain chain)) in _own)
        {
            byte[] key = new byte[SenderChain.ChainKeyBytes];
            chain.ExportKey(key);
            records.Add(new ChainRecord(conversation, epoch, null, key, chain.Iteration));
        }

        foreach ((Guid conversation, var entry) in _received)
        {
            foreach ((Guid sender, byte[] key, uint iteration) in entry.Chains.Export())
            {
                records.Add(new ChainRecord(conversation, entry.Epoch, sender, key, iteration));
            }
        }

        byte[] state = JsonSerializer.SerializeToUtf8Bytes(records);
        records.ForEach(r => Array.Clear(r.Key));
        return state;
    }

    public static GroupKeys Import(byte[]? state)
    {
        GroupKeys keys = new();
        if (state is null)
        {
            return keys;
        }

        foreach (ChainRecord record in JsonSerializer.Deserialize<List<ChainRecord>>(state) ?? [])
        {
            SenderChain chain = SenderChain.FromKey(record.Key, record.Iteration);
            if (record.Sender is null)
            {
                keys._own[record.Conversation] = (record.Epoch, chain);
            }
            else
            {
                keys.Install(record.Conversation, record.Epoch, record.Sender.Value, chain);
            }

            Array.Clear(record.Key);
        }

        Array.Clear(state);
        return keys;
    }

    public void Dispose()
    {
        foreach ((uint _, SenderChain chain) in _own.Values)
        {
            chain.Dispose();
        }

        foreach ((uint _, ReceivingChains chains) in _received.Values)
        {
            chains.Dispose();
        }

        _own.Clear();
        _received.Clear();
    }

    private sealed record ChainRecord(Guid Conversation, uint Epoch, Guid? Sender, byte[] Key, uint Iteration);
}
