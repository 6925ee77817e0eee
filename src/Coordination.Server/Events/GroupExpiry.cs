using Coordination.Protocol;
using Coordination.Server.Cells;
using Coordination.Server.Hosting;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Coordination.Server.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Events;

/// <summary>
/// Deletes GRAS groups whose end (<see cref="Cell.EndsAt"/>) has passed, with everything in them,
/// and expired invites and admission candidates of every cell. Runs every
/// <see cref="RelayOptions.SweepInterval"/>; <see cref="PeriodicSweep.SweepAsync"/> runs it at once.
/// </summary>
/// <remarks>
/// A group is deleted in one transaction: every participant leaves its conversations (the group's
/// own and its tasks' threads) through <see cref="ConversationMembership"/>, so their delivery
/// cursors go; the send receipts go; and the conversation rows go, which cascades to the cell, the
/// envelopes, the memberships, the log, the invites, candidates and vouches, the tasks, the events
/// and their answers. After the commit the conversation
/// directory forgets the group and open hub connections leave its live-delivery group, so nothing
/// more is accepted for it or pushed from it; members get 404 for it from then on.
/// </remarks>
public sealed partial class GroupExpiry(IServiceScopeFactory scopes, RelayOptions options, TimeProvider clock, ILogger<GroupExpiry> logger)
    : PeriodicSweep(options.SweepInterval, clock, logger)
{
    /// <summary>Groups deleted per sweep at most; the rest go in the next ones.</summary>
    private const int MaxGroupsPerSweep = 100;


    /// <summary>Deletes what has expired now; returns how many groups went. Sweeps never overlap.</summary>
    protected override async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        long now = Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using AsyncServiceScope scope = scopes.CreateAsyncScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        List<Cell> expired = await db.Set<Cell>().AsNoTracking()
            .Where(c => c.Kind == ConversationKind.GrasGroup && c.EndsAt != null && c.EndsAt <= now)
            .OrderBy(c => c.EndsAt).Take(MaxGroupsPerSweep).ToListAsync(ct);
        foreach (Cell group in expired)
        {
            await DeleteGroupAsync(db, scope.ServiceProvider.GetRequiredService<ConversationMembership>(), group, ct);
        }

        // An expired invite takes its candidates and their vouches with it (cascade).
        int invites = await db.Set<Invite>().Where(i => i.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        int candidates = await db.Set<AdmissionCandidate>().Where(a => a.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        if (expired.Count > 0)
        {
            await CheckpointAsync(db, ct);
        }

        if (expired.Count + invites + candidates > 0)
        {
            LogSwept(Logger, expired.Count, invites, candidates);
        }

        return expired.Count;
    }



    private static async Task DeleteGroupAsync(CoordinationDbContext db, ConversationMembership membership, Cell group, CancellationToken ct)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            try
            {
                // Every relay node sweeps; the group's lock makes one of them do it.
                await db.Database.LockAsync(group.Id, ct);
                // The group's own conversation, its announcements (cells only) and its tasks' threads.
                List<Guid> conversations = [group.Id, .. await db.Set<CellTask>().Where(t => t.CellId == group.Id).Select(t => t.ThreadId).ToListAsync(ct)];
                if (group.AnnouncementsId is { } announcements)
                {
                    conversations.Add(announcements);
                }

                foreach (Guid conversation in conversations)
                {
                    List<Guid> participants = await db.ConversationParticipants.Where(p => p.ConversationId == conversation).Select(p => p.AccountId).ToListAsync(ct);
                    foreach (Guid account in participants)
                    {
                        await membership.RemoveAsync(db, conversation, account, ct);
                    }
                }

                await db.SendReceipts.Where(r => conversations.Contains(r.ConversationId)).ExecuteDeleteAsync(ct);
                await db.Conversations.Where(c => conversations.Contains(c.Id)).ExecuteDeleteAsync(ct);
                await transaction.CommitAsync(ct);
            }
            catch
            {
                membership.Discard();
                throw;
            }
        }

        await membership.PublishAsync(ct);
    }

    /// <summary>Copies the WAL into the database and truncates it, so the deleted ciphertext does not linger in the -wal file.</summary>
    private static async Task CheckpointAsync(CoordinationDbContext db, CancellationToken ct)
    {
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Groups} GRAS groups whose end had passed, {Invites} expired invites and {Candidates} expired admission candidates.")]
    private static partial void LogSwept(ILogger logger, int groups, int invites, int candidates);

}
