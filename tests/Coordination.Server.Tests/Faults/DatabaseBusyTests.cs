using System.Diagnostics;
using System.Globalization;
using System.Net;
using Coordination.Protocol;
using Coordination.Server.Tests.Durability;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Faults;

/// <summary>
/// Another process takes SQLite's write lock on the relay's file (an operator's sqlite3 shell, a
/// backup program, a migration) while people send. The relay waits for the lock (busy_timeout); what
/// it acknowledges is stored; what it cannot store in time is refused with a clear problem (503),
/// never a 500 and never silence; once the lock is gone it stores again by itself, and every
/// acknowledged send is delivered exactly once.
/// </summary>
public sealed class DatabaseBusyTests(ITestOutputHelper output) : IDisposable
{
    private const int Senders = 8;

    /// <summary>The relay's <c>PRAGMA busy_timeout</c> (SqlitePragmas.PerConnection).</summary>
    private static readonly TimeSpan s_busyTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", "faults-busy-" + Guid.NewGuid().ToString("N"));

    [SqliteFact]
    public async Task Sends_wait_for_a_write_lock_held_within_the_busy_timeout_and_all_succeed_once_it_is_released()
    {
        Outcome outcome = await HoldWriteLockWhileSendingAsync(TimeSpan.FromSeconds(3));

        Assert.True(outcome.Ledger.Failures.IsEmpty, $"sends failed although the lock was held for less than the busy timeout: {outcome.Ledger.DescribeFailures()}{Environment.NewLine}{outcome.ServerOutput}");
        Assert.True(outcome.LongestWait >= TimeSpan.FromSeconds(2), string.Create(CultureInfo.InvariantCulture,
            $"no send waited for the lock (longest send {outcome.LongestWait.TotalSeconds:0.0} s): the lock did not block the relay's writer, so this test proves nothing."));
    }

