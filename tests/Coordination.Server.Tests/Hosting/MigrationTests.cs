using Coordination.Server.Persistence;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Hosting;

/// <summary>
/// The migrations are written by hand, one set per database, so this compares the schema each
/// set creates (the relay applies them at start) with the EF model: every table, column (type,
/// nullability, identity), primary key (columns in order), index (columns, uniqueness) and
/// foreign key (columns, target, ON DELETE), and no table the model does not have besides the
/// migrator's own.
/// </summary>
public sealed class MigrationTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public MigrationTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [SqliteFact]
    public void SqliteMigrations_CreateExactlyTheModel() => AssertMigrationsCreateTheModel();

    [PostgresFact]
    public void PostgresMigrations_CreateExactlyTheModel() => AssertMigrationsCreateTheModel();

    [SqliteFact]
    public void Database_UsesWalAndEnvelopeSeqNeverRepeats()
    {
        _ = _relay.ServerAddress;
        Assert.Equal("wal", (string)_relay.Query("PRAGMA journal_mode")[0][0]!);

        // AUTOINCREMENT: a sequence number is never handed out twice, even after the newest envelope is deleted.
        string envelopes = (string)_relay.Query("SELECT sql FROM sqlite_master WHERE name = 'Envelopes'")[0][0]!;
        Assert.Contains("AUTOINCREMENT", envelopes, StringComparison.Ordinal);
    }

    [PostgresFact]
    public void Postgres_EnvelopeSeqIsAnIdentityColumn()
    {
        // An identity column draws from a sequence, which never hands out a number twice, even
        // after the newest envelope is deleted or a transaction that drew one rolls back.
        _ = _relay.ServerAddress;
        object?[] seq = Assert.Single(_relay.Query(
            "SELECT is_identity::text, identity_generation::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'Envelopes' AND column_name = 'Seq'"));
        Assert.Equal<object?>(["YES", "BY DEFAULT", "bigint"], seq);
        Assert.NotNull(Assert.Single(_relay.Query("SELECT pg_get_serial_sequence('\"Envelopes\"', 'Seq')"))[0]);
    }

    private void AssertMigrationsCreateTheModel()
    {
        _ = _relay.ServerAddress;
        using IServiceScope scope = _relay.Services.CreateScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        Assert.Equal(RelayFactory.OnPostgres, db is PostgresCoordinationDbContext);
        Assert.Empty(db.Database.GetPendingMigrations());

        IModel model = db.GetService<IDesignTimeModel>().Model;
        List<string> problems = DatabaseSchema.Differences(DatabaseSchema.FromModel(model, RelayFactory.OnPostgres), DatabaseSchema.Read(_relay));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
