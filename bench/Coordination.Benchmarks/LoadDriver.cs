using System.Diagnostics;
using Coordination.Client.Hub;

namespace Coordination.Benchmarks;

/// <summary>Sends message number <paramref name="id"/> and completes when the server has acknowledged it.</summary>
internal delegate Task SendOne(long id, CancellationToken ct);

/// <summary>A closed-loop run: every sender keeps a fixed number of invocations in flight for as long as it can.</summary>
internal sealed record ClosedLoopPlan(
    IReadOnlyList<SendOne> Senders,
    int InFlightPerSender,
    Func<long> Deliveries,
    int FanOut,
    TimeSpan Ramp,
    TimeSpan Duration);

/// <summary>An open-loop run: sends are issued at a fixed rate from a pacing thread, whatever the completions do.</summary>
internal sealed record FixedRatePlan(
    IReadOnlyList<SendOne> Senders,
    double PerSecond,
    Func<long> Deliveries,
    int FanOut,
    TimeSpan Warmup,
    TimeSpan Duration,
    MessageClock? Clock);

internal sealed record ThroughputRun(
    double Seconds,
    int Senders,
    int InFlightPerSender,
    int FanOut,
    long Sends,
    double SendsPerSecond,
    long Deliveries,
    double DeliveriesPerSecond,
    LatencySummary SendLatency,
    long Errors,
    string? FirstError,
    double DeliveredAfterDrainPercent,
    ResourceUsage Resources)
{
    /// <summary>Process CPU time (server and clients together) per delivery, in microseconds.</summary>
    public double CpuMicrosPerDelivery => Deliveries == 0 ? 0 : Math.Round(Resources.CpuPercentOfMachine / 100 * Environment.ProcessorCount * 1e6 / DeliveriesPerSecond, 2);

    /// <summary>Process CPU time per acknowledged send, in microseconds.</summary>
    public double CpuMicrosPerSend => Sends == 0 ? 0 : Math.Round(Resources.CpuPercentOfMachine / 100 * Environment.ProcessorCount * 1e6 / SendsPerSecond, 2);
}

internal sealed record FixedRateRun(
    double OfferedPerSecond,
    double Seconds,
    long Sent,
    double AchievedPerSecond,
    long SkippedOverInFlightCap,
    long Errors,
    string? FirstError,
    LatencySummary SendLatency,
    LatencySummary? DeliveryLatency,
    double DeliveredAfterDrainPercent,
    ResourceUsage? Resources);

/// <summary>
/// Remembers when each message of a fixed-rate run was sent, so receivers can record send→receive
/// latency. Message ids are the driver's sequence numbers; receivers recover them from the payload.
/// With <paramref name="partitions"/>, each delivery is also recorded in the histogram of the
/// receivers' partition (for (d): the receivers on node A, and those on node B).
/// </summary>
internal sealed class MessageClock(int partitions = 0)
{
    private long[] _sentAt = [];
    private long _firstId;
    private volatile bool _active;

    public LatencyHistogram Latency { get; private set; } = new();

    /// <summary>One histogram per partition of the receivers, reset with <see cref="Latency"/>.</summary>
    public IReadOnlyList<LatencyHistogram> Partitions { get; private set; } = [.. Enumerable.Range(0, partitions).Select(_ => new LatencyHistogram())];

    public bool Active => _active;

    public void Begin(long firstId, int capacity)
    {
        _sentAt = new long[capacity];
        _firstId = firstId;
        Latency = new LatencyHistogram();
        Partitions = [.. Enumerable.Range(0, partitions).Select(_ => new LatencyHistogram())];
        _active = true;
    }

    public void End() => _active = false;

    public void Stamp(long id, long timestamp)
    {
        long index = id - _firstId;
        if ((ulong)index < (ulong)_sentAt.Length)
        {
            Volatile.Write(ref _sentAt[index], timestamp);
        }
    }

    public void Delivered(long id, long timestamp, int partition = -1)
    {
        if (!_active)
        {
            return;
        }

        long[] sentAt = _sentAt;
        long index = id - _firstId;
        if ((ulong)index < (ulong)sentAt.Length && Volatile.Read(ref sentAt[index]) is var sent and not 0)
        {
            Latency.RecordElapsed(sent, timestamp);
            if (partition >= 0)
            {
                Partitions[partition].RecordElapsed(sent, timestamp);
            }
        }
    }
}

/// <summary>Counts what one connection received; only its own handler loop writes it.</summary>
internal sealed class DeliveryCounter
{
    private long _count;

    public long Count => Volatile.Read(ref _count);

    public void Increment() => Volatile.Write(ref _count, _count + 1);

    public static Func<long> Total(IReadOnlyList<DeliveryCounter> counters) => () =>
    {
        long total = 0;
        foreach (DeliveryCounter counter in counters)
        {
            total += counter.Count;
        }

        return total;
    };
}

/// <summary>Failures seen by the load; the first message is kept for the report.</summary>
internal sealed class ErrorLog
{
    private long _count;
    private string? _first;

