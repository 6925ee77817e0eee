using System.Data.Common;

namespace Coordination.Server.Relay;

public sealed partial class RelayWriter
{
    /// <summary>
    /// The writer's SQL, created once per connection and reused for every batch. The same text runs
    /// on SQLite and PostgreSQL (named <c>@</c> parameters, <c>RETURNING</c>).
    /// </summary>
    private sealed class Statements
    {
        private readonly DbCommand _findReceipt;
        private readonly DbCommand _insertEnvelope;
        private readonly DbCommand _insertReceipt;
        private readonly DbCommand _advance;
        private readonly DbCommand _deleteAcknowledged;
        private readonly DbCommand _deleteExpired;
        private readonly DbCommand? _lockSequence;
        private readonly DbCommand? _notify;

        public Statements(DbConnection connection, bool postgres)
        {
            _findReceipt = Command(connection,
                """SELECT "Seq", "EnvelopeExpiresAt" FROM "SendReceipts" WHERE "ConversationId" = @c AND "MessageId" = @m""",
                "c", "m");
            _insertEnvelope = Command(connection,
                """INSERT INTO "Envelopes" ("ConversationId", "MessageId", "Ciphertext", "ExpiresAt") VALUES (@c, @m, @b, @x) RETURNING "Seq" """,
                "c", "m", "b", "x");
            _insertReceipt = Command(connection,
                """INSERT INTO "SendReceipts" ("ConversationId", "MessageId", "Seq", "EnvelopeExpiresAt", "ExpiresAt") VALUES (@c, @m, @s, @ex, @x)""",
                "c", "m", "s", "ex", "x");
            _advance = Command(connection,
                """UPDATE "DeliveryCursors" SET "AckedSeq" = @s WHERE "DeviceId" = @d AND "ConversationId" = @c AND "AckedSeq" < @s""",
                "s", "d", "c");
            _deleteAcknowledged = Command(connection,
                """
                DELETE FROM "Envelopes" WHERE "ConversationId" = @c
                  AND "Seq" <= (SELECT MIN("AckedSeq") FROM "DeliveryCursors" WHERE "ConversationId" = @c)
                """,
                "c");
            _deleteExpired = Command(connection,
                """
                DELETE FROM "Envelopes" WHERE "ExpiresAt" <= @now;
                DELETE FROM "SendReceipts" WHERE "ExpiresAt" <= @now;
                DELETE FROM "Sessions" WHERE "ExpiresAt" <= @now;
                DELETE FROM "LinkCodes" WHERE "ExpiresAt" <= @now;
                """,
                "now");
            if (postgres)
            {
                // Envelope sequence numbers must become visible in the order they were given out, or a
                // device could acknowledge seq N+1 before seq N (from another node) commits, and the
                // sweep would delete N undelivered. Writers on every node take this lock first; it is
                // released at commit.
                _lockSequence = Command(connection, $"SELECT pg_advisory_xact_lock({Persistence.DatabaseLocks.EnvelopeSequence})");
                _notify = Command(connection, "SELECT pg_notify(@channel, @payload)", "channel", "payload");
            }
        }

        private IEnumerable<DbCommand> All =>
            new[] { _findReceipt, _insertEnvelope, _insertReceipt, _advance, _deleteAcknowledged, _deleteExpired, _lockSequence, _notify }.OfType<DbCommand>();

        public void Use(DbTransaction transaction)
        {
            foreach (DbCommand command in All)
            {
                command.Transaction = transaction;
            }
        }

        public void Dispose()
        {
            foreach (DbCommand command in All)
            {
                command.Dispose();
            }
        }

        /// <summary>PostgreSQL only: waits for the envelope-sequence lock (held until this transaction ends).</summary>
        public void LockSequence() => _lockSequence?.ExecuteNonQuery();

        /// <summary>PostgreSQL only: a notification delivered to every listening node when the transaction commits.</summary>
        public void Notify(string channel, string payload)
        {
            if (_notify is null)
            {
                return;
            }

            _notify.Parameters[0].Value = channel;
            _notify.Parameters[1].Value = payload;
            _notify.ExecuteNonQuery();
        }

        public (long Seq, long ExpiresAt)? FindReceipt(Guid conversationId, Guid messageId)
        {
            _findReceipt.Parameters[0].Value = conversationId;
            _findReceipt.Parameters[1].Value = messageId;
            using DbDataReader reader = _findReceipt.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
        }

        public long InsertEnvelope(Guid conversationId, Guid messageId, byte[] ciphertext, long expiresAt)
        {
            _insertEnvelope.Parameters[0].Value = conversationId;
            _insertEnvelope.Parameters[1].Value = messageId;
            _insertEnvelope.Parameters[2].Value = ciphertext;
            _insertEnvelope.Parameters[3].Value = expiresAt;
            return Convert.ToInt64(_insertEnvelope.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
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

        private static DbCommand Command(DbConnection connection, string sql, params string[] parameters)
        {
            DbCommand command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (string name in parameters)
            {
                DbParameter parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }

            return command;
        }
    }
}
