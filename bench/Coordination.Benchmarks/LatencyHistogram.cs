using System.Diagnostics;
using System.Numerics;

namespace Coordination.Benchmarks;

/// <summary>
/// A log-linear latency histogram in microseconds (exact below 256 µs, then 128 buckets per power
/// of two: under 0.8 % error), safe to record into from many threads at once, constant memory.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxExponent = 40;

    private readonly long[] _counts = new long[(2 * SubBuckets) + ((MaxExponent - SubBucketBits - 1) * SubBuckets)];
    private long _count;
    private long _sumMicros;
    private long _maxMicros;

    public long Count => Interlocked.Read(ref _count);

    public static long ToMicros(long stopwatchTicks) => stopwatchTicks <= 0 ? 0 : stopwatchTicks * 1_000_000 / Stopwatch.Frequency;

    /// <summary>Records the time from <paramref name="startTimestamp"/> to <paramref name="endTimestamp"/> (Stopwatch timestamps).</summary>
    public void RecordElapsed(long startTimestamp, long endTimestamp) => Record(ToMicros(endTimestamp - startTimestamp));

    public void Record(long micros)
    {
        micros = Math.Clamp(micros, 0, (1L << MaxExponent) - 1);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, micros);
        long max = Interlocked.Read(ref _maxMicros);
        while (micros > max)
        {
            long seen = Interlocked.CompareExchange(ref _maxMicros, micros, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    public LatencySummary Summarize()
    {
        long count = Count;
        if (count == 0)
        {
            return LatencySummary.Empty;
        }

        long max = Interlocked.Read(ref _maxMicros);
        return new LatencySummary(
            count,
            Millis(Percentile(0.50, count, max)),
            Millis(Percentile(0.99, count, max)),
            Millis(Percentile(0.999, count, max)),
            Millis(max),
            Math.Round(Interlocked.Read(ref _sumMicros) / (double)count / 1000.0, 3));
    }

    private static double Millis(long micros) => Math.Round(micros / 1000.0, 3);

    private static int IndexOf(long micros)
    {
        if (micros < 2 * SubBuckets)
        {
            return (int)micros;
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)micros);
        int shift = exponent - SubBucketBits;
        long top = micros >> shift;
        return (2 * SubBuckets) + ((exponent - SubBucketBits - 1) * SubBuckets) + (int)(top - SubBuckets);
    }

    /// <summary>The middle of the bucket's range.</summary>
    private static long ValueAt(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return index;
        }

        int offset = index - (2 * SubBuckets);
        int exponent = (offset / SubBuckets) + SubBucketBits + 1;
        long top = (offset % SubBuckets) + SubBuckets;
        int shift = exponent - SubBucketBits;
        long low = top << shift;
        long high = ((top + 1) << shift) - 1;
        return (low + high) / 2;
    }

    private long Percentile(double quantile, long count, long max)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(quantile * count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(ValueAt(i), max);
            }
        }

        return max;
    }
}

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs)
{
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0);
}
