using Coordination.Server.Hosting;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Intake;

/// <summary>
/// Deletes reports and replies whose <c>ExpiresAt</c> has passed (a report takes its replies with
/// it), forgets idle bot conversations and expired proof-of-work challenges. Runs every
/// <see cref="RelayOptions.SweepInterval"/> on the relay's <see cref="TimeProvider"/>;
/// <see cref="PeriodicSweep.SweepAsync"/> runs it at once.
/// </summary>
public sealed partial class IntakeExpiry(
    IServiceScopeFactory scopes, RelayOptions options, TimeProvider clock, BotConversations conversations, PowChallenges challenges, ILogger<IntakeExpiry> logger)
    : PeriodicSweep(options.SweepInterval, clock, logger)
{
    private int _checkpointWanted;

    /// <summary>Asks the next sweep to checkpoint the WAL, so deleted ciphertext does not linger in the -wal file.</summary>
    public void RequestCheckpoint() => Interlocked.Exchange(ref _checkpointWanted, 1);

    /// <summary>Deletes what has expired now; returns how many reports and replies went. Sweeps never overlap.</summary>
    protected override async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        conversations.PurgeIdle();
        challenges.PurgeExpired();
        long now = Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using AsyncServiceScope scope = scopes.CreateAsyncScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        int replies = await db.Set<IntakeReply>().Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        int reports = await db.Set<IntakeReport>().Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        bool wanted = Interlocked.Exchange(ref _checkpointWanted, 0) == 1;
        if ((reports + replies > 0 || wanted) && db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", ct);
        }

        if (reports + replies > 0)
        {
            LogSwept(Logger, reports, replies);
        }

        return reports + replies;
    }



    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Reports} expired intake reports and {Replies} expired replies.")]
    private static partial void LogSwept(ILogger logger, int reports, int replies);

}
