using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Coordination.Testing;

/// <summary>
/// The real server on a real Kestrel port (127.0.0.1, chosen by the OS) with a real SQLite file in
/// a fresh directory. Everything it logs is captured so tests can scan it. Clients connect from
/// 127.0.0.3, so "the client's address" is distinct from the server's own in every scan.
/// </summary>
public class RelayFactory : WebApplicationFactory<Program>
{
    public const string ClientAddress = "127.0.0.3";

    private static readonly string[] s_sideFiles = ["-wal", "-shm"];

    private readonly Dictionary<string, string?> _settings;

    public RelayFactory()
        : this([])
    {
    }

    protected RelayFactory(Dictionary<string, string?> settings)
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        _settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = DataDirectory,
            ["Relay:SweepInterval"] = "00:00:00.200",
            ["RateLimits:SendsPerSecond"] = "100000",
            ["RateLimits:SendBurst"] = "100000",
            ["RateLimits:LoginsPerMinute"] = "10000",
            ["RateLimits:RegistrationsPerMinute"] = "10000",
            ["RateLimits:LinkAttemptsPerMinute"] = "10000",
            ["RateLimits:InviteAttemptsPerMinute"] = "10000",
        };
        foreach ((string key, string? value) in settings)
        {
            _settings[key] = value;
        }

        UseKestrel(0);
    }

    public string DataDirectory { get; }

    public string DatabasePath => Path.Combine(DataDirectory, "coordination.db");

    /// <summary>The relay's URL as a client is given it (for example the CLI's <c>--server</c>).</summary>
    public string Url => ServerAddress.AbsoluteUri;

    public ConcurrentQueue<string> Logs { get; } = new();

    public ShiftableClock Clock { get; } = new();

    public Uri ServerAddress
    {
        get
        {
            StartServer();
            return ClientOptions.BaseAddress;
        }
    }

    /// <summary>An HTTP client to the real port whose connections come from <see cref="ClientAddress"/>.</summary>
    public HttpClient CreateRealClient()
    {
        SocketsHttpHandler handler = new()
        {
            ConnectCallback = async (context, ct) =>
            {
                Socket socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(ClientAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = ServerAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public SqliteConnection OpenDatabase()
    {
        SqliteConnection connection = new(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>
    /// Changes the database behind the relay's back, as someone who seized the server could: for
    /// tamper tests. Parameters are named <c>$0</c>, <c>$1</c>, ...; Guids are stored as upper-case text.
    /// </summary>
    public int Tamper(string sql, params object[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        using SqliteConnection connection = new(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        for (int i = 0; i < args.Length; i++)
        {
            command.Parameters.AddWithValue("$" + i, args[i] is Guid g ? g.ToString().ToUpperInvariant() : args[i]);
        }

        return command.ExecuteNonQuery();
    }

    /// <summary>A file the running relay may hold open (the database, its -wal and -shm), read without disturbing it.</summary>
    public static byte[] ReadShared(string path)
    {
        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using MemoryStream copy = new();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The database file followed by its -wal and -shm files where they exist: everything at rest, for canary scans.</summary>
    public byte[] ReadStorage() =>
        [.. ReadShared(DatabasePath), .. s_sideFiles.Where(suffix => File.Exists(DatabasePath + suffix)).SelectMany(suffix => ReadShared(DatabasePath + suffix))];

    public long Count(string sql)
    {
        using SqliteConnection connection = OpenDatabase();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach ((string key, string? value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(new CapturingLoggerProvider(Logs));
        });
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>System time plus an offset tests can move forward (timers stay real).</summary>
public sealed class ShiftableClock : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}

/// <summary>Keeps every formatted log line, at every level, so tests can scan what the server wrote.</summary>
public sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            sink.Enqueue($"scope {category}: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}

public static class TestTimeouts
{
    public static TimeSpan Default { get; } = TimeSpan.FromSeconds(20);
}