    [SqliteFact]
    public async Task A_write_lock_held_past_the_busy_timeout_gets_clear_answers_and_the_relay_recovers_by_itself()
    {
        Outcome outcome = await HoldWriteLockWhileSendingAsync(s_busyTimeout + TimeSpan.FromSeconds(2));

        Assert.True(outcome.LongestWait >= s_busyTimeout - TimeSpan.FromSeconds(1) || !outcome.Ledger.Failures.IsEmpty, string.Create(CultureInfo.InvariantCulture,
            $"no send waited for the lock (longest send {outcome.LongestWait.TotalSeconds:0.0} s) and none failed: the lock did not block the relay's writer."));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Starts the relay, lets Alice send to Bob, takes the write lock from a second connection for
    /// <paramref name="hold"/> while <see cref="Senders"/> senders keep sending, releases it, and
    /// checks what every send answered, that reads and /healthz were answered during the hold,
    /// that new sends succeed at once after it, and that Bob receives every acknowledged send
    /// exactly once (after Alice retried the ones without an answer, with the same message ids).
    /// </summary>
    private async Task<Outcome> HoldWriteLockWhileSendingAsync(TimeSpan hold)
    {
        string context = string.Create(CultureInfo.InvariantCulture, $"write lock held {hold.TotalSeconds:0} s");
        TimeSpan sendTimeout = hold + TimeSpan.FromSeconds(15);
        Directory.CreateDirectory(_dataDirectory);
        using ServerProcess server = await ServerProcess.StartAsync(_dataDirectory, s_startTimeout);
        using FaultPair pair = await FaultPair.SignUpAsync(server);
        SendLedger ledger = new();
        for (int i = 0; i < 10; i++)
        {
            SendFailure? failure = await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"before the lock {i}")), FaultPair.CallTimeout);
            Assert.True(failure is null, $"{context}: a send before the lock failed: {failure}{Environment.NewLine}{server.Output}");
        }

        string databasePath = Path.Combine(_dataDirectory, "coordination.db");
        Assert.True(File.Exists(databasePath), $"{context}: no database file at {databasePath}.");

        // The second connection: the write lock (BEGIN IMMEDIATE; in WAL mode BEGIN EXCLUSIVE is the same lock).
        SqliteConnection locker = new(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false, DefaultTimeout = 5 }.ToString());
        Stopwatch clock = Stopwatch.StartNew();
        TimeSpan releasedAt = TimeSpan.MaxValue;
        TimeSpan[] longestPerSender = new TimeSpan[Senders];
        int stop = 0;
        Task[] senders;
        try
        {
            locker.Open();
            using (SqliteCommand begin = locker.CreateCommand())
            {
                begin.CommandText = "PRAGMA busy_timeout=5000; BEGIN IMMEDIATE;";
                begin.ExecuteNonQuery();
            }

            TimeSpan lockedAt = clock.Elapsed;
            senders = [.. Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
            {
                for (int i = 0; Volatile.Read(ref stop) == 0; i++)
                {
                    Stopwatch one = Stopwatch.StartNew();
                    await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"sender {sender} message {i}")), sendTimeout);
                    longestPerSender[sender] = one.Elapsed > longestPerSender[sender] ? one.Elapsed : longestPerSender[sender];
                }
            }))];

            // While the lock is held, the relay still answers reads and /healthz (WAL: readers are not blocked by a writer).
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            HttpStatusCode? health = await Probes.HealthAsync(server, TimeSpan.FromSeconds(5));
            Assert.True(health is not null, $"{context}: /healthz did not answer within 5 s while the lock was held.{Environment.NewLine}{server.Output}");
            InboxPage page = await pair.BobApi.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(page.Envelopes.Count >= 10, string.Create(CultureInfo.InvariantCulture,
                $"{context}: Bob's inbox showed {page.Envelopes.Count} envelopes while the lock was held; 10 were acknowledged before it."));

            TimeSpan remaining = hold - (clock.Elapsed - lockedAt);
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining);
            }

            Assert.True(!senders.Any(t => t.IsFaulted), $"{context}: a sender failed while the lock was held.{Environment.NewLine}{server.Output}");
            using (SqliteCommand rollback = locker.CreateCommand())
            {
                rollback.CommandText = "ROLLBACK;";
                rollback.ExecuteNonQuery();
            }

            releasedAt = clock.Elapsed;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{context}: lock taken at {lockedAt.TotalSeconds:0.0} s, released at {releasedAt.TotalSeconds:0.0} s; /healthz answered {(int?)health} during the hold; {ledger.Acknowledged.Count} acknowledged so far"));
        }
        finally
        {
            locker.Dispose();
        }

        // After the release: every sender goes on for two more seconds; then they stop and finish what is in flight.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(senders).WaitAsync(sendTimeout + TimeSpan.FromSeconds(10));
        Assert.False(server.HasExited, $"{context}: the server exited.{Environment.NewLine}{server.Output}");

        int acknowledgedBeforeRetry = ledger.Acknowledged.Count;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{context}: {ledger.Attempted.Count} attempted, {acknowledgedBeforeRetry} acknowledged; longest send {longestPerSender.Max().TotalSeconds:0.0} s; failures: {ledger.DescribeFailures()}"));

        IReadOnlyList<SendFailure> unclear = ledger.Unclear;
        Assert.True(unclear.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{context}: {unclear.Count} sends ended without a clear answer (a 503 problem with a detail): {ledger.DescribeFailures()}{Environment.NewLine}{server.Output}"));

        // The relay stores again by itself: a new send is acknowledged at once.
        SendFailure? after = await ledger.SendAsync(pair.AliceApi, pair.Envelope("after the lock"), TimeSpan.FromSeconds(5));
        Assert.True(after is null, $"{context}: a send after the lock was released failed: {after}{Environment.NewLine}{server.Output}");

        int unanswered = ledger.Attempted.Count - ledger.Acknowledged.Count;
        int duplicates = await ledger.RetryUnansweredAsync(pair.AliceApi, FaultPair.CallTimeout, context, server);
        List<EnvelopeDelivery> delivered = await pair.DrainBobAsync(context);
        ledger.Verify(delivered, pair.Conversation, everyAttemptRetried: true, context, server);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{context}: {unanswered} unanswered sends retried ({duplicates} had been stored); {delivered.Count} delivered to Bob exactly once"));
        return new Outcome(ledger, longestPerSender.Max(), server.Output);
    }

    private sealed record Outcome(SendLedger Ledger, TimeSpan LongestWait, string ServerOutput);
}