    public long Count => Interlocked.Read(ref _count);

    public string? First => Volatile.Read(ref _first);

    public void Add(Exception error)
    {
        Interlocked.Increment(ref _count);
        Interlocked.CompareExchange(ref _first, $"{error.GetType().Name}: {error.Message}", null);
    }
}

internal static class LoadDriver
{
    /// <summary>How long senders get to finish after a run before their invocations are abandoned.</summary>
    private static readonly TimeSpan _stopLimit = TimeSpan.FromSeconds(10);

    /// <summary>How long the driver waits for live deliveries to catch up after a run.</summary>
    private static readonly TimeSpan _drainLimit = TimeSpan.FromSeconds(5);

    private static long _nextId;

    public static long NextId() => Interlocked.Increment(ref _nextId);

    public static async Task<ThroughputRun> RunClosedLoopAsync(ClosedLoopPlan plan, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ClosedLoop loop = new();
        long deliveriesAtStart = plan.Deliveries();
        using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using CancellationTokenSource abandon = new();
        List<Task> workers = [];
        foreach (SendOne sender in plan.Senders)
        {
            for (int i = 0; i < plan.InFlightPerSender; i++)
            {
                workers.Add(Task.Run(() => loop.WorkAsync(sender, stop.Token, abandon.Token), CancellationToken.None));
            }
        }

        await Task.Delay(plan.Ramp, ct);
        ResourceSnapshot first = ResourceSnapshot.Take();
        long sendsAtWindowStart = loop.Completed;
        long deliveriesAtWindowStart = plan.Deliveries();
        loop.OpenWindow(first.Timestamp);

        await Task.Delay(plan.Duration, ct);
        ResourceSnapshot last = ResourceSnapshot.Take();
        long sendsAtWindowEnd = loop.Completed;
        long deliveriesAtWindowEnd = plan.Deliveries();
        loop.CloseWindow(last.Timestamp);

        await stop.CancelAsync();
        await StopAsync(workers, abandon);
        double delivered = await DrainAsync(plan.Deliveries, deliveriesAtStart, loop.Completed * plan.FanOut, ct);

        double seconds = Stopwatch.GetElapsedTime(first.Timestamp, last.Timestamp).TotalSeconds;
        long sends = sendsAtWindowEnd - sendsAtWindowStart;
        long deliveries = deliveriesAtWindowEnd - deliveriesAtWindowStart;
        return new ThroughputRun(
            Math.Round(seconds, 2),
            plan.Senders.Count,
            plan.InFlightPerSender,
            plan.FanOut,
            sends,
            Math.Round(sends / seconds),
            deliveries,
            Math.Round(deliveries / seconds),
            loop.Latency.Summarize(),
            loop.Errors.Count,
            loop.Errors.First,
            delivered,
            first.Until(last));
    }

    /// <summary>
    /// Runs the closed loop without measuring, so that tiered compilation has promoted the hot paths
    /// (on two cores that takes seconds, and a cold run measures the JIT as much as the relay).
    /// </summary>
    public static async Task WarmUpAsync(ClosedLoopPlan plan, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        _ = await RunClosedLoopAsync(plan with { Ramp = TimeSpan.Zero }, ct);
    }

