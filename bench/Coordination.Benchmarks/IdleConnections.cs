using System.Diagnostics;
using System.Globalization;
using Coordination.Client.Hub;
using Coordination.Protocol;
using Microsoft.AspNetCore.Builder;

namespace Coordination.Benchmarks;

/// <summary>One server's memory with many idle connections: measured in its own process, from /proc.</summary>
internal sealed record IdleServerRun(
    string Name,
    int Requested,
    int Connected,
    string? StoppedBecause,
    double ConnectSeconds,
    double PrivateMBBefore,
    double PrivateMBAfter,
    double RssMBBefore,
    double RssMBAfter,
    double ManagedHeapMBBefore,
    double ManagedHeapMBAfter,
    double PrivateKBPerConnection,
    double RssKBPerConnection,
    double ManagedKBPerConnection);

/// <summary>Results of (i): idle authenticated relay connections against idle connections to the bare hub.</summary>
internal sealed record IdleScenario(int Accounts, int FileDescriptorLimit, string? Limit, IdleServerRun Baseline, IdleServerRun Relay);

/// <summary>
/// (i) Idle connections: the server runs in a child process of its own (this program with
/// <c>--serve relay|baseline</c>), so that its memory is its alone; this process opens the connections
/// (the SDK's hub client, 32 at a time) and reads the child's private memory (Private_Clean +
/// Private_Dirty of /proc/PID/smaps_rollup), resident set and managed heap after a full garbage
/// collection, before (with 100 connections open, so that the connection code is loaded) and after.
/// Relay connections are authenticated: 100 accounts registered and logged in, each session token used
/// by an equal share of the connections. Baseline (i0): the bare hub of (a), same number of connections.
/// </summary>
internal static class IdleConnections
{
    private const int Accounts = 100;
    private const int Primer = 100;

    public static async Task<IdleScenario> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        int limit = FileDescriptorLimit();

        // Both processes need a descriptor per connection plus their own (the runtime's, the database's).
        // With 400 spare the relay process stopped with "Out of memory" at 19,600; 1,000 spare is enough.
        int target = options.IdleConnections;
        string? why = null;
        if (limit > 0 && target > limit - 1000)
        {
            target = limit - 1000;
            why = FormattableString.Invariant(
                $"the open-file limit is {limit} per process (the hard limit here; raising it is not permitted), and server and clients each need one descriptor per connection: {target:N0} connections, not {options.IdleConnections:N0}");
        }

