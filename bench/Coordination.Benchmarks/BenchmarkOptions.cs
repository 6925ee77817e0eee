using System.Globalization;

namespace Coordination.Benchmarks;

/// <summary>Command-line settings. Every run length is bounded; the defaults finish in under two minutes.</summary>
internal sealed class BenchmarkOptions
{
    public const string Usage = """
        Usage: Coordination.Benchmarks [options]
          --seconds N           length of each max-throughput measurement (default 10)
          --latency-seconds N   length of each fixed-rate latency measurement (default: 0.4 x --seconds, at least 2)
          --warmup N            full-load warm-up at the start of each scenario, seconds (default 6)
          --sqlite-seconds N    length of each raw SQLite measurement (default 3)
          --only LIST           scenarios to run, comma-separated: a,a2,b,c,d,e,f,g,h,i,sqlite,costs (default all);
                                a2 is (a') the baseline with a payload as large on the wire as the relay's envelope;
                                d is (b) on two relay nodes sharing PostgreSQL, and runs (b) too (its baseline);
                                d needs COORDINATION_BENCH_POSTGRES (./run-benchmarks.sh sets it), else it is skipped
          --members N           connections in the fan-out group, (a), (b) and (d) (default 50)
          --group-senders N     senders in (a), (b) and (d) (default 4)
          --group-in-flight N   invocations each (a)/(b)/(d) sender keeps in flight (default 32)
          --group-rate N        fixed offered rate for (a)/(b)/(d) latency, group sends/s (default 1000)
          --baseline-payload N  payload bytes in (a) (default 512, the relay's payload before sealing and padding)
          --baseline-fan-out M  investigation: 'serial' pushes (a)'s broadcasts from one loop, as the relay does (default 'hub')
          --cells N             cells (and baseline groups) in (e), each of --members members (default 20);
                                (e) runs its own baseline (e0), the bare hub with as many groups
          --cell-in-flight N    invocations each (e)/(e0) sender (one per cell) keeps in flight (default 8)
          --drain-envelopes N   envelopes queued for the offline device in (f), at most 100000 (default 100000)
          --intake-rate N       fixed offered rate for (g) latency, sealed reports/s (default 5);
                                g runs (c) too (its baseline)
          --task-rate N         fixed offered rate for (h) latency, offers/s across both organizers (default 100)
          --idle-connections N  idle hub connections held in (i) and its baseline (default 20000; capped by the open-file limit)
          --pairs N             direct conversations in (c); both devices of a pair send (default 32)
          --direct-in-flight N  invocations each (c) sender keeps in flight (default 8)
          --direct-rate N       fixed offered rate for (c) latency, sends/s (default 2000)
          --sqlite-batch N      inserts per transaction in the batched SQLite baseline (default 512)
          --min-threads N       raise the thread pool's minimum worker threads (default: runtime default)
          --experiment NAME     investigation: 'singleton-db-options' builds the relay's DbContextOptions once
                                instead of once per hub invocation (changes the server's DI, not its code)
          --output DIR          where latest.json and latest.svg go (default bench/results)
          --data-dir DIR        where the databases go (default: a fresh directory under the system temp dir)
          --keep-data           do not delete the databases afterwards
        """;

    public double Seconds { get; private set; } = 10;

    public double LatencySeconds { get; private set; } = -1;

    public double WarmupSeconds { get; private set; } = 6;