    public static async Task<FixedRateRun> RunFixedRateAsync(FixedRatePlan plan, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long deliveriesAtStart = plan.Deliveries();
        using CancellationTokenSource abandon = new();
        FixedRate run = new(plan, abandon.Token);

        // A dedicated thread: the pace must not depend on a thread pool the load itself saturates.
        await Task.Factory.StartNew(() => run.Pace(ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!await WaitUntilAsync(() => run.InFlight == 0, _stopLimit, ct))
        {
            await abandon.CancelAsync();
        }

        double delivered = await DrainAsync(plan.Deliveries, deliveriesAtStart, run.Completed * plan.FanOut, ct);
        plan.Clock?.End();
        return new FixedRateRun(
            plan.PerSecond,
            Math.Round(run.WindowSeconds, 2),
            run.SentInWindow,
            Math.Round(run.SentInWindow / run.WindowSeconds),
            run.Skipped,
            run.Errors.Count,
            run.Errors.First,
            run.Latency.Summarize(),
            plan.Clock?.Latency.Summarize(),
            delivered,
            run.Resources);
    }

    private static async Task StopAsync(List<Task> workers, CancellationTokenSource abandon)
    {
        try
        {
            await Task.WhenAll(workers).WaitAsync(_stopLimit);
        }
        catch (TimeoutException)
        {
            await abandon.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(_stopLimit).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Waits (bounded) until every expected delivery arrived or arrivals stop; returns the percentage delivered.</summary>
    private static async Task<double> DrainAsync(Func<long> deliveries, long atStart, long expected, CancellationToken ct)
    {
        if (expected <= 0)
        {
            return 100;
        }

        long seen = -1;
        long lastProgress = Stopwatch.GetTimestamp();
        await WaitUntilAsync(() =>
        {
            long now = deliveries() - atStart;
            if (now != seen)
            {
                seen = now;
                lastProgress = Stopwatch.GetTimestamp();
            }

            return now >= expected || Stopwatch.GetElapsedTime(lastProgress) > TimeSpan.FromSeconds(1);
        }, _drainLimit, ct);
        return Math.Round(100.0 * (deliveries() - atStart) / expected, 2);
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan limit, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > limit)
            {
                return false;
            }

            await Task.Delay(20, ct);
        }

        return true;
    }

    private static bool IsConnectionLost(Exception error) => error is HubConnectionClosedException;

    private sealed class ClosedLoop
    {
        private long _windowStart = long.MaxValue;
        private long _windowEnd = long.MaxValue;
        private long _completed;

        public LatencyHistogram Latency { get; } = new();

        public ErrorLog Errors { get; } = new();

        public long Completed => Interlocked.Read(ref _completed);

        public void OpenWindow(long timestamp) => Volatile.Write(ref _windowStart, timestamp);

        public void CloseWindow(long timestamp) => Volatile.Write(ref _windowEnd, timestamp);

        public async Task WorkAsync(SendOne send, CancellationToken stop, CancellationToken abandon)
        {
            while (!stop.IsCancellationRequested)
            {
                long id = NextId();
                long started = Stopwatch.GetTimestamp();
                try
                {
                    await send(id, abandon);
                }
                catch (OperationCanceledException) when (abandon.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is HubClientException or HubInvocationException or TimeoutException)
                {
                    Errors.Add(ex);
                    if (IsConnectionLost(ex))
                    {
                        return;
                    }

                    continue;
                }

                long ended = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref _completed);
                if (started >= Volatile.Read(ref _windowStart) && ended <= Volatile.Read(ref _windowEnd))
                {
                    Latency.RecordElapsed(started, ended);
                }
            }
        }
    }

    private sealed class FixedRate(FixedRatePlan plan, CancellationToken abandon)
    {
        private readonly int _maxInFlight = (int)Math.Max(1000, plan.PerSecond * 2);
        private long _inFlight;
        private long _completed;
        private long _windowStart;
        private long _windowEnd;

        public LatencyHistogram Latency { get; } = new();

        public ErrorLog Errors { get; } = new();

        public long InFlight => Interlocked.Read(ref _inFlight);

        public long Completed => Interlocked.Read(ref _completed);

        public long SentInWindow { get; private set; }

        public long Skipped { get; private set; }

        public double WindowSeconds => Math.Max(1e-9, Stopwatch.GetElapsedTime(_windowStart, _windowEnd).TotalSeconds);

        public ResourceUsage? Resources { get; private set; }

        public void Pace(CancellationToken ct)
        {
            long frequency = Stopwatch.Frequency;
            long start = Stopwatch.GetTimestamp();
            long warmupEnd = start + (long)(plan.Warmup.TotalSeconds * frequency);
            long end = warmupEnd + (long)(plan.Duration.TotalSeconds * frequency);
            long issued = 0;
            bool measuring = false;
            ResourceSnapshot first = default;
            while (!ct.IsCancellationRequested)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= end)
                {
                    break;
                }

                if (!measuring && now >= warmupEnd)
                {
                    measuring = true;
                    first = ResourceSnapshot.Take();
                    _windowStart = first.Timestamp;
                    plan.Clock?.Begin(Interlocked.Read(ref _nextId) + 1, (int)((plan.PerSecond * plan.Duration.TotalSeconds * 1.2) + 1000));
                }

                long due = (long)((double)(now - start) / frequency * plan.PerSecond);
                while (issued < due)
                {
                    issued++;
                    if (Interlocked.Read(ref _inFlight) >= _maxInFlight)
                    {
                        // The server is not keeping up: bound the backlog rather than the run time.
                        Skipped += measuring ? 1 : 0;
                        continue;
                    }

                    long id = NextId();
                    long sentAt = Stopwatch.GetTimestamp();
                    if (measuring)
                    {
                        plan.Clock?.Stamp(id, sentAt);
                        SentInWindow++;
                    }

                    Interlocked.Increment(ref _inFlight);
                    _ = TrackAsync(plan.Senders[(int)(issued % plan.Senders.Count)], id, sentAt, measuring);
                }

                Thread.Sleep(1);
            }

            ResourceSnapshot last = ResourceSnapshot.Take();
            _windowEnd = last.Timestamp;
            Resources = measuring ? first.Until(last) : null;
        }

        private async Task TrackAsync(SendOne send, long id, long sentAt, bool measured)
        {
            try
            {
                await send(id, abandon);
                Interlocked.Increment(ref _completed);
                if (measured)
                {
                    Latency.RecordElapsed(sentAt, Stopwatch.GetTimestamp());
                }
            }
            catch (OperationCanceledException) when (abandon.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is HubClientException or HubInvocationException or TimeoutException)
            {
                Errors.Add(ex);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
