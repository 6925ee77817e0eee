using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace Coordination.Server.Tests.Infrastructure;

/// <summary>A column: its name, its type as the database spells it, whether it takes NULL, and whether it numbers rows by itself (PostgreSQL: an identity column; SQLite: INTEGER PRIMARY KEY AUTOINCREMENT).</summary>
public sealed record ColumnSchema(string Name, string Type, bool Nullable, bool Identity);

/// <summary>An index that is neither the primary key nor a constraint's: its name, its columns in order, whether it is unique.</summary>
public sealed record IndexSchema(string Name, string Columns, bool Unique);

/// <summary>A foreign key: its columns, the table and columns it refers to, and what deleting the referred row does. The name is known on PostgreSQL only.</summary>
public sealed record ForeignKeySchema(string? Name, string Columns, string PrincipalTable, string PrincipalColumns, string OnDelete);

/// <summary>A table: its columns in order, its primary key columns in key order (and, on PostgreSQL, the key's name), its indexes and its foreign keys.</summary>
public sealed record TableSchema(
    string Name,
    IReadOnlyList<ColumnSchema> Columns,
    string? PrimaryKeyName,
    string PrimaryKey,
    IReadOnlyList<IndexSchema> Indexes,
    IReadOnlyList<ForeignKeySchema> ForeignKeys);

/// <summary>
/// The schema of the relay's database, read from the database itself (SQLite's pragmas or
/// PostgreSQL's catalog) or from the EF model, in one shape, so the migrations can be compared
/// with the model column by column. Column lists are comma-separated, in order.
/// </summary>
public static class DatabaseSchema
{
    /// <summary>The tables EF Core's migrator keeps for itself; they are not in the model.</summary>
    public static readonly IReadOnlySet<string> MigratorTables = new HashSet<string>(StringComparer.Ordinal) { "__EFMigrationsHistory", "__EFMigrationsLock" };

    /// <summary>The tables of the relay's database (the migrator's own included), by name.</summary>
    public static IReadOnlyDictionary<string, TableSchema> Read(RelayFactory relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        _ = relay.ServerAddress;
        return RelayFactory.OnPostgres ? ReadPostgres(relay) : ReadSqlite(relay);
    }

    /// <summary>The tables the model expects, as the provider the model was built for spells them.</summary>
    public static IReadOnlyDictionary<string, TableSchema> FromModel(IModel model, bool postgres)
    {
        ArgumentNullException.ThrowIfNull(model);
        Dictionary<string, TableSchema> tables = new(StringComparer.Ordinal);
        foreach (IEntityType entity in model.GetEntityTypes())
        {
            string table = entity.GetTableName()!;
            StoreObjectIdentifier store = TableOf(entity);
            string ColumnsOf(IEnumerable<IProperty> properties, StoreObjectIdentifier? of = null) =>
                string.Join(',', properties.Select(p => p.GetColumnName(of ?? store)!));

            IKey primaryKey = entity.FindPrimaryKey()!;
            tables[table] = new TableSchema(
                table,
                [.. entity.GetProperties().Select(p => new ColumnSchema(
                    p.GetColumnName(store)!,
                    p.GetColumnType(store),
                    p.IsColumnNullable(store),
                    postgres
                        ? NpgsqlPropertyExtensions.GetValueGenerationStrategy(p, store) is NpgsqlValueGenerationStrategy.IdentityByDefaultColumn or NpgsqlValueGenerationStrategy.IdentityAlwaysColumn
                        : SqlitePropertyExtensions.GetValueGenerationStrategy(p, store) == SqliteValueGenerationStrategy.Autoincrement))],
                postgres ? primaryKey.GetName(store) : null,
                ColumnsOf(primaryKey.Properties),
                [.. entity.GetIndexes().Select(i => new IndexSchema(i.GetDatabaseName(store)!, ColumnsOf(i.Properties), i.IsUnique))],
                [.. entity.GetForeignKeys().Select(f => new ForeignKeySchema(
                    postgres ? f.GetConstraintName(store, TableOf(f.PrincipalEntityType)) : null,
                    ColumnsOf(f.Properties),
                    f.PrincipalEntityType.GetTableName()!,
                    ColumnsOf(f.PrincipalKey.Properties, TableOf(f.PrincipalEntityType)),
                    OnDelete(f.DeleteBehavior)))]);
        }

        return tables;
    }