    public double SqliteSeconds { get; private set; } = 3;

    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase) { "a", "a2", "b", "c", "d", "e", "f", "g", "h", "i", "sqlite", "costs" };

    public int Members { get; private set; } = 50;

    public int GroupSenders { get; private set; } = 4;

    public int GroupInFlight { get; private set; } = 32;

    public double GroupRate { get; private set; } = 1000;

    public int BaselinePayloadBytes { get; private set; } = Payloads.PlaintextBytes;

    public bool SerialBaselineFanOut { get; private set; }

    public int Cells { get; private set; } = 20;

    public int CellInFlight { get; private set; } = 8;

    public int DrainEnvelopes { get; private set; } = 100_000;

    public double IntakeRate { get; private set; } = 5;

    public double TaskRate { get; private set; } = 100;

    public int IdleConnections { get; private set; } = 20_000;

    public int Pairs { get; private set; } = 32;

    public int DirectInFlight { get; private set; } = 8;

    public double DirectRate { get; private set; } = 2000;

    public int SqliteBatch { get; private set; } = 512;

    public int MinThreads { get; private set; }

    public bool SingletonDbContextOptions { get; private set; }

    public string OutputDirectory { get; private set; } = "";

    public string DataRoot { get; private set; } = "";

    public bool KeepData { get; private set; }

    public TimeSpan Duration => TimeSpan.FromSeconds(Seconds);

    public TimeSpan LatencyDuration => TimeSpan.FromSeconds(LatencySeconds);

    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    /// <summary>Every measurement follows the warm-up on the same connections, so a short ramp (pacing or filling the pipeline) is enough.</summary>
    public double RampSeconds { get; } = 1;

    public TimeSpan Ramp => TimeSpan.FromSeconds(RampSeconds);

    public TimeSpan SqliteDuration => TimeSpan.FromSeconds(SqliteSeconds);

    /// <summary>The most the whole run may take: three times the planned measurement time plus three minutes for set-up (two nodes and a database for (d)) and drains.</summary>
    public TimeSpan Budget => TimeSpan.FromSeconds((3 * ((7 * (WarmupSeconds + Seconds + LatencySeconds)) + (2 * SqliteSeconds))) + 300);

    /// <summary>
    /// For (d): an Npgsql connection string to a PostgreSQL server's maintenance database, with a role
    /// that may create databases (environment variable <c>COORDINATION_BENCH_POSTGRES</c>; it holds a
    /// password, so it is not a command-line option). Null when not set: (d) is then skipped.
    /// </summary>
    public string? PostgresAdmin { get; } = Environment.GetEnvironmentVariable("COORDINATION_BENCH_POSTGRES") is { Length: > 0 } admin ? admin : null;

    public bool Runs(string scenario) => Only.Contains(scenario);

    /// <summary>Parses the arguments; null (after printing why) when they are wrong or help was asked for.</summary>
    public static BenchmarkOptions? Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        BenchmarkOptions options = new();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value.");
                switch (name)
                {
                    case "-h" or "--help":
                        Console.WriteLine(Usage);
                        return null;
                    case "--seconds":
                        options.Seconds = Positive(name, Next());
                        break;
                    case "--latency-seconds":
                        options.LatencySeconds = Positive(name, Next());
                        break;
                    case "--warmup":
                        options.WarmupSeconds = Positive(name, Next());
                        break;
                    case "--sqlite-seconds":
                        options.SqliteSeconds = Positive(name, Next());
                        break;
                    case "--only":
                        options.Only.Clear();
                        foreach (string scenario in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        {
                            if (scenario is not ("a" or "a2" or "b" or "c" or "d" or "e" or "f" or "g" or "h" or "i" or "sqlite" or "costs"))
                            {
                                throw new FormatException($"Unknown scenario '{scenario}' (a, a2, b, c, d, e, f, g, h, i, sqlite or costs).");
                            }

                            options.Only.Add(scenario);
                        }

                        // (g) is compared with (c), measured in the same run.
                        if (options.Only.Contains("g"))
                        {
                            options.Only.Add("c");
                        }

                        // (d) is compared with (b), measured in the same run.
                        if (options.Only.Contains("d"))
                        {
                            options.Only.Add("b");
                        }

                        break;
                    case "--members":
                        options.Members = Count(name, Next(), minimum: 2);
                        break;
                    case "--group-senders":
                        options.GroupSenders = Count(name, Next());
                        break;
                    case "--group-in-flight":
                        options.GroupInFlight = Count(name, Next());
                        break;
                    case "--group-rate":
                        options.GroupRate = Positive(name, Next(), maximum: 1_000_000);
                        break;
                    case "--baseline-payload":
                        options.BaselinePayloadBytes = Count(name, Next(), minimum: 8);
                        break;
                    case "--baseline-fan-out":
                        options.SerialBaselineFanOut = Next() switch
                        {
                            "serial" => true,
                            "hub" => false,
                            string other => throw new FormatException($"--baseline-fan-out is 'hub' or 'serial', not '{other}'."),
                        };
                        break;
                    case "--cells":
                        options.Cells = Count(name, Next());
                        break;
                    case "--cell-in-flight":
                        options.CellInFlight = Count(name, Next());
                        break;
                    case "--drain-envelopes":
                        options.DrainEnvelopes = Count(name, Next(), minimum: 500);
                        break;
                    case "--intake-rate":
                        options.IntakeRate = Positive(name, Next(), maximum: 100_000);
                        break;
                    case "--task-rate":
                        options.TaskRate = Positive(name, Next(), maximum: 100_000);
                        break;
                    case "--idle-connections":
                        options.IdleConnections = Count(name, Next(), minimum: 200);
                        break;
                    case "--pairs":
                        options.Pairs = Count(name, Next());
                        break;
                    case "--direct-in-flight":
                        options.DirectInFlight = Count(name, Next());
                        break;
                    case "--direct-rate":
                        options.DirectRate = Positive(name, Next(), maximum: 1_000_000);
                        break;
                    case "--sqlite-batch":
                        options.SqliteBatch = Count(name, Next());
                        break;
                    case "--min-threads":
                        options.MinThreads = Count(name, Next());
                        break;
                    case "--experiment":
                        options.SingletonDbContextOptions = Next() switch
                        {
                            "singleton-db-options" => true,
                            string other => throw new FormatException($"Unknown experiment '{other}' (singleton-db-options)."),
                        };
                        break;
                    case "--output":
                        options.OutputDirectory = Next();
                        break;
                    case "--data-dir":
                        options.DataRoot = Next();
                        break;
                    case "--keep-data":
                        options.KeepData = true;
                        break;
                    default:
                        throw new FormatException($"Unknown option '{name}'.");
                }
            }
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(Usage);
            return null;
        }

        if (options.GroupSenders > options.Members)
        {
            Console.Error.WriteLine("--group-senders cannot exceed --members.");
            return null;
        }

        if (options.LatencySeconds <= 0)
        {
            options.LatencySeconds = Math.Max(2, Math.Round(options.Seconds * 0.4, 1));
        }

        if (options.OutputDirectory.Length == 0)
        {
            options.OutputDirectory = Path.Combine(FindRepositoryRoot(), "bench", "results");
        }

        if (options.DataRoot.Length == 0)
        {
            options.DataRoot = Path.Combine(Path.GetTempPath(), "coordination-bench", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }

        options.OutputDirectory = Path.GetFullPath(options.OutputDirectory);
        options.DataRoot = Path.GetFullPath(options.DataRoot);
        return options;
    }

    /// <summary>The directory holding Coordination.sln, from the working directory or the binary's location.</summary>
    private static string FindRepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Coordination.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        return Environment.CurrentDirectory;
    }

    private static double Positive(string name, string value, double maximum = 3600) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && parsed > 0 && parsed <= maximum
            ? parsed
            : throw new FormatException($"{name} must be a number above 0 and at most {maximum.ToString(CultureInfo.InvariantCulture)}, not '{value}'.");

    private static int Count(string name, string value, int minimum = 1) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) && parsed >= minimum && parsed <= 100_000
            ? parsed
            : throw new FormatException($"{name} must be a whole number from {minimum} to 100000, not '{value}'.");
}
