using System.Text.Json;
using Coordination.Client.Messaging;

namespace Coordination.Client.Cells;

/// <summary>What this device knows about one cell: its key, its identity and how far it has seen its log.</summary>
/// <param name="CellKey">32 bytes; seals the cell's name and description and members' display names.</param>
/// <param name="GenesisTag">The first 16 bytes of the genesis hash (from the invite code, or from creating the cell).</param>
/// <param name="KnownLength">How many log entries this device has verified; the log may only grow.</param>
/// <param name="KnownHead">The hash of the last verified entry; the log must still contain it.</param>
/// <param name="AnnouncementsId">A cell's announcements conversation, as this device learned it when it created or joined the cell.</param>
public sealed record CellKeyringEntry(byte[] CellKey, byte[] GenesisTag, long KnownLength, byte[] KnownHead, Guid? AnnouncementsId = null);

/// <summary>
/// The device's cell keys and log checkpoints, kept encrypted in the local store
/// (<c>messages/cells.enc</c>). A checkpoint lets the device notice a relay that drops entries
/// from the end of a log (a removal, say) after the device has seen them.
/// </summary>
public sealed class CellKeyring
{
    private const string RecordName = "cells";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly LocalMessageStore _store;
    private readonly Dictionary<Guid, CellKeyringEntry> _entries;
    private readonly Lock _gate = new();

    public CellKeyring(LocalMessageStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        byte[]? saved = store.LoadRecord(RecordName);
        _entries = saved is null ? [] : JsonSerializer.Deserialize<Dictionary<Guid, CellKeyringEntry>>(saved, s_json) ?? [];
        if (saved is not null)
        {
            Array.Clear(saved);
        }
    }

    public CellKeyringEntry? Get(Guid cellId)
    {
        lock (_gate)
        {
            return _entries.GetValueOrDefault(cellId);
        }
    }

    /// <summary>The cell whose announcements conversation is <paramref name="conversationId"/>, if this device knows one.</summary>
    public Guid? CellOfAnnouncements(Guid conversationId)
    {
        lock (_gate)
        {
            foreach ((Guid cellId, CellKeyringEntry entry) in _entries)
            {
                if (entry.AnnouncementsId == conversationId)
                {
                    return cellId;
                }
            }

            return null;
        }
    }

    public void Set(Guid cellId, CellKeyringEntry entry)
    {
        lock (_gate)
        {
            _entries[cellId] = entry;
            _store.SaveRecord(RecordName, JsonSerializer.SerializeToUtf8Bytes(_entries, s_json));
        }
    }
}
