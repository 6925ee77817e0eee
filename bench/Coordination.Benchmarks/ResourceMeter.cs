using System.Diagnostics;

namespace Coordination.Benchmarks;

/// <summary>What the whole process (server and load clients together) used during a measurement window.</summary>
internal sealed record ResourceUsage(
    double CpuPercentOfMachine,
    double UserCpuPercentOfMachine,
    double KernelCpuPercentOfMachine,
    double AllocatedMBPerSecond,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    double GcPausePercent,
    int ThreadPoolThreads,
    long ThreadPoolCompletedWorkItemsPerSecond,
    double WorkingSetMB,
    double MachineBusyPercent,
    double OtherProcessesCpuPercent,
    double StealPercent,
    double JitPercentOfMachine,
    long MethodsJitted);

/// <summary>A point-in-time reading of process counters; two of them give a <see cref="ResourceUsage"/>.</summary>
internal readonly record struct ResourceSnapshot(
    long Timestamp,
    TimeSpan UserCpu,
    TimeSpan KernelCpu,
    long AllocatedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    TimeSpan GcPause,
    long CompletedWorkItems,
    MachineCpu Machine,
    TimeSpan JitTime,
    long JittedMethods)
{
    public static ResourceSnapshot Take()
    {
        Environment.ProcessCpuUsage cpu = Environment.CpuUsage;
        return new ResourceSnapshot(
            Stopwatch.GetTimestamp(),
            cpu.UserTime,
            cpu.PrivilegedTime,
            GC.GetTotalAllocatedBytes(precise: false),
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            GC.GetTotalPauseDuration(),
            ThreadPool.CompletedWorkItemCount,
            MachineCpu.Read(),
            System.Runtime.JitInfo.GetCompilationTime(currentThread: false),
            System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false));
    }

    public ResourceUsage Until(ResourceSnapshot end)
    {
        double seconds = Math.Max(1e-9, Stopwatch.GetElapsedTime(Timestamp, end.Timestamp).TotalSeconds);
        double capacity = seconds * Environment.ProcessorCount;
        double user = (end.UserCpu - UserCpu).TotalSeconds;
        double kernel = (end.KernelCpu - KernelCpu).TotalSeconds;
        (double machineBusy, double steal) = Machine.Until(end.Machine);
        double own = 100 * (user + kernel) / capacity;
        return new ResourceUsage(
            Round(100 * (user + kernel) / capacity),
            Round(100 * user / capacity),
            Round(100 * kernel / capacity),
            Round((end.AllocatedBytes - AllocatedBytes) / seconds / (1024 * 1024)),
            end.Gen0 - Gen0,
            end.Gen1 - Gen1,
            end.Gen2 - Gen2,
            Round(100 * (end.GcPause - GcPause).TotalSeconds / seconds),
            ThreadPool.ThreadCount,
            (long)((end.CompletedWorkItems - CompletedWorkItems) / seconds),
            Round(Environment.WorkingSet / (1024.0 * 1024.0)),
            Round(machineBusy),
            Round(Math.Max(0, machineBusy - own)),
            Round(steal),
            Round(100 * (end.JitTime - JitTime).TotalSeconds / capacity),
            end.JittedMethods - JittedMethods);
    }

    private static double Round(double value) => Math.Round(value, 1);
}

/// <summary>
/// Machine-wide CPU time from /proc/stat (Linux), to tell whether other processes competed with the
/// benchmark for the cores during a measurement. Zero everywhere when /proc/stat cannot be read.
/// </summary>
internal readonly record struct MachineCpu(long Busy, long Idle, long Steal)
{
    public static MachineCpu Read()
    {
        try
        {
            using StreamReader reader = new("/proc/stat");
            string? line = reader.ReadLine();
            if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return default;
            }

            long[] fields = [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, System.Globalization.CultureInfo.InvariantCulture))];

            // user nice system idle iowait irq softirq steal (guest time is already in user).
            long idle = fields[3] + fields[4];
            long steal = fields.Length > 7 ? fields[7] : 0;
            long busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + steal;
            return new MachineCpu(busy, idle, steal);
        }
        catch (IOException)
        {
            return default;
        }
        catch (UnauthorizedAccessException)
        {
            return default;
        }
    }

    /// <summary>Busy and steal time between the two readings, in percent of all cores.</summary>
    public (double BusyPercent, double StealPercent) Until(MachineCpu end)
    {
        long total = (end.Busy - Busy) + (end.Idle - Idle);
        return total <= 0 ? (0, 0) : (100.0 * (end.Busy - Busy) / total, 100.0 * (end.Steal - Steal) / total);
    }
}