    /// <summary>
    /// Every difference between what the model expects and what the database has, one line each:
    /// missing or extra tables (the migrator's own aside), columns, types, nullability, identity,
    /// primary keys, indexes and foreign keys.
    /// </summary>
    public static List<string> Differences(IReadOnlyDictionary<string, TableSchema> expected, IReadOnlyDictionary<string, TableSchema> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        List<string> problems = [];
        foreach (TableSchema model in expected.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(model.Name, out TableSchema? table))
            {
                problems.Add($"table {model.Name} is missing");
                continue;
            }

            Dictionary<string, ColumnSchema> columns = table.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
            foreach (ColumnSchema wanted in model.Columns)
            {
                if (!columns.TryGetValue(wanted.Name, out ColumnSchema? column))
                {
                    problems.Add($"{model.Name}.{wanted.Name} is missing");
                    continue;
                }

                if (!string.Equals(column.Type, wanted.Type, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{model.Name}.{wanted.Name} is {column.Type}, the model says {wanted.Type}");
                }

                if (column.Nullable != wanted.Nullable)
                {
                    problems.Add($"{model.Name}.{wanted.Name}: nullable is {column.Nullable}, the model says {wanted.Nullable}");
                }

                if (column.Identity != wanted.Identity)
                {
                    problems.Add($"{model.Name}.{wanted.Name}: identity is {column.Identity}, the model says {wanted.Identity}");
                }
            }

            problems.AddRange(Extra(table.Columns.Select(c => c.Name), model.Columns.Select(c => c.Name)).Select(c => $"{model.Name}.{c} is not in the model"));

            if (table.PrimaryKey != model.PrimaryKey)
            {
                problems.Add($"{model.Name}: the primary key is ({table.PrimaryKey}), the model says ({model.PrimaryKey})");
            }

            if (model.PrimaryKeyName is { } keyName && table.PrimaryKeyName != keyName)
            {
                problems.Add($"{model.Name}: the primary key is named {table.PrimaryKeyName}, the model says {keyName}");
            }

            problems.AddRange(Compare($"{model.Name}: index", model.Indexes, table.Indexes));
            problems.AddRange(Compare($"{model.Name}: foreign key", model.ForeignKeys, table.ForeignKeys));
        }

        problems.AddRange(Extra(actual.Keys.Where(t => !MigratorTables.Contains(t)), expected.Keys).Select(t => $"table {t} is not in the model"));
        return problems;
    }

    private static IEnumerable<string> Compare<T>(string what, IEnumerable<T> expected, IEnumerable<T> actual)
    {
        List<T> wanted = [.. expected];
        List<T> found = [.. actual];
        return Extra(wanted, found).Select(i => $"{what} {i} is missing").Concat(Extra(found, wanted).Select(i => $"{what} {i} is not in the model"));
    }

    private static IEnumerable<T> Extra<T>(IEnumerable<T> these, IEnumerable<T> butNotThese)
    {
        HashSet<T> others = [.. butNotThese];
        return these.Where(t => !others.Contains(t));
    }

