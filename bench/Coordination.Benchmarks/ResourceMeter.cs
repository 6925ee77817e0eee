using System.Diagnostics;

namespace Coordination.Benchmarks;

/// <summary>
/// What the whole process (server and load clients together) used during a measurement window. For
/// (d) also what the PostgreSQL server's processes used (<see cref="DatabaseCpuPercentOfMachine"/>,
/// null in every other scenario); <see cref="OtherProcessesCpuPercent"/> excludes them.
/// </summary>
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
    long MethodsJitted,
    double? DatabaseCpuPercentOfMachine);

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
    long JittedMethods,
    TimeSpan? DatabaseCpu)
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
            System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false),
            DatabaseProcesses.Cpu());
    }

    public ResourceUsage Until(ResourceSnapshot end)
    {
        double seconds = Math.Max(1e-9, Stopwatch.GetElapsedTime(Timestamp, end.Timestamp).TotalSeconds);
        double capacity = seconds * Environment.ProcessorCount;
        double user = (end.UserCpu - UserCpu).TotalSeconds;
        double kernel = (end.KernelCpu - KernelCpu).TotalSeconds;
        (double machineBusy, double steal) = Machine.Until(end.Machine);
        double own = 100 * (user + kernel) / capacity;
        double? database = DatabaseCpu is { } before && end.DatabaseCpu is { } after ? 100 * (after - before).TotalSeconds / capacity : null;
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
            Round(Math.Max(0, machineBusy - own - (database ?? 0))),
            Round(steal),
            Round(100 * (end.JitTime - JitTime).TotalSeconds / capacity),
            end.JittedMethods - JittedMethods,
            database is { } d ? Round(Math.Max(0, d)) : null);
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

/// <summary>
/// CPU time of the PostgreSQL server behind (d), when it runs on this machine: the postmaster and
/// every process it started (backends, WAL writer, checkpointer...), from /proc. A backend that exits
/// is counted in the postmaster's children time once reaped, so the total only grows. Null when no
/// server is being watched or its processes cannot be read (another machine, a container).
/// </summary>
internal static class DatabaseProcesses
{
    // USER_HZ, the unit of the times in /proc/PID/stat: 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    private static int _postmaster;

    /// <summary>Starts watching the server whose backend has process id <paramref name="backendPid"/>; false if it is not visible here.</summary>
    public static bool Watch(int backendPid)
    {
        if (Stat(backendPid) is { } backend && Comm(backendPid) == "postgres" && Comm(backend.ParentPid) == "postgres" && Stat(backend.ParentPid) is not null)
        {
            Volatile.Write(ref _postmaster, backend.ParentPid);
            return true;
        }

        return false;
    }

    public static void Stop() => Volatile.Write(ref _postmaster, 0);

    /// <summary>The server's processes' CPU time so far (user and kernel, their reaped children included).</summary>
    public static TimeSpan? Cpu()
    {
        int postmaster = Volatile.Read(ref _postmaster);
        if (postmaster == 0 || Stat(postmaster) is not { } root)
        {
            return null;
        }

        long ticks = root.Ticks;
        try
        {
            foreach (string entry in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(entry), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                    && pid != postmaster && Stat(pid) is { } child && child.ParentPid == postmaster)
                {
                    ticks += child.Ticks;
                }
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>Parent process id and utime + stime + cutime + cstime of a process, or null if it is gone or unreadable.</summary>
    private static (int ParentPid, long Ticks)? Stat(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/stat");

            // Fields after the command name (which may hold spaces and parentheses): state, ppid, ...;
            // utime, stime, cutime and cstime are fields 14 to 17 of the whole line.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return ((int)Parse(fields[1]), Parse(fields[11]) + Parse(fields[12]) + Parse(fields[13]) + Parse(fields[14]));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            return null;
        }

        static long Parse(string field) => long.Parse(field, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/comm").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