        IdleServerRun baseline = await MeasureAsync("(i0) SignalR baseline, idle connections", "baseline", options, target, ct);
        IdleServerRun relay = await MeasureAsync("(i) Relay, idle authenticated connections", "relay", options, target, ct);
        return new IdleScenario(Accounts, limit, why, baseline, relay);
    }

    private static async Task<IdleServerRun> MeasureAsync(string name, string kind, BenchmarkOptions options, int target, CancellationToken ct)
    {
        string dataDirectory = Path.Combine(options.DataRoot, "idle-" + kind);
        Directory.CreateDirectory(dataDirectory);
        using Process server = StartServer(kind, dataDirectory);
        List<HubConnection> hubs = [];
        BenchDevice[] devices = [];
        try
        {
            string? line = await server.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), ct);
            if (line is null || !line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The {kind} server process did not start: {line ?? "(no output)"}");
            }

            Uri address = new(line["LISTENING ".Length..]);
            Uri hubUrl;
            string?[] tokens;
            if (kind == "relay")
            {
                Progress.Say($"{name}: relay process {server.Id} at {address}; registering {Accounts} accounts");
                devices = await BenchDevice.CreateManyAsync(address, Accounts, ct);
                hubUrl = new Uri(address, RelayHubContract.Path);
                tokens = [.. devices.Select(d => (string?)d.Api.Token)];
            }
            else
            {
                Progress.Say($"{name}: bare hub process {server.Id} at {address}");
                hubUrl = new Uri(address, BroadcastBaseline.HubPath);
                tokens = [null];
            }

            (string? stopped, _) = await OpenAsync(hubUrl, tokens, hubs, Primer, ct);
            if (stopped is not null)
            {
                throw new InvalidOperationException($"{name}: the first {Primer} connections failed: {stopped}");
            }

            (double privateBefore, double rssBefore, double heapBefore) = await MemoryAsync(server, ct);
            Progress.Say(FormattableString.Invariant($"{name}: {Primer} open, {privateBefore:F1} MB private; opening {target:N0}"));
            long started = Stopwatch.GetTimestamp();
            (stopped, _) = await OpenAsync(hubUrl, tokens, hubs, target, ct);
            double connectSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            int alive = hubs.Count(h => h.State == HubConnectionState.Connected);
            (double privateAfter, double rssAfter, double heapAfter) = await MemoryAsync(server, ct);
            int added = Math.Max(1, alive - Primer);
            Progress.Say(FormattableString.Invariant($"{name}: {alive:N0} open after {connectSeconds:F1} s, {privateAfter:F1} MB private{(stopped is null ? "" : "; stopped: " + stopped)}"));
            return new IdleServerRun(
                name, target, alive, stopped, Math.Round(connectSeconds, 1),
                Math.Round(privateBefore, 1), Math.Round(privateAfter, 1), Math.Round(rssBefore, 1), Math.Round(rssAfter, 1), Math.Round(heapBefore, 1), Math.Round(heapAfter, 1),
                Math.Round((privateAfter - privateBefore) * 1024 / added, 2), Math.Round((rssAfter - rssBefore) * 1024 / added, 2), Math.Round((heapAfter - heapBefore) * 1024 / added, 2));
        }
        finally
        {
            // The server first: then the clients' closes do not wait for it.
            try
            {
                await server.StandardInput.WriteLineAsync("stop".AsMemory(), CancellationToken.None);
                await server.StandardInput.FlushAsync(CancellationToken.None);
                await server.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
            {
                if (!server.HasExited)
                {
                    server.Kill();
                }
            }

            await HubClients.DisposeAllAsync(hubs);
            BenchDevice.DisposeAll(devices);
        }
    }

    /// <summary>Opens connections until <paramref name="count"/> are open or one fails (then says why).</summary>
    private static async Task<(string? Stopped, int Count)> OpenAsync(Uri hubUrl, string?[] tokens, List<HubConnection> hubs, int count, CancellationToken ct)
    {
        string? stopped = null;
        int next = hubs.Count;
        HubConnection?[] opened = new HubConnection?[Math.Max(0, count - next)];
        using CancellationTokenSource failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            await Parallel.ForAsync(0, opened.Length, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = failed.Token }, async (i, token) =>
            {
                try
                {
                    opened[i] = await HubConnection.ConnectAsync(hubUrl, tokens[(next + i) % tokens.Length], HubClients.Options(), _ => { }, token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Interlocked.CompareExchange(ref stopped, $"connection {next + i + 1}: {ex.GetType().Name}: {ex.Message}", null);
                    await failed.CancelAsync();
                }
            });
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }

        hubs.AddRange(opened.Where(h => h is not null)!);
        return (stopped, hubs.Count);
    }

    /// <summary>Asks the server process for a full garbage collection, then reads its memory: private and resident MB from /proc, managed heap MB from it.</summary>
    private static async Task<(double PrivateMB, double RssMB, double HeapMB)> MemoryAsync(Process server, CancellationToken ct)
    {
        await server.StandardInput.WriteLineAsync("gc".AsMemory(), ct);
        await server.StandardInput.FlushAsync(ct);
        string? reply = await server.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), ct);
        double heap = reply is not null && reply.StartsWith("HEAP ", StringComparison.Ordinal)
            ? long.Parse(reply["HEAP ".Length..], CultureInfo.InvariantCulture) / (1024.0 * 1024.0)
            : 0;
        long privateKb = 0;
        long rssKb = 0;
        foreach (string line in await File.ReadAllLinesAsync($"/proc/{server.Id}/smaps_rollup", ct))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
            {
                if (fields[0] is "Private_Clean:" or "Private_Dirty:")
                {
                    privateKb += kb;
                }
                else if (fields[0] == "Rss:")
                {
                    rssKb = kb;
                }
            }
        }

        return (privateKb / 1024.0, rssKb / 1024.0, heap);
    }

    private static Process StartServer(string kind, string dataDirectory)
    {
        ProcessStartInfo start = new(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (!Path.GetFileNameWithoutExtension(start.FileName).Equals("Coordination.Benchmarks", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(IdleConnections).Assembly.Location);
        }

        start.ArgumentList.Add("--serve");
        start.ArgumentList.Add(kind);
        start.ArgumentList.Add(dataDirectory);
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the server process.");
    }

    /// <summary>
    /// The child side (<c>--serve relay|baseline DIR</c>): starts the server, prints <c>LISTENING url</c>,
    /// then answers <c>gc</c> with <c>HEAP bytes</c> after a full collection, until <c>stop</c> or the end of its input.
    /// </summary>
    public static async Task<int> ServeAsync(string kind, string dataDirectory)
    {
        await using RelayHost? relay = kind == "relay" ? new RelayHost(dataDirectory) : null;
        await using WebApplication? bare = kind == "relay" ? null : BroadcastBaseline.BuildHost(serialFanOut: false);
        Uri address;
        if (relay is not null)
        {
            address = relay.ServerAddress;
        }
        else
        {
            await bare!.StartAsync();
            address = new Uri(bare.Urls.First());
        }

        Console.Out.WriteLine($"LISTENING {address}");
        Console.Out.Flush();
        while (await Console.In.ReadLineAsync() is { } command && command != "stop")
        {
            if (command == "gc")
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                Console.Out.WriteLine(FormattableString.Invariant($"HEAP {GC.GetTotalMemory(forceFullCollection: false)}"));
                Console.Out.Flush();
            }
        }

        if (bare is not null)
        {
            await bare.StopAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return 0;
    }

    /// <summary>This process's open-file limit (from /proc/self/limits), 0 when unknown.</summary>
    private static int FileDescriptorLimit()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            string[] fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
            return fields.Length >= 4 && int.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out int soft) ? soft : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
