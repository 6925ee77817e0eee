using Coordination.Server.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Hosting;

/// <summary>
/// The migrations are written by hand, so this compares the schema they create with the EF model:
/// every table, column (and its nullability), primary key and index the model expects.
/// </summary>
public sealed class MigrationTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public MigrationTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public void SqliteMigrations_CreateExactlyTheModel()
    {
        _ = _relay.ServerAddress;
        using IServiceScope scope = _relay.Services.CreateScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        using SqliteConnection connection = _relay.OpenDatabase();
        List<string> problems = [];
        HashSet<string> modelTables = [];

        foreach (IEntityType entity in db.Model.GetEntityTypes())
        {
            string table = entity.GetTableName()!;
            modelTables.Add(table);
            StoreObjectIdentifier store = StoreObjectIdentifier.Table(table, null);
            Dictionary<string, (bool NotNull, int PrimaryKeyOrder)> columns = Query(connection, $"SELECT name, \"notnull\", pk FROM pragma_table_info('{table}')")
                .ToDictionary(r => (string)r[0]!, r => ((long)r[1]! == 1, (int)(long)r[2]!));
            if (columns.Count == 0)
            {
                problems.Add($"table {table} is missing");
                continue;
            }

            foreach (IProperty property in entity.GetProperties())
            {
                string column = property.GetColumnName(store)!;
                if (!columns.TryGetValue(column, out (bool NotNull, int PrimaryKeyOrder) actual))
                {
                    problems.Add($"{table}.{column} is missing");
                    continue;
                }

                if (actual.NotNull == property.IsColumnNullable(store))
                {
                    problems.Add($"{table}.{column}: NOT NULL is {actual.NotNull}, the model says nullable={property.IsColumnNullable(store)}");
                }
            }

            if (columns.Count != entity.GetProperties().Count())
            {
                problems.Add($"{table} has {columns.Count} columns, the model {entity.GetProperties().Count()}");
            }

            string[] modelKey = [.. entity.FindPrimaryKey()!.Properties.Select(p => p.GetColumnName(store)!)];
            string[] actualKey = [.. columns.Where(c => c.Value.PrimaryKeyOrder > 0).OrderBy(c => c.Value.PrimaryKeyOrder).Select(c => c.Key)];
            if (!modelKey.SequenceEqual(actualKey))
            {
                problems.Add($"{table} primary key is ({string.Join(", ", actualKey)}), the model ({string.Join(", ", modelKey)})");
            }

            Dictionary<string, bool> indexes = Query(connection, $"SELECT name, \"unique\" FROM pragma_index_list('{table}') WHERE origin = 'c'")
                .ToDictionary(r => (string)r[0]!, r => (long)r[1]! == 1);
            foreach (IIndex index in entity.GetIndexes())
            {
                string name = index.GetDatabaseName(store)!;
                if (!indexes.TryGetValue(name, out bool unique))
                {
                    problems.Add($"index {name} is missing");
                }
                else if (unique != index.IsUnique)
                {
                    problems.Add($"index {name}: unique is {unique}, the model says {index.IsUnique}");
                }
            }

            foreach (string extra in indexes.Keys.Except(entity.GetIndexes().Select(i => i.GetDatabaseName(store)!)))
            {
                problems.Add($"index {extra} is not in the model");
            }
        }

        List<string> tables = [.. Query(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('__EFMigrationsHistory', '__EFMigrationsLock')").Select(r => (string)r[0]!)];
        problems.AddRange(tables.Except(modelTables).Select(t => $"table {t} is not in the model"));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Database_UsesWalAndEnvelopeSeqNeverRepeats()
    {
        _ = _relay.ServerAddress;
        using SqliteConnection connection = _relay.OpenDatabase();

        Assert.Equal("wal", (string)Query(connection, "PRAGMA journal_mode")[0][0]!);
        string envelopes = (string)Query(connection, "SELECT sql FROM sqlite_master WHERE name = 'Envelopes'")[0][0]!;
        Assert.Contains("AUTOINCREMENT", envelopes, StringComparison.Ordinal);
    }

    private static List<object?[]> Query(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        using SqliteDataReader reader = command.ExecuteReader();
        List<object?[]> rows = [];
        while (reader.Read())
        {
            object?[] row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add(row);
        }

        return rows;
    }
}
