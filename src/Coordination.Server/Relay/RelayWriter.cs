using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Coordination.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Hosting;
using Coordination.Server.Operations;
using Coordination.Server.Persistence;
using Microsoft.Data.Sqlite;

namespace Coordination.Server.Relay;

/// <summary>
/// The relay's only writer on the hot path. Sends and acknowledgements from every connection queue
/// here; the writer takes whatever has queued up, commits it in one transaction (one fsync for the
/// whole batch: group commit), and only then acknowledges each sender and hands the envelopes to
/// live delivery. It also runs the sweeps that delete acknowledged and expired envelopes.
/// On PostgreSQL the same transaction tells the other relay nodes which envelopes it stored
/// (sequence numbers only), so they deliver them to their own connections.
/// When the host stops, the writer accepts nothing new but commits what is already queued.
/// </summary>
public sealed partial class RelayWriter : BackgroundService
{
    private readonly Channel<Operation> _queue = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<Guid> _dirtyConversations = [];
    private readonly StorageOptions _storage;
    private readonly DbDataSource _dataSource;
    private readonly NodeIdentity _node;
    private readonly RelayOptions _options;
    private readonly LiveDelivery _delivery;
    private readonly TimeProvider _clock;
    private readonly ILogger<RelayWriter> _logger;
    private readonly RelayMetrics _metrics;
    private Statements? _statements;
    private long _lastCheckpoint;
    private bool _pendingCheckpoint;

    // Operations queued and not yet taken by the writer (the single-reader channel cannot count them).
    private long _queued;

    public RelayWriter(StorageOptions storage, DbDataSource dataSource, NodeIdentity node, RelayOptions options, LiveDelivery delivery, TimeProvider clock, ILogger<RelayWriter> logger, RelayMetrics metrics)
    {
        _storage = storage;
        _dataSource = dataSource;
        _node = node;
        _options = options;
        _delivery = delivery;
        _clock = clock;
        _logger = logger;
        _metrics = metrics;
        metrics.ObserveWriterQueue(() => (int)Math.Max(0, Interlocked.Read(ref _queued)));
    }

    private abstract record Operation;

    private sealed record SendOperation(SendEnvelope Envelope, long ExpiresAt, string? SenderConnectionId) : Operation
    {
        public TaskCompletionSource<SendResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the send was queued (<see cref="Stopwatch"/> ticks), for the acknowledgement latency.</summary>
        public long QueuedAt { get; } = Stopwatch.GetTimestamp();
    }

    private sealed record AckOperation(Guid DeviceId, IReadOnlyList<Ack> Acks) : Operation
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record SweepOperation(IReadOnlyCollection<Guid> Conversations, bool Force) : Operation
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Stores the envelope; completes once it is durable (or was already stored).</summary>
    public Task<SendResult> SendAsync(SendEnvelope envelope, long expiresAt, string? senderConnectionId)
    {
        SendOperation operation = new(envelope, expiresAt, senderConnectionId);
        Enqueue(operation);
        return operation.Done.Task;
    }

    /// <summary>Moves the device's cursors forward; completes once durable.</summary>
    public Task AckAsync(Guid deviceId, IReadOnlyList<Ack> acks)
    {
        AckOperation operation = new(deviceId, acks);
        Enqueue(operation);
        return operation.Done.Task;
    }

    /// <summary>Deletes what is acknowledged by every device in <paramref name="conversations"/> and everything expired; returns how many envelopes went.</summary>
    public Task<int> SweepAsync(IReadOnlyCollection<Guid>? conversations = null)
    {
        SweepOperation operation = new(conversations ?? [], Force: true);
        Enqueue(operation);
        return operation.Done.Task;
    }

