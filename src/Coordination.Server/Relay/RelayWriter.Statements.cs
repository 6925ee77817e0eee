using Microsoft.Data.Sqlite;

namespace Coordination.Server.Relay;

public sealed partial class RelayWriter
{
    /// <summary>The writer's SQL, prepared once per connection and reused for every batch.</summary>
    private sealed class Statements
    {
        private readonly SqliteCommand _findReceipt;
        private readonly SqliteCommand _insertEnvelope;
        private readonly SqliteCommand _insertReceipt;
        private readonly SqliteCommand _advance;
        private readonly SqliteCommand _deleteAcknowledged;
        private readonly SqliteCommand _deleteExpired;

        public Statements(SqliteConnection connection)
        {
            _findReceipt = Command(connection,
                """SELECT "Seq", "EnvelopeExpiresAt" FROM "SendReceipts" WHERE "ConversationId" = $c AND "MessageId" = $m""",
                "$c", "$m");
            _insertEnvelope = Command(connection,
                """INSERT INTO "Envelopes" ("ConversationId", "MessageId", "Ciphertext", "ExpiresAt") VALUES ($c, $m, $b, $x) RETURNING "Seq" """,
                "$c", "$m", "$b", "$x");
            _insertReceipt = Command(connection,
                """INSERT INTO "SendReceipts" ("ConversationId", "MessageId", "Seq", "EnvelopeExpiresAt", "ExpiresAt") VALUES ($c, $m, $s, $ex, $x)""",
                "$c", "$m", "$s", "$ex", "$x");
            _advance = Command(connection,
                """UPDATE "DeliveryCursors" SET "AckedSeq" = $s WHERE "DeviceId" = $d AND "ConversationId" = $c AND "AckedSeq" < $s""",
                "$s", "$d", "$c");
            _deleteAcknowledged = Command(connection,
                """
                DELETE FROM "Envelopes" WHERE "ConversationId" = $c
                  AND "Seq" <= (SELECT MIN("AckedSeq") FROM "DeliveryCursors" WHERE "ConversationId" = $c)
                """,
                "$c");
            _deleteExpired = Command(connection,
                """
                DELETE FROM "Envelopes" WHERE "ExpiresAt" <= $now;
                DELETE FROM "SendReceipts" WHERE "ExpiresAt" <= $now;
                DELETE FROM "Sessions" WHERE "ExpiresAt" <= $now;
                DELETE FROM "LinkCodes" WHERE "ExpiresAt" <= $now;
                """,
                "$now");
        }

        public void Use(SqliteTransaction transaction)
        {
            foreach (SqliteCommand command in (SqliteCommand[])[_findReceipt, _insertEnvelope, _insertReceipt, _advance, _deleteAcknowledged, _deleteExpired])
            {
                command.Transaction = transaction;
            }
        }

        public (long Seq, long ExpiresAt)? FindReceipt(Guid conversationId, Guid messageId)
        {
            _findReceipt.Parameters[0].Value = conversationId;
            _findReceipt.Parameters[1].Value = messageId;
            using SqliteDataReader reader = _findReceipt.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
        }

        public long InsertEnvelope(Guid conversationId, Guid messageId, byte[] ciphertext, long expiresAt)
        {
            _insertEnvelope.Parameters[0].Value = conversationId;
            _insertEnvelope.Parameters[1].Value = messageId;
            _insertEnvelope.Parameters[2].Value = ciphertext;
            _insertEnvelope.Parameters[3].Value = expiresAt;
            return (long)_insertEnvelope.ExecuteScalar()!;
        }

        public void InsertReceipt(Guid conversationId, Guid messageId, long seq, long envelopeExpiresAt, long expiresAt)
        {
            _insertReceipt.Parameters[0].Value = conversationId;
            _insertReceipt.Parameters[1].Value = messageId;
            _insertReceipt.Parameters[2].Value = seq;
            _insertReceipt.Parameters[3].Value = envelopeExpiresAt;
            _insertReceipt.Parameters[4].Value = expiresAt;
            _insertReceipt.ExecuteNonQuery();
        }

        /// <summary>Moves the cursor forward (never back); true if it moved.</summary>
        public bool Advance(Guid deviceId, Guid conversationId, long seq)
        {
            _advance.Parameters[0].Value = seq;
            _advance.Parameters[1].Value = deviceId;
            _advance.Parameters[2].Value = conversationId;
            return _advance.ExecuteNonQuery() > 0;
        }

        public int DeleteAcknowledged(Guid conversationId)
        {
            _deleteAcknowledged.Parameters[0].Value = conversationId;
            return _deleteAcknowledged.ExecuteNonQuery();
        }

        /// <summary>Deletes expired envelopes, receipts, sessions and link codes; returns the rows deleted.</summary>
        public int DeleteExpired(long now)
        {
            _deleteExpired.Parameters[0].Value = now;
            return _deleteExpired.ExecuteNonQuery();
        }

        private static SqliteCommand Command(SqliteConnection connection, string sql, params string[] parameters)
        {
            SqliteCommand command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (string name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            return command;
        }
    }
}
