using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Coordination.Server.Persistence;

/// <summary>Which database holds the relay's state (<c>Database:Provider</c>).</summary>
public enum DatabaseProvider
{
    /// <summary>One file under <c>Storage:DataDirectory</c>; one relay node.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (<c>ConnectionStrings:Coordination</c>); any number of relay nodes.</summary>
    Postgres,
}

/// <summary>
/// Where the database lives: <c>Database:Provider</c> (default <c>Sqlite</c>),
/// <c>Storage:DataDirectory</c> (default <c>./data</c>; the SQLite file and the intake pepper file)
/// and, for PostgreSQL, <c>ConnectionStrings:Coordination</c>.
/// </summary>
public sealed class StorageOptions
{
    public string DataDirectory { get; set; } = "data";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>The Npgsql connection string when <see cref="Provider"/> is PostgreSQL.</summary>
    public string? PostgresConnectionString { get; set; }

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, "coordination.db"));

    public string SqliteConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = DatabasePath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        ForeignKeys = true,
        // Seconds Microsoft.Data.Sqlite keeps retrying a busy database: the same as busy_timeout,
        // so a locked database is answered with 503 after ten seconds, not held for thirty.
        DefaultTimeout = 10,
    }.ToString();

    /// <summary>Reads the three settings; a provider name that is not known, or PostgreSQL without a connection string, stops the start.</summary>
    public static StorageOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        StorageOptions storage = configuration.GetSection("Storage").Get<StorageOptions>() ?? new StorageOptions();
        string? provider = configuration["Database:Provider"];
        if (!string.IsNullOrWhiteSpace(provider))
        {
            storage.Provider = provider.Trim().ToUpperInvariant() switch
            {
                "SQLITE" => DatabaseProvider.Sqlite,
                "POSTGRES" or "POSTGRESQL" => DatabaseProvider.Postgres,
                _ => throw new InvalidOperationException($"Database:Provider '{provider}' is not known; use Sqlite or Postgres."),
            };
        }

        if (storage.IsPostgres)
        {
            storage.PostgresConnectionString = configuration.GetConnectionString("Coordination");
            if (string.IsNullOrWhiteSpace(storage.PostgresConnectionString))
            {
                throw new InvalidOperationException("Database:Provider is Postgres but ConnectionStrings:Coordination is not set.");
            }

            try
            {
                _ = new NpgsqlConnectionStringBuilder(storage.PostgresConnectionString);
            }
            catch (ArgumentException ex)
            {
                // The message names the bad keyword, never the connection string (it may hold a password).
                throw new InvalidOperationException($"ConnectionStrings:Coordination is not a valid PostgreSQL connection string: {ex.Message}", ex);
            }
        }

        return storage;
    }
}

public static class DatabaseExtensions
{
    public static WebApplicationBuilder AddCoordinationDatabase(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        StorageOptions storage = StorageOptions.From(builder.Configuration);
        builder.Services.AddSingleton(storage);
        if (storage.IsPostgres)
        {
            NpgsqlDataSource dataSource = PostgresDataSource.Create(storage.PostgresConnectionString!);
            builder.Services.AddSingleton(dataSource);
            builder.Services.AddSingleton<DbDataSource>(dataSource);
            builder.Services.AddDbContext<CoordinationDbContext, PostgresCoordinationDbContext>(options => options
                .UseNpgsql(dataSource)
                .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning)),
                optionsLifetime: ServiceLifetime.Singleton);
            return builder;
        }

        builder.Services.AddSingleton<DbDataSource>(new SqliteDataSource(storage.SqliteConnectionString));
        builder.Services.AddDbContext<CoordinationDbContext, SqliteCoordinationDbContext>(options => options
            .UseSqlite(storage.SqliteConnectionString)
            .AddInterceptors(new SqlitePragmaInterceptor())
            // Migrations are written by hand, without a model snapshot; MigrationTests compares the
            // migrated schema with the model instead.
            .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning)),
            // The options never change: build them once, not for every hub call that needs a context.
            optionsLifetime: ServiceLifetime.Singleton);
        return builder;
    }

    /// <summary>
    /// Applies every migration. SQLite: creates the data directory and the file privately and
    /// switches it to WAL. PostgreSQL: the database must exist; several nodes starting at once are
    /// serialized by EF Core's migration lock.
    /// </summary>
    public static WebApplication MigrateDatabase(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        StorageOptions storage = app.Services.GetRequiredService<StorageOptions>();
        if (!storage.IsPostgres)
        {
            CreatePrivately(storage.DatabasePath);
            using SqliteConnection connection = new(storage.SqliteConnectionString);
            connection.Open();
            SqlitePragmas.EnableWal(connection);
        }

        using IServiceScope scope = app.Services.CreateScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        if (storage.IsPostgres)
        {
            // EF Core's migrator reads the history table before it creates it, and on a new
            // PostgreSQL database logs that failed read as an error. Create the table first.
            try
            {
                db.Database.ExecuteSqlRaw(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript());
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
                // Another node created it at the same moment.
            }
        }

        db.Database.Migrate();
        return app;
    }

    /// <summary>
    /// A new data directory is 0700 and a new database file 0600 whatever the umask; SQLite gives
    /// its -wal and -shm files the database file's mode. Existing files keep the mode they have.
    /// </summary>
    private static void CreatePrivately(string databasePath)
    {
        string directory = Path.GetDirectoryName(databasePath)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!File.Exists(databasePath))
        {
            using FileStream _ = new(databasePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
    }
}

/// <summary>Connection settings every connection to the SQLite file must have.</summary>
public static class SqlitePragmas
{
    /// <summary>
    /// <c>secure_delete</c> zeroes deleted content in the file; <c>synchronous=FULL</c> makes every
    /// commit durable before it is acknowledged; foreign keys on; wait instead of failing when busy.
    /// </summary>
    public const string PerConnection = "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";

    public static void Apply(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = PerConnection;
        command.ExecuteNonQuery();
    }

    public static void EnableWal(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}

internal sealed class SqlitePragmaInterceptor : DbConnectionInterceptor
{
    public override void ConnectionOpened(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData)
    {
        if (connection is SqliteConnection sqlite)
        {
            SqlitePragmas.Apply(sqlite);
        }
    }

    public override async Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (connection is SqliteConnection sqlite)
        {
            await using SqliteCommand command = sqlite.CreateCommand();
            command.CommandText = SqlitePragmas.PerConnection;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>A data source for SQLite, so the relay's own connections are opened the same way for both providers.</summary>
internal sealed class SqliteDataSource(string connectionString) : DbDataSource
{
    public override string ConnectionString => connectionString;

    protected override DbConnection CreateDbConnection() => new SqliteConnection(connectionString);
}

/// <summary>How the relay talks to PostgreSQL.</summary>
public static class PostgresDataSource
{
    public static NpgsqlDataSource Create(string connectionString)
    {
        NpgsqlDataSourceBuilder builder = new(connectionString);
        NpgsqlConnectionStringBuilder settings = builder.ConnectionStringBuilder;
        // The writer runs the same few statements for every batch: let Npgsql prepare them.
        if (settings.MaxAutoPrepare == 0)
        {
            settings.MaxAutoPrepare = 32;
        }

        // Errors never carry parameter values (ciphertext, keys) into exceptions or logs.
        settings.IncludeErrorDetail = false;
        settings.ApplicationName ??= "coordination-relay";
        return builder.Build();
    }
}
