using System.Diagnostics;
using Coordination.Client.Hub;
using Coordination.Protocol;
using Microsoft.Data.Sqlite;

namespace Coordination.Benchmarks;

/// <summary>(f): a backlog queued for an offline device, then drained by it; against raw SQLite reading the same rows.</summary>
internal sealed record DrainScenario(
    string Name,
    int Envelopes,
    int CiphertextBytes,
    int PageSize,
    double QueueSeconds,
    double QueuedPerSecond,
    long QueueErrors,
    string? FirstQueueError,
    double DrainSeconds,
    double DrainedPerSecond,
    long Drained,
    int Pages,
    LatencySummary PageLatency,
    ResourceUsage DrainResources,
    double BaselineSeconds,
    double BaselineRowsPerSecond,
    long BaselineRows,
    LatencySummary BaselinePageLatency);

/// <summary>
/// (f) Store and forward: one device sends <c>--drain-envelopes</c> envelopes (1,024-byte bucket) to a
/// direct conversation whose other device is offline, through the hub's normal <c>Send</c> (8
/// connections, 16 in flight each). Then raw SQLite pages through the same rows on the relay's own
/// database file (the baseline), and then the offline device connects its hub and drains its inbox as the
/// SDK's MessagingClient does, over REST: fetch 500, acknowledge the last sequence number, until nothing
/// more is left. (Not over the hub's <c>Fetch</c>: a page of 500 1 KiB envelopes is about 700 KB of JSON,
/// above the SDK hub client's 256 KiB message limit, and the connection is closed.)
/// </summary>
internal static class StoreAndForward
{
    private const int SenderConnections = 8;
    private const int InFlightPerConnection = 16;

    public static async Task<DrainScenario> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        int total = options.DrainEnvelopes;
        int pageSize = Limits.MaxFetchPageSize;
        string dataDirectory = Path.Combine(options.DataRoot, "relay-drain");
        await using RelayHost relay = new(dataDirectory, options.SingletonDbContextOptions);
        Uri server = relay.ServerAddress;
        Uri hubUrl = new(server, RelayHubContract.Path);
        Progress.Say($"(f) relay at {server}; queueing {total:N0} envelopes for an offline device");
        BenchDevice[] devices = await BenchDevice.CreateManyAsync(server, 2, ct);
        HubConnection[] senders = [];
        HubConnection? receiver = null;
        try
        {
            Guid conversation = (await devices[0].Api.OpenDirectConversationAsync(devices[1].AccountId, ct)).ConversationId;
            senders = await HubClients.ConnectAllAsync(hubUrl, [.. Enumerable.Repeat<string?>(devices[0].Api.Token, SenderConnections)], (_, _) => { }, ct);
            byte[][] pool = Payloads.RelayCiphertexts(256);

            // Queue: as fast as the normal send path takes them, every send acknowledged once durable.
            long next = 0;
            ErrorLog errors = new();
            long queueStarted = Stopwatch.GetTimestamp();
            using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(Math.Max(120, total / 500.0)));
            await Task.WhenAll(senders.SelectMany(hub => Enumerable.Range(0, InFlightPerConnection).Select(_ => Task.Run(async () =>
            {
                while (!limit.IsCancellationRequested)
                {
                    long id = Interlocked.Increment(ref next);
                    if (id > total)
                    {
                        return;
                    }

                    try
                    {
                        await hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [Payloads.Envelope(conversation, id, pool)], limit.Token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        errors.Add(ex);
                    }
                }
            }, CancellationToken.None))));
            ct.ThrowIfCancellationRequested();
            double queueSeconds = Stopwatch.GetElapsedTime(queueStarted).TotalSeconds;
            long queued = Math.Min(total, Interlocked.Read(ref next)) - errors.Count;
            Progress.Say(FormattableString.Invariant($"(f) queued {queued:N0} in {queueSeconds:F1} s ({errors.Count} errors)"));
            await HubClients.DisposeAllAsync(senders);
            senders = [];

