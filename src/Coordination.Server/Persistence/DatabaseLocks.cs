using System.Buffers.Binary;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Coordination.Server.Persistence;

/// <summary>
/// Serializes the writers of one thing (a cell's ledger, a task) across relay nodes. On SQLite one
/// process owns the file and a write transaction already excludes every other writer, so this
/// does nothing; on PostgreSQL it takes a transaction-scoped advisory lock, released at commit or
/// rollback. Call it first thing inside the transaction.
/// </summary>
public static class DatabaseLocks
{
    /// <summary>The advisory-lock key of the relay writer's envelope inserts (see <c>RelayWriter</c>).</summary>
    public const long EnvelopeSequence = 0x436f6f7264456e76; // "CoordEnv"

    public static async Task LockAsync(this DatabaseFacade database, Guid key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database.IsNpgsql())
        {
            long lockKey = KeyOf(key);
            await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({lockKey})", ct);
        }
    }

    /// <summary>A 64-bit advisory-lock key from a Guid (its two halves folded together).</summary>
    public static long KeyOf(Guid key)
    {
        Span<byte> bytes = stackalloc byte[16];
        key.TryWriteBytes(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes) ^ BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
    }
}
