using System.Collections.Concurrent;
using Coordination.Protocol;
using Coordination.Server.Cells;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Relay;

/// <summary>
/// Who takes part in a conversation, cached in memory so a send does not query the database for
/// it. Every change to participants calls <see cref="Invalidate"/>.
/// </summary>
public sealed class ConversationDirectory(IServiceScopeFactory scopes)
{
    private const int MaxCached = 100_000;

    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    /// <param name="Writers">Who may send, when not every participant may (a cell's announcements: its organizers).</param>
    public sealed record Entry(Guid ConversationId, ConversationKind Kind, int Epoch, IReadOnlySet<Guid> Participants, IReadOnlySet<Guid>? Writers);

    /// <summary>The conversation if <paramref name="accountId"/> takes part in it; null otherwise (also when it does not exist).</summary>
    public async ValueTask<Entry?> ForParticipantAsync(Guid conversationId, Guid accountId, CancellationToken ct)
    {
        Entry? entry = await GetAsync(conversationId, ct);
        return entry is not null && entry.Participants.Contains(accountId) ? entry : null;
    }

    /// <summary>Forgets everything cached (after this node may have missed another node's changes).</summary>
    public void Clear() => _entries.Clear();

    public async ValueTask<Entry?> GetAsync(Guid conversationId, CancellationToken ct)
    {
        if (_entries.TryGetValue(conversationId, out Entry? cached))
        {
            return cached;
        }

        await using AsyncServiceScope scope = scopes.CreateAsyncScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        Conversation? conversation = await db.Conversations.AsNoTracking().FirstOrDefaultAsync(c => c.Id == conversationId, ct);
        if (conversation is null)
        {
            return null;
        }

        List<Guid> participants = await db.ConversationParticipants.AsNoTracking()
            .Where(p => p.ConversationId == conversationId).Select(p => p.AccountId).ToListAsync(ct);
        HashSet<Guid>? writers = null;
        if (conversation.Kind == ConversationKind.Announcements)
        {
            writers = [.. await (
                from c in db.Set<Cell>()
                where c.AnnouncementsId == conversationId
                join m in db.Set<Membership>() on c.Id equals m.CellId
                where m.Role == MemberRole.Organizer
                select m.AccountId).ToListAsync(ct)];
        }

        Entry entry = new(conversationId, conversation.Kind, conversation.Epoch, participants.ToHashSet(), writers);
        if (_entries.Count >= MaxCached)
        {
            _entries.Clear();
        }

        _entries[conversationId] = entry;
        return entry;
    }

    public void Invalidate(Guid conversationId) => _entries.TryRemove(conversationId, out _);
}