    private static StoreObjectIdentifier TableOf(IEntityType entity) => StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());

    /// <summary>The referential action EF Core's migrations write for a delete behavior.</summary>
    private static string OnDelete(DeleteBehavior behavior) => behavior switch
    {
        DeleteBehavior.Cascade => "CASCADE",
        DeleteBehavior.SetNull => "SET NULL",
        DeleteBehavior.NoAction or DeleteBehavior.ClientNoAction => "NO ACTION",
        _ => "RESTRICT",
    };

    private static Dictionary<string, TableSchema> ReadSqlite(RelayFactory relay)
    {
        Dictionary<string, TableSchema> tables = new(StringComparer.Ordinal);
        foreach (object?[] row in relay.Query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        {
            string table = (string)row[0]!;
            List<object?[]> columns = relay.Query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($0) ORDER BY cid", table);

            // AUTOINCREMENT is allowed on one column only, an INTEGER PRIMARY KEY, and pragma_table_info does not show it.
            bool autoincrement = ((string)row[1]!).Contains("AUTOINCREMENT", StringComparison.OrdinalIgnoreCase);
            bool Identity(object?[] column) =>
                autoincrement && (long)column[3]! == 1 && columns.Count(c => (long)c[3]! > 0) == 1 && string.Equals((string)column[1]!, "INTEGER", StringComparison.OrdinalIgnoreCase);

            List<IndexSchema> indexes = [];
            foreach (object?[] index in relay.Query("SELECT name, \"unique\" FROM pragma_index_list($0) WHERE origin = 'c'", table))
            {
                string name = (string)index[0]!;
                indexes.Add(new IndexSchema(name, JoinNames(relay.Query("SELECT name FROM pragma_index_info($0) ORDER BY seqno", name)), (long)index[1]! == 1));
            }

            tables[table] = new TableSchema(
                table,
                [.. columns.Select(c => new ColumnSchema((string)c[0]!, (string)c[1]!, (long)c[2]! == 0, Identity(c)))],
                null,
                string.Join(',', columns.Where(c => (long)c[3]! > 0).OrderBy(c => (long)c[3]!).Select(c => (string)c[0]!)),
                indexes,
                [.. relay.Query("SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($0) ORDER BY id, seq", table)
                    .GroupBy(r => (long)r[0]!)
                    .Select(g => new ForeignKeySchema(
                        null,
                        string.Join(',', g.Select(r => (string)r[2]!)),
                        (string)g.First()[1]!,
                        string.Join(',', g.Select(r => (string)r[3]!)),
                        (string)g.First()[4]!))]);
        }

        return tables;
    }

    private static Dictionary<string, TableSchema> ReadPostgres(RelayFactory relay)
    {
        // Catalog names are lower case and the model's names are not, so the shared SQL translation
        // leaves these queries as they are; table names are parameters.
        const string Tables = """
            SELECT c.oid::bigint, c.relname::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            """;
        const string Columns = """
            SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, a.attidentity <> ''
            FROM pg_attribute a
            WHERE a.attrelid = $0::bigint::oid AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;
        const string Indexes = """
            SELECT i.relname::text, x.indisunique, x.indisprimary,
                   EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype <> 'p'),
                   (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord)
                    FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(num, ord)
                    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = $0::bigint::oid
            """;
        const string ForeignKeys = """
            SELECT k.conname::text, p.relname::text,
                   (SELECT string_agg(a.attname::text, ',' ORDER BY c.ord)
                    FROM unnest(k.conkey) WITH ORDINALITY AS c(num, ord)
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = c.num),
                   (SELECT string_agg(a.attname::text, ',' ORDER BY c.ord)
                    FROM unnest(k.confkey) WITH ORDINALITY AS c(num, ord)
                    JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = c.num),
                   CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
                                      WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
            FROM pg_constraint k JOIN pg_class p ON p.oid = k.confrelid
            WHERE k.contype = 'f' AND k.conrelid = $0::bigint::oid
            """;

        Dictionary<string, TableSchema> tables = new(StringComparer.Ordinal);
        foreach (object?[] row in relay.Query(Tables))
        {
            long oid = (long)row[0]!;
            string table = (string)row[1]!;
            List<object?[]> indexes = relay.Query(Indexes, oid);
            object?[]? primaryKey = indexes.SingleOrDefault(i => (bool)i[2]!);
            tables[table] = new TableSchema(
                table,
                [.. relay.Query(Columns, oid).Select(c => new ColumnSchema((string)c[0]!, (string)c[1]!, (bool)c[2]!, (bool)c[3]!))],
                (string?)primaryKey?[0],
                (string?)primaryKey?[4] ?? "",
                [.. indexes.Where(i => !(bool)i[2]! && !(bool)i[3]!).Select(i => new IndexSchema((string)i[0]!, (string)i[4]!, (bool)i[1]!))],
                [.. relay.Query(ForeignKeys, oid).Select(f => new ForeignKeySchema((string)f[0]!, (string)f[2]!, (string)f[1]!, (string)f[3]!, (string)f[4]!))]);
        }

        return tables;
    }

    private static string JoinNames(List<object?[]> rows) =>
        string.Join(',', rows.Select(r => Convert.ToString(r[0], CultureInfo.InvariantCulture)));
}
