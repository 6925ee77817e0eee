using System.Diagnostics;
using System.Globalization;
using System.Net;
using Coordination.Protocol;
using Coordination.Server.Tests.Durability;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Faults;

/// <summary>
/// The relay's disk fills up (SQLite answers SQLITE_FULL). The relay must refuse sends with a
/// clear problem (503 or 507 with a detail, never a 500), stay up and keep answering /healthz and
/// reads, keep everything it acknowledged, and store again by itself once space is freed, without
/// a restart. A restart afterwards finds every acknowledged send.
/// The data directory is a small tmpfs of its own; a filler file takes most of it, so the relay's
/// own writes fill the rest quickly, and deleting the filler frees the space again.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private const int Senders = 4;
    private const int RefusalsWanted = 12;

    /// <summary>Ciphertext per send: the 16 KiB bucket, so the disk fills after a few dozen sends.</summary>
    private const int EnvelopeSize = 15_000;

    /// <summary>What the filler leaves free for the relay.</summary>
    private const long Headroom = 1024 * 1024;

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_fillTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_recoveryTimeout = TimeSpan.FromSeconds(15);

    [TmpfsFact]
    public async Task A_full_disk_gets_clear_refusals_keeps_what_was_acknowledged_and_the_relay_recovers_by_itself_once_space_is_freed()
    {
        using SmallTmpfs disk = SmallTmpfs.Mount("8m");
        string dataDirectory = Path.Combine(disk.Path, "data");
        string filler = Path.Combine(disk.Path, "filler");
        Stopwatch total = Stopwatch.StartNew();
        ServerProcess server = await ServerProcess.StartAsync(dataDirectory, s_startTimeout);
        try
        {
            using FaultPair pair = await FaultPair.SignUpAsync(server);
            SendLedger ledger = new();
            string context = "before the disk is full";
            for (int i = 0; i < 20; i++)
            {
                SendFailure? failure = await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"before {i}"), EnvelopeSize), FaultPair.CallTimeout);
                Assert.True(failure is null, $"{context}: a send failed with space to spare: {failure}{Environment.NewLine}{server.Output}");
            }

            // Take all but Headroom of the tmpfs, then send until the relay refuses.
            long fillerBytes = FillUpTo(disk.Path, filler, Headroom);
            context = "the disk is full";
            int acknowledgedBeforeFull = ledger.Acknowledged.Count;
            Stopwatch filling = Stopwatch.StartNew();
            Task[] senders = [.. Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
            {
                for (int i = 0; ledger.Failures.Count < RefusalsWanted && filling.Elapsed < s_fillTimeout; i++)
                {
                    if (await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"filling: sender {sender} message {i}"), EnvelopeSize), FaultPair.CallTimeout) is not null)
                    {
                        await Task.Delay(50);
                    }
                }
            }))];
            await Task.WhenAll(senders).WaitAsync(s_fillTimeout + FaultPair.CallTimeout);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"filler {fillerBytes / 1024} KiB; {ledger.Acknowledged.Count - acknowledgedBeforeFull} more sends acknowledged before the disk was full, " +
                $"then {ledger.Failures.Count} refused in {filling.Elapsed.TotalSeconds:0.0} s: {ledger.DescribeFailures()}"));

            Assert.True(ledger.Failures.Count >= RefusalsWanted, string.Create(CultureInfo.InvariantCulture,
                $"{context}: only {ledger.Failures.Count} sends were refused in {s_fillTimeout.TotalSeconds:0} s with {Headroom / 1024} KiB left: the disk did not fill, so this test proves nothing.{Environment.NewLine}{server.Output}"));
            Assert.False(server.HasExited, $"{context}: the server exited.{Environment.NewLine}{server.Output}");
            IReadOnlyList<SendFailure> unclear = ledger.Unclear;
            Assert.True(unclear.Count == 0, string.Create(CultureInfo.InvariantCulture,
                $"{context}: {unclear.Count} of {ledger.Failures.Count} refusals were not a clear problem (503 or 507 with a detail): {ledger.DescribeFailures()}{Environment.NewLine}{server.Output}"));

            // Still up: /healthz answers (degraded is fine) and Bob can read what was acknowledged.
            HttpStatusCode? health = await Probes.HealthAsync(server, TimeSpan.FromSeconds(5));
            Assert.True(health is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, string.Create(CultureInfo.InvariantCulture,
                $"{context}: /healthz answered {(health is { } status ? ((int)status).ToString(CultureInfo.InvariantCulture) : "nothing within 5 s")}.{Environment.NewLine}{server.Output}"));
            InboxPage page = await pair.BobApi.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(FaultPair.CallTimeout);
            Assert.True(page.Envelopes.Count >= Math.Min(ledger.Acknowledged.Count, Limits.MaxFetchPageSize), string.Create(CultureInfo.InvariantCulture,
                $"{context}: Bob's inbox shows {page.Envelopes.Count} envelopes; {ledger.Acknowledged.Count} were acknowledged.{Environment.NewLine}{server.Output}"));

            // Space comes back; the relay stores again without a restart.
            File.Delete(filler);
            context = "after the space was freed";
            Stopwatch recovering = Stopwatch.StartNew();
            int attempts = 0;
            while (await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"after the space was freed {attempts++}"), EnvelopeSize), FaultPair.CallTimeout) is not null)
            {
                Assert.True(recovering.Elapsed < s_recoveryTimeout, string.Create(CultureInfo.InvariantCulture,
                    $"{context}: sends still fail {recovering.Elapsed.TotalSeconds:0} s after the space was freed: {ledger.DescribeFailures()}{Environment.NewLine}{server.Output}"));
                await Task.Delay(200);
            }

            TimeSpan recoveredAfter = recovering.Elapsed;
            for (int i = 0; i < 10; i++)
            {
                SendFailure? failure = await ledger.SendAsync(pair.AliceApi, pair.Envelope(string.Create(CultureInfo.InvariantCulture, $"recovered {i}"), EnvelopeSize), FaultPair.CallTimeout);
                Assert.True(failure is null, $"{context}: a send failed after the relay had stored again: {failure}{Environment.NewLine}{server.Output}");
            }

            await Probes.UntilHealthyAsync(server, s_recoveryTimeout, context);
            int unanswered = ledger.Attempted.Count - ledger.Acknowledged.Count;
            int duplicates = await ledger.RetryUnansweredAsync(pair.AliceApi, FaultPair.CallTimeout, context, server);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stored again {recoveredAfter.TotalMilliseconds:0} ms after the space was freed ({attempts} attempts); {unanswered} refused sends retried with their ids ({duplicates} had been stored after all)"));

            // A restart on the same data finds everything acknowledged, exactly once.
            context = "after a restart";
            IReadOnlyList<string> warningsBeforeRestart = Probes.Warnings(server);
            await server.KillAsync(FaultPair.CallTimeout);
            server.Dispose();
            server = await ServerProcess.StartAsync(dataDirectory, s_startTimeout);
            await pair.LogInAgainAsync(server);
            List<EnvelopeDelivery> delivered = await pair.DrainBobAsync(context);
            ledger.Verify(delivered, pair.Conversation, everyAttemptRetried: true, context, server);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"after the restart Bob received all {delivered.Count} sends exactly once; {total.Elapsed.TotalSeconds:0.0} s in all"));
            foreach (string line in warningsBeforeRestart.Take(20))
            {
                output.WriteLine($"server: {line}");
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    /// <summary>Writes <paramref name="filler"/> until <paramref name="mountPoint"/> has about <paramref name="headroom"/> bytes free; returns its size.</summary>
    private static long FillUpTo(string mountPoint, string filler, long headroom)
    {
        long size = new DriveInfo(mountPoint).AvailableFreeSpace - headroom;
        Assert.True(size > 0, string.Create(CultureInfo.InvariantCulture, $"the tmpfs has only {new DriveInfo(mountPoint).AvailableFreeSpace} bytes free before the filler."));
        byte[] block = new byte[64 * 1024];
        Random.Shared.NextBytes(block);
        using FileStream stream = new(filler, FileMode.CreateNew, FileAccess.Write);
        long written = 0;
        while (written < size)
        {
            int count = (int)Math.Min(block.Length, size - written);
            stream.Write(block, 0, count);
            written += count;
        }

        stream.Flush(flushToDisk: true);
        return written;
    }
}
