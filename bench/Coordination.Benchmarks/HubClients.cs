using System.Diagnostics;
using Coordination.Client.Hub;
using Microsoft.Extensions.Logging;

namespace Coordination.Benchmarks;

/// <summary>Opening and closing many SDK hub connections, each bounded in time.</summary>
internal static class HubClients
{
    private static readonly TimeSpan _closeLimit = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The SDK defaults, except that a receiver may queue more server invocations: at full load a
    /// connection's handler loop can fall behind its receive loop for a moment, and the default (1024)
    /// would close the connection rather than measure it.
    /// </summary>
    public static HubConnectionOptions Options() => new()
    {
        MaxQueuedServerInvocations = 100_000,
        HandshakeTimeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<HubConnection[]> ConnectAllAsync(Uri hubUrl, IReadOnlyList<string?> tokens, Action<int, HubConnection> configure, CancellationToken ct)
    {
        HubConnection[] connections = new HubConnection[tokens.Count];
        try
        {
            await Parallel.ForAsync(0, tokens.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
            {
                connections[i] = await HubConnection.ConnectAsync(hubUrl, tokens[i], Options(), hub => configure(i, hub), token);
            });
        }
        catch
        {
            await DisposeAllAsync(connections.Where(c => c is not null));
            throw;
        }

        return connections;
    }

    public static async Task DisposeAllAsync(IEnumerable<HubConnection> connections)
    {
        Task all = Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));
        await all.WaitAsync(_closeLimit).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

/// <summary>
/// Writes warnings and errors to stderr (after <c>prefix</c>, when several servers share the
/// process); everything below is dropped before it is formatted. Counts what it wrote and keeps the
/// first line for the report.
/// </summary>
internal sealed class WarningsToStderrProvider(string? prefix = null) : ILoggerProvider
{
    private long _count;
    private string? _first;

    public long Count => Interlocked.Read(ref _count);

    public string? First => Volatile.Read(ref _first);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>Counts from zero again (for example once a server has started).</summary>
    public void Reset()
    {
        Volatile.Write(ref _first, null);
        Interlocked.Exchange(ref _count, 0);
    }

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        Interlocked.Increment(ref _count);
        Interlocked.CompareExchange(ref _first, line, null);
        Console.Error.WriteLine(prefix is null ? line : $"{prefix}: {line}");
    }

    private sealed class Logger(WarningsToStderrProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (IsEnabled(logLevel))
            {
                provider.Write($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
        }
    }
}

/// <summary>Prints what the benchmark is doing, with the time since it started.</summary>
internal static class Progress
{
    private static readonly long _start = Stopwatch.GetTimestamp();

    public static void Say(string message) =>
        Console.Error.WriteLine(FormattableString.Invariant($"[{Stopwatch.GetElapsedTime(_start).TotalSeconds,6:F1}s] {message}"));
}
