using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Coordination.Testing;

/// <summary>
/// The real server on a real Kestrel port (127.0.0.1, chosen by the OS) with a real SQLite file in
/// a fresh directory, or, when <c>COORDINATION_TEST_POSTGRES</c> names a PostgreSQL server (the
/// test command starts a throwaway one), a fresh database there. Everything it logs is captured so
/// tests can scan it. Clients connect from 127.0.0.3, so "the client's address" is distinct from
/// the server's own in every scan.
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

        if (TestDatabase.PostgresAdmin is { } admin)
        {
            PostgresDatabase = "coord_" + Guid.NewGuid().ToString("N");
            using (NpgsqlConnection connection = new(admin))
            {
                connection.Open();
                using NpgsqlCommand create = new($"CREATE DATABASE \"{PostgresDatabase}\"", connection);
                create.ExecuteNonQuery();
            }

            PostgresConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = PostgresDatabase, Pooling = false }.ConnectionString;
            _settings["Database:Provider"] = "Postgres";
            _settings["ConnectionStrings:Coordination"] = new NpgsqlConnectionStringBuilder(admin) { Database = PostgresDatabase, MaxPoolSize = 20 }.ConnectionString;
        }

        UseKestrel(0);
    }

    /// <summary>True when this relay runs on PostgreSQL rather than SQLite.</summary>
    public static bool OnPostgres => TestDatabase.PostgresAdmin is not null;

    /// <summary>The relay's PostgreSQL database (null on SQLite).</summary>
    public string? PostgresDatabase { get; }

    private string? PostgresConnectionString { get; }

    public string DataDirectory { get; }

    public string DatabasePath => Path.Combine(DataDirectory, "coordination.db");

    /// <summary>The relay's URL as a client is given it (for example the CLI's <c>--server</c>).</summary>
    public string Url => ServerAddress.AbsoluteUri;

    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>The Error and Critical lines the server logged.</summary>
    public List<string> ServerErrors() =>
        [.. Logs.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))];

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

    /// <summary>The SQLite file, read-only (SQLite-only tests; see <see cref="Query"/> for both providers).</summary>
    public SqliteConnection OpenDatabase()
    {
        if (OnPostgres)
        {
            throw new InvalidOperationException("This relay runs on PostgreSQL; use Query, Count or Tamper.");
        }

        SqliteConnection connection = new(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>
    /// Changes the database behind the relay's back, as someone who seized the server could: for
    /// tamper tests. SQL in SQLite's spelling (unquoted table and column names); parameters are
    /// named <c>$0</c>, <c>$1</c>, ...; on SQLite Guids are stored as upper-case text.
    /// </summary>
    public int Tamper(string sql, params object[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (PostgresConnectionString is { } postgres)
        {
            using NpgsqlConnection connection = new(postgres);
            connection.Open();
            using NpgsqlCommand command = PostgresCommand(connection, sql, args);
            return command.ExecuteNonQuery();
        }

        using SqliteConnection sqlite = new(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        sqlite.Open();
        using SqliteCommand sqliteCommand = SqliteCommand(sqlite, sql, args);
        return sqliteCommand.ExecuteNonQuery();
    }

    /// <summary>Rows of a query on either provider (SQL as for <see cref="Tamper"/>).</summary>
    public List<object?[]> Query(string sql, params object[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (PostgresConnectionString is { } postgres)
        {
            using NpgsqlConnection connection = new(postgres);
            connection.Open();
            using NpgsqlCommand command = PostgresCommand(connection, sql, args);
            return ReadAll(command);
        }

        using SqliteConnection sqlite = OpenDatabase();
        using SqliteCommand sqliteCommand = SqliteCommand(sqlite, sql, args);
        return ReadAll(sqliteCommand);
    }

    /// <summary>A database file the running relay may hold open, read without disturbing it.</summary>
    public static byte[] ReadShared(string path)
    {
        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using MemoryStream copy = new();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// Everything at rest, for canary scans. SQLite: the database file and its -wal and -shm files.
    /// PostgreSQL: this database's files and the server's write-ahead log (after a checkpoint, so
    /// what is in shared memory is on disk too).
    /// </summary>
    public byte[] ReadStorage()
    {
        if (PostgresConnectionString is { } postgres)
        {
            string data = TestDatabase.PostgresDataDirectory ?? throw new InvalidOperationException("COORDINATION_TEST_POSTGRES_DATA is not set.");
            long oid;
            using (NpgsqlConnection connection = new(postgres))
            {
                connection.Open();
                using NpgsqlCommand checkpoint = new("CHECKPOINT", connection);
                try
                {
                    checkpoint.ExecuteNonQuery();
                }
                catch (PostgresException)
                {
                    // CHECKPOINT needs pg_checkpoint (PostgreSQL 15+) or superuser; the WAL holds every commit anyway.
                }

                using NpgsqlCommand query = new("SELECT oid FROM pg_database WHERE datname = current_database()", connection);
                oid = Convert.ToInt64(query.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            }

            using MemoryStream all = new();
            foreach (string directory in new[] { Path.Combine(data, "base", oid.ToString(System.Globalization.CultureInfo.InvariantCulture)), Path.Combine(data, "pg_wal") })
            {
                foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
                {
                    try
                    {
                        all.Write(ReadShared(file));
                    }
                    catch (Exception ex) when (ex is FileNotFoundException or UnauthorizedAccessException)
                    {
                        // Recycled or renamed while scanning.
                    }
                }
            }

            return all.ToArray();
        }

        return [.. ReadShared(DatabasePath), .. s_sideFiles.Where(suffix => File.Exists(DatabasePath + suffix)).SelectMany(suffix => ReadShared(DatabasePath + suffix))];
    }

    public long Count(string sql, params object[] args) =>
        Query(sql, args) is [[var value, ..], ..] ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    private static SqliteCommand SqliteCommand(SqliteConnection connection, string sql, object[] args)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        for (int i = 0; i < args.Length; i++)
        {
            command.Parameters.AddWithValue("$" + i, args[i] is Guid g ? g.ToString().ToUpperInvariant() : args[i]);
        }

        return command;
    }

    private static NpgsqlCommand PostgresCommand(NpgsqlConnection connection, string sql, object[] args)
    {
        NpgsqlCommand command = new(TestDatabase.ToPostgres(sql), connection);
        for (int i = 0; i < args.Length; i++)
        {
            command.Parameters.AddWithValue("p" + i, args[i]);
        }

        return command;
    }

    private static List<object?[]> ReadAll(System.Data.Common.DbCommand command)
    {
        using System.Data.Common.DbDataReader reader = command.ExecuteReader();
        List<object?[]> rows = [];
        while (reader.Read())
        {
            object?[] row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add([.. row.Select(v => v is DBNull ? null : v)]);
        }

        return rows;
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
        if (PostgresDatabase is not null && TestDatabase.PostgresAdmin is { } admin)
        {
            try
            {
                using NpgsqlConnection connection = new(admin);
                connection.Open();
                using NpgsqlCommand drop = new($"DROP DATABASE IF EXISTS \"{PostgresDatabase}\" WITH (FORCE)", connection);
                drop.ExecuteNonQuery();
            }
            catch (NpgsqlException)
            {
                // The instance is thrown away after the run anyway.
            }
        }

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

/// <summary>Which database the tests run on, from the environment the test command sets.</summary>
public static partial class TestDatabase
{
    /// <summary>A connection string to the throwaway PostgreSQL server's maintenance database, or null (SQLite).</summary>
    public static string? PostgresAdmin { get; } = Environment.GetEnvironmentVariable("COORDINATION_TEST_POSTGRES") is { Length: > 0 } value ? value : null;

    /// <summary>The throwaway server's data directory, for canary scans of its files.</summary>
    public static string? PostgresDataDirectory { get; } = Environment.GetEnvironmentVariable("COORDINATION_TEST_POSTGRES_DATA");

    private static readonly Lazy<HashSet<string>> s_identifiers = new(() =>
    {
        using Coordination.Server.Persistence.PostgresCoordinationDbContext db = new(
            new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Coordination.Server.Persistence.PostgresCoordinationDbContext>()
                .UseNpgsql("Host=127.0.0.1").Options);
        HashSet<string> names = new(StringComparer.Ordinal);
        foreach (Microsoft.EntityFrameworkCore.Metadata.IEntityType entity in db.Model.GetEntityTypes())
        {
            names.Add(entity.GetTableName()!);
            foreach (Microsoft.EntityFrameworkCore.Metadata.IProperty property in entity.GetProperties())
            {
                names.Add(property.GetColumnName());
            }
        }

        return names;
    });

    /// <summary>
    /// SQL written for SQLite (unquoted names, <c>$0</c> parameters) in PostgreSQL's spelling: the
    /// model's table and column names quoted (they are mixed case there), parameters <c>@p0</c>.
    /// </summary>
    public static string ToPostgres(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        string quoted = Identifier().Replace(sql, m => s_identifiers.Value.Contains(m.Value) ? $"\"{m.Value}\"" : m.Value);
        return Parameter().Replace(quoted, m => "@p" + m.Groups[1].Value);
    }

    [System.Text.RegularExpressions.GeneratedRegex("(?<![\"\\w'])[A-Za-z_][A-Za-z0-9_]*(?![\"\\w'])")]
    private static partial System.Text.RegularExpressions.Regex Identifier();

    [System.Text.RegularExpressions.GeneratedRegex("\\$([0-9]+)")]
    private static partial System.Text.RegularExpressions.Regex Parameter();
}

/// <summary>A test of something only SQLite has (its file, pragmas, secure_delete): skipped on PostgreSQL.</summary>
public sealed class SqliteFactAttribute : Xunit.FactAttribute
{
    public SqliteFactAttribute()
    {
        if (RelayFactory.OnPostgres)
        {
            Skip = "SQLite only: this run is on PostgreSQL.";
        }
    }
}

/// <summary>A test that needs the throwaway PostgreSQL server the test command starts: skipped without it.</summary>
public sealed class PostgresFactAttribute : Xunit.FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!RelayFactory.OnPostgres)
        {
            Skip = "Needs PostgreSQL (COORDINATION_TEST_POSTGRES, set by run-tests.sh for its PostgreSQL pass).";
        }
    }
}
