using System.Diagnostics;
using Coordination.Crypto;
using Microsoft.Data.Sqlite;

namespace Coordination.Benchmarks;

internal sealed record SqliteRun(string Mode, int RowsPerTransaction, double Seconds, long Rows, double RowsPerSecond, LatencySummary CommitLatency);

internal sealed record SqliteBaselineResult(string Directory, string SqliteVersion, int RowBytes, SqliteRun FsyncPerInsert, SqliteRun Batched);

/// <summary>
/// (c)'s same-run baseline: raw SQLite on the same disk, with the relay's settings (WAL,
/// synchronous=FULL, secure_delete), one thread, inserting rows shaped like the relay's envelopes.
/// </summary>
internal static class SqliteBaseline
{
    public static SqliteBaselineResult Run(BenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string directory = Path.Combine(options.DataRoot, "sqlite-baseline");
        Directory.CreateDirectory(directory);
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "baseline.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();

        using SqliteConnection connection = new(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;");
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS "Envelopes" (
              "Seq" INTEGER PRIMARY KEY AUTOINCREMENT,
              "ConversationId" TEXT NOT NULL,
              "MessageId" TEXT NOT NULL,
              "Ciphertext" BLOB NOT NULL,
              "ExpiresAt" INTEGER NOT NULL)
            """);
        string version = (string)Scalar(connection, "SELECT sqlite_version()");
        byte[] ciphertext = SecureRandom.Bytes(Payloads.RelayCiphertextBytes);

        Progress.Say($"(sqlite) one fsync'd transaction per insert for {options.SqliteSeconds} s");
        SqliteRun single = Measure(connection, "one transaction per insert", 1, ciphertext, options.SqliteDuration);
        Progress.Say($"(sqlite) {options.SqliteBatch} inserts per transaction for {options.SqliteSeconds} s");
        SqliteRun batched = Measure(connection, "batched", options.SqliteBatch, ciphertext, options.SqliteDuration);
        return new SqliteBaselineResult(directory, version, ciphertext.Length, single, batched);
    }

    private static SqliteRun Measure(SqliteConnection connection, string mode, int rowsPerTransaction, byte[] ciphertext, TimeSpan duration)
    {
        using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = """INSERT INTO "Envelopes" ("ConversationId", "MessageId", "Ciphertext", "ExpiresAt") VALUES ($c, $m, $b, $x)""";
        SqliteParameter conversationId = insert.Parameters.Add("$c", SqliteType.Text);
        SqliteParameter messageId = insert.Parameters.Add("$m", SqliteType.Text);
        insert.Parameters.Add("$b", SqliteType.Blob).Value = ciphertext;
        SqliteParameter expiresAt = insert.Parameters.Add("$x", SqliteType.Integer);
        Guid conversation = Guid.NewGuid();
        LatencyHistogram commits = new();
        long rows = 0;
        long started = Stopwatch.GetTimestamp();
        long deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            long begun = Stopwatch.GetTimestamp();
            using (SqliteTransaction transaction = connection.BeginTransaction(deferred: false))
            {
                insert.Transaction = transaction;
                for (int i = 0; i < rowsPerTransaction; i++)
                {
                    conversationId.Value = conversation;
                    messageId.Value = Guid.NewGuid();
                    expiresAt.Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3_600_000;
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            commits.RecordElapsed(begun, Stopwatch.GetTimestamp());
            rows += rowsPerTransaction;
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new SqliteRun(mode, rowsPerTransaction, Math.Round(seconds, 2), rows, Math.Round(rows / seconds), commits.Summarize());
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }
}