            Progress.Say($"(f) baseline: raw SQLite SELECT of the same rows, {pageSize} per page");
            (double baselineSeconds, long baselineRows, LatencySummary baselinePages) = ReadRawPages(Path.Combine(dataDirectory, "coordination.db"), pageSize);

            Progress.Say($"(f) the offline device connects and drains its inbox, {pageSize} per page");
            receiver = await HubConnection.ConnectAsync(hubUrl, devices[1].Api.Token, HubClients.Options(), _ => { }, ct);
            LatencyHistogram pageLatency = new();
            long drained = 0;
            int pages = 0;
            ResourceSnapshot before = ResourceSnapshot.Take();
            long drainStarted = Stopwatch.GetTimestamp();
            using CancellationTokenSource drainLimit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            drainLimit.CancelAfter(TimeSpan.FromSeconds(Math.Max(120, total / 500.0)));
            while (true)
            {
                long pageStarted = Stopwatch.GetTimestamp();
                InboxPage page = await devices[1].Api.FetchAsync(pageSize, drainLimit.Token);
                if (page.Envelopes.Count > 0)
                {
                    EnvelopeDelivery last = page.Envelopes[^1];
                    await devices[1].Api.AckAsync([new Ack(last.ConversationId, last.Seq)], drainLimit.Token);
                }

                pageLatency.RecordElapsed(pageStarted, Stopwatch.GetTimestamp());
                drained += page.Envelopes.Count;
                pages++;
                if (!page.More || page.Envelopes.Count == 0)
                {
                    break;
                }
            }

            double drainSeconds = Stopwatch.GetElapsedTime(drainStarted).TotalSeconds;
            ResourceUsage resources = before.Until(ResourceSnapshot.Take());
            Progress.Say(FormattableString.Invariant($"(f) drained {drained:N0} in {drainSeconds:F2} s, {pages} pages"));
            return new DrainScenario(
                "(f) Store-and-forward drain", total, Payloads.RelayCiphertextBytes, pageSize,
                Math.Round(queueSeconds, 2), Math.Round(queued / queueSeconds), errors.Count, errors.First,
                Math.Round(drainSeconds, 3), Math.Round(drained / drainSeconds), drained, pages, pageLatency.Summarize(), resources,
                Math.Round(baselineSeconds, 3), Math.Round(baselineRows / baselineSeconds), baselineRows, baselinePages);
        }
        finally
        {
            if (receiver is not null)
            {
                await HubClients.DisposeAllAsync([receiver]);
            }

            await HubClients.DisposeAllAsync(senders);
            BenchDevice.DisposeAll(devices);
        }
    }

    /// <summary>Reads every envelope row of the relay's database file in pages by sequence number, all columns, on one connection.</summary>
    private static (double Seconds, long Rows, LatencySummary Pages) ReadRawPages(string databasePath, int pageSize)
    {
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString();
        using SqliteConnection connection = new(connectionString);
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT Seq, ConversationId, MessageId, Ciphertext, ExpiresAt FROM Envelopes WHERE Seq > $after ORDER BY Seq LIMIT $limit";
        SqliteParameter after = command.Parameters.Add("$after", SqliteType.Integer);
        command.Parameters.AddWithValue("$limit", pageSize);
        LatencyHistogram pages = new();
        long rows = 0;
        long last = 0;
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            long pageStarted = Stopwatch.GetTimestamp();
            after.Value = last;
            int count = 0;
            using (SqliteDataReader reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    last = reader.GetInt64(0);
                    _ = reader.GetString(1);
                    _ = reader.GetString(2);
                    _ = (byte[])reader.GetValue(3);
                    _ = reader.GetInt64(4);
                    count++;
                }
            }

            pages.RecordElapsed(pageStarted, Stopwatch.GetTimestamp());
            rows += count;
            if (count < pageSize)
            {
                break;
            }
        }

        return (Stopwatch.GetElapsedTime(started).TotalSeconds, rows, pages.Summarize());
    }
}