    /// <summary>Stops taking new operations; <see cref="ExecuteAsync"/> then commits what is queued and ends.</summary>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using PeriodicTimer sweepTimer = new(_options.SweepInterval, _clock);
        Task sweeps = EnqueueSweepsAsync(sweepTimer, stoppingToken);
        DbConnection? connection = null;
        List<Operation> batch = new(_options.MaxBatch);
        try
        {
            // Not cancelled by stoppingToken: the loop ends when StopAsync has completed the queue and
            // everything in it is committed (graceful shutdown finishes in-flight durable writes).
            while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                batch.Clear();
                while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out Operation? operation))
                {
                    batch.Add(operation);
                }

                Interlocked.Add(ref _queued, -batch.Count);
                long started = Stopwatch.GetTimestamp();
                connection = await CommitWithRetriesAsync(connection, batch, stoppingToken);
                _metrics.BatchCommitted(batch.Count, Stopwatch.GetElapsedTime(started));
            }
        }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out Operation? pending))
            {
                Interlocked.Decrement(ref _queued);
                Fail(pending, new OperationCanceledException("The relay is shutting down."));
            }

            _statements?.Dispose();
            _statements = null;
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            await sweeps.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Commits the batch. When the database connection itself fails (a PostgreSQL restart, a
    /// network cut), reconnects and commits the same batch again, a bounded number of times: every
    /// operation is idempotent (a send is recognised by its receipt, a cursor only moves forward), so
    /// a commit whose answer was lost is not applied twice. Other failures are not retried here.
    /// </summary>
    private async Task<DbConnection?> CommitWithRetriesAsync(DbConnection? connection, List<Operation> batch, CancellationToken stoppingToken)
    {
        const int attempts = 8;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                connection ??= await OpenAsync();
                Commit(connection, batch);
                return connection;
            }
            catch (Exception ex) when (IsConnectionFailure(ex, connection) && attempt < attempts)
            {
                LogConnectionLost(_logger, attempt);
                _metrics.DatabaseRetried();
                _statements?.Dispose();
                _statements = null;
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                    connection = null;
                }

                // 50 ms, 100 ms, ... 3.2 s: about six seconds in all. During shutdown, no waiting.
                if (!stoppingToken.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50 << Math.Min(attempt - 1, 6)), CancellationToken.None);
                }
            }
            catch (Exception ex)
            {
                foreach (Operation operation in batch)
                {
                    Fail(operation, ex);
                }

                if (connection is { State: not ConnectionState.Open })
                {
                    _statements?.Dispose();
                    _statements = null;
                    await connection.DisposeAsync();
                    connection = null;
                }

                return connection;
            }
        }
    }

    private async Task<DbConnection> OpenAsync()
    {
        DbConnection connection = await _dataSource.OpenConnectionAsync();
        if (connection is SqliteConnection sqlite)
        {
            SqlitePragmas.Apply(sqlite);
        }

        return connection;
    }

    private static bool IsConnectionFailure(Exception ex, DbConnection? connection) =>
        connection is null or { State: not ConnectionState.Open }
        || ex is Npgsql.NpgsqlException { IsTransient: true };

    private void Enqueue(Operation operation)
    {
        if (!TryQueue(operation))
        {
            Fail(operation, new OperationCanceledException("The relay is shutting down."));
        }
    }

    private bool TryQueue(Operation operation)
    {
        Interlocked.Increment(ref _queued);
        if (_queue.Writer.TryWrite(operation))
        {
            return true;
        }

        Interlocked.Decrement(ref _queued);
        return false;
    }

    private async Task EnqueueSweepsAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                TryQueue(new SweepOperation([], Force: false));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Commits the batch in one transaction. If the transaction fails, every operation is retried on
    /// its own so one bad operation cannot fail the others.
    /// </summary>
    private void Commit(DbConnection connection, List<Operation> batch)
    {
        List<Action> onCommit = new(batch.Count);
        List<Action> afterCheckpoint = [];
        List<long> stored = [];
        try
        {
            using DbTransaction transaction = connection.BeginTransaction();
            _statements ??= new Statements(connection, _storage.IsPostgres);
            Statements statements = _statements;
            statements.Use(transaction);
            if (batch.Exists(o => o is SendOperation))
            {
                statements.LockSequence();
            }

            foreach (Operation operation in batch)
            {
                Apply(statements, operation, operation is SweepOperation ? afterCheckpoint : onCommit, stored);
            }

            foreach (string payload in RelaySignal.EnvelopesStoredPayloads(_node.Id, stored))
            {
                statements.Notify(RelaySignal.Channel, payload);
            }

            transaction.Commit();
        }
        // One operation may be at fault (a constraint): commit the others one by one. Not when the
        // storage itself is at fault (busy, locked, full): every operation would wait and fail again.
        catch (DbException ex) when (batch.Count > 1 && connection.State == ConnectionState.Open && !StorageFaults.IsStorageFault(ex))
        {
            LogBatchFailed(_logger, batch.Count, StorageFaults.Code(ex));
            _metrics.BatchRetried();
            foreach (Operation operation in batch)
            {
                Commit(connection, [operation]);
            }

            return;
        }
        catch (Exception ex) when (!IsConnectionFailure(ex, connection))
        {
            // Not the connection: this operation itself cannot be stored; its sender hears so.
            foreach (Operation operation in batch)
            {
                Fail(operation, ex);
            }

            return;
        }

        // Senders first; a sweep completes only after the checkpoint, so whoever awaits it knows
        // the deleted ciphertext has left the -wal file as well.
        foreach (Action completion in onCommit)
        {
            completion();
        }

        CheckpointIfDeleted(connection, batch);
        foreach (Action completion in afterCheckpoint)
        {
            completion();
        }
    }

    private void Apply(Statements statements, Operation operation, List<Action> onCommit, List<long> stored)
    {
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        switch (operation)
        {
            case SendOperation send:
            {
                SendEnvelope envelope = send.Envelope;
                (long Seq, long ExpiresAt)? earlier = statements.FindReceipt(envelope.ConversationId, envelope.MessageId);
                if (earlier is { } first)
                {
                    SendResult duplicate = new(envelope.MessageId, first.Seq, first.ExpiresAt, Duplicate: true);
                    onCommit.Add(() =>
                    {
                        send.Done.TrySetResult(duplicate);
                        _metrics.SendDurable(Stopwatch.GetElapsedTime(send.QueuedAt));
                    });
                    break;
                }

                long seq = statements.InsertEnvelope(envelope.ConversationId, envelope.MessageId, envelope.Ciphertext, send.ExpiresAt);
                // The receipt outlives the envelope (or lasts SendReceiptLifetime, whichever is
                // longer), so a retry is recognised for as long as the message could be stored.
                long receiptExpiresAt = Math.Max(send.ExpiresAt, now + (long)_options.SendReceiptLifetime.TotalMilliseconds);
                statements.InsertReceipt(envelope.ConversationId, envelope.MessageId, seq, send.ExpiresAt, receiptExpiresAt);
                stored.Add(seq);
                SendResult result = new(envelope.MessageId, seq, send.ExpiresAt, Duplicate: false);
                EnvelopeDelivery delivery = new(envelope.ConversationId, seq, envelope.MessageId, envelope.Ciphertext, send.ExpiresAt);
                onCommit.Add(() =>
                {
                    send.Done.TrySetResult(result);
                    _metrics.SendDurable(Stopwatch.GetElapsedTime(send.QueuedAt));
                    _delivery.Enqueue(delivery, send.SenderConnectionId);
                });
                break;
            }

            case AckOperation ack:
            {
                foreach (Ack item in ack.Acks)
                {
                    if (statements.Advance(ack.DeviceId, item.ConversationId, item.Seq))
                    {
                        _dirtyConversations.Add(item.ConversationId);
                    }
                }

                onCommit.Add(() =>
                {
                    ack.Done.TrySetResult();
                    _metrics.AcksDurable(ack.Acks.Count);
                });
                break;
            }

            case SweepOperation sweep:
            {
                foreach (Guid conversation in sweep.Conversations)
                {
                    _dirtyConversations.Add(conversation);
                }

                int deleted = 0;
                foreach (Guid conversation in _dirtyConversations)
                {
                    deleted += statements.DeleteAcknowledged(conversation);
                }

                _dirtyConversations.Clear();
                deleted += statements.DeleteExpired(now);
                if (deleted > 0)
                {
                    _pendingCheckpoint = true;
                }

                onCommit.Add(() =>
                {
                    _metrics.EnvelopesDeleted(deleted);
                    sweep.Done.TrySetResult(deleted);
                });
                break;
            }

            default:
                throw new InvalidOperationException($"Unknown relay operation {operation.GetType().Name}.");
        }
    }

    /// <summary>
    /// After deletions, copy the WAL into the database file and truncate it, so deleted ciphertext
    /// does not linger in the -wal file (secure_delete has already zeroed it in the pages).
    /// </summary>
    private void CheckpointIfDeleted(DbConnection connection, List<Operation> batch)
    {
        bool forced = batch.Exists(o => o is SweepOperation { Force: true });
        long now = Environment.TickCount64;
        if (connection is not SqliteConnection sqlite || !_pendingCheckpoint || (!forced && now - _lastCheckpoint < 1000))
        {
            return;
        }

        try
        {
            using SqliteCommand command = sqlite.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            using SqliteDataReader reader = command.ExecuteReader();
            bool busy = reader.Read() && reader.GetInt32(0) != 0;
            _pendingCheckpoint = busy;
            _lastCheckpoint = now;
        }
        catch (SqliteException ex)
        {
            LogCheckpointFailed(_logger, ex.SqliteErrorCode);
        }
    }

    private static void Fail(Operation operation, Exception error)
    {
        switch (operation)
        {
            case SendOperation send:
                send.Done.TrySetException(error);
                break;
            case AckOperation ack:
                ack.Done.TrySetException(error);
                break;
            case SweepOperation sweep:
                sweep.Done.TrySetException(error);
                break;
            default:
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The relay's database connection failed (attempt {Attempt}); reconnecting and committing the batch again.")]
    private static partial void LogConnectionLost(ILogger logger, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A relay batch of {Count} operations failed ({Code}); retrying one by one.")]
    private static partial void LogBatchFailed(ILogger logger, int count, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL checkpoint failed (SQLite error {Code}).")]
    private static partial void LogCheckpointFailed(ILogger logger, int code);
}
