using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Coordination.Server.Persistence;

/// <summary>Where the database lives. <c>Storage:DataDirectory</c>, default <c>./data</c>.</summary>
public sealed class StorageOptions
{
    public string DataDirectory { get; set; } = "data";

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, "coordination.db"));

    public string SqliteConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = DatabasePath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        ForeignKeys = true,
        DefaultTimeout = 30,
    }.ToString();
}

public static class DatabaseExtensions
{
    public static WebApplicationBuilder AddCoordinationDatabase(this WebApplicationBuilder builder)
    {
        StorageOptions storage = builder.Configuration.GetSection("Storage").Get<StorageOptions>() ?? new StorageOptions();
        builder.Services.AddSingleton(storage);
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

    /// <summary>Creates the data directory and the database, switches it to WAL and applies every migration.</summary>
    public static WebApplication MigrateDatabase(this WebApplication app)
    {
        StorageOptions storage = app.Services.GetRequiredService<StorageOptions>();
        CreatePrivately(storage.DatabasePath);
        using (SqliteConnection connection = new(storage.SqliteConnectionString))
        {
            connection.Open();
            SqlitePragmas.EnableWal(connection);
        }

        using IServiceScope scope = app.Services.CreateScope();
        scope.ServiceProvider.GetRequiredService<CoordinationDbContext>().Database.Migrate();
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
