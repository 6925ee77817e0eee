using System.Buffers.Binary;
using System.Collections.Concurrent;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Operations;

namespace Coordination.Server.Intake;

/// <summary>
/// Proof-of-work challenges for submissions, kept by nobody until they are solved. A challenge id
/// carries its expiry (8 bytes, big-endian Unix ms), its difficulty (1 byte) and 7 random bytes;
/// its nonce is BLAKE2b-256 keyed with this relay's challenge key over the intake id and the
/// challenge id. So the relay checks a solution by recomputing the nonce: handing out a challenge
/// costs one hash and no memory, and a flood of challenge requests cannot crowd out a reporter.
/// Only a solved challenge is remembered (until it expires), to refuse its reuse; filling that
/// memory costs the work of solving. A challenge is bound to one intake and expires after
/// <see cref="IntakeLimits.ChallengeLifetime"/>. Refusals are counted in <see cref="RelayMetrics"/> when one is given.
/// </summary>
public sealed class PowChallenges(TimeProvider clock, IntakeOptions options, RelayMetrics? metrics = null) : IDisposable
{
    private readonly SecretKey _key = SecretKey.Generate();
    private readonly ConcurrentDictionary<Guid, long> _used = new();

    /// <summary>Solved challenges remembered now (until they expire).</summary>
    public int Count => _used.Count;

    public PowChallenge Issue(Guid intakeId, int difficulty)
    {
        long expiresAt = clock.GetUtcNow().Add(IntakeLimits.ChallengeLifetime).ToUnixTimeMilliseconds();
        Span<byte> id = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(id, expiresAt);
        id[8] = (byte)difficulty;
        SecureRandom.Fill(id[9..]);
        Guid challengeId = new(id, bigEndian: true);
        return new PowChallenge(challengeId, Nonce(intakeId, challengeId), difficulty, expiresAt);
    }

    /// <summary>Null when the solution is for a challenge this relay issued for this intake, unexpired, unused and solved; otherwise why not.</summary>
    public string? Redeem(Guid intakeId, PowSolution? solution)
    {
        string? refusal = Check(intakeId, solution);
        if (refusal is not null)
        {
            metrics?.PowRefused();
        }

        return refusal;
    }

    private string? Check(Guid intakeId, PowSolution? solution)
    {
        if (solution is null)
        {
            return "pow (a solved challenge from POST /api/v1/intakes/{intakeId}/challenges) is required.";
        }

        Span<byte> id = stackalloc byte[16];
        _ = solution.ChallengeId.TryWriteBytes(id, bigEndian: true, out _);
        long expiresAt = BinaryPrimitives.ReadInt64BigEndian(id);
        int difficulty = id[8];
        if (expiresAt <= clock.GetUtcNow().ToUnixTimeMilliseconds() || expiresAt > clock.GetUtcNow().Add(IntakeLimits.ChallengeLifetime).ToUnixTimeMilliseconds()
            || difficulty is < IntakeLimits.MinPowDifficulty or > IntakeLimits.MaxPowDifficulty)
        {
            return "The proof-of-work challenge is unknown or has expired; ask for a new one.";
        }

        // A solution only counts for the nonce this relay made for this intake and this id.
        if (!ProofOfWork.IsSolved(Nonce(intakeId, solution.ChallengeId), solution.Counter, difficulty))
        {
            return "The proof-of-work is not solved, or the challenge is unknown for this intake; ask for a new challenge.";
        }

        if (_used.Count >= options.MaxChallenges)
        {
            PurgeExpired();
        }

        return _used.Count < options.MaxChallenges && _used.TryAdd(solution.ChallengeId, expiresAt)
            ? null
            : "The proof-of-work challenge was already used; ask for a new one.";
    }

    /// <summary>Forgets solved challenges that have expired (they cannot be replayed any more); returns how many.</summary>
    public int PurgeExpired()
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        int purged = 0;
        foreach (KeyValuePair<Guid, long> entry in _used)
        {
            if (entry.Value <= now && _used.TryRemove(entry))
            {
                purged++;
            }
        }

        return purged;
    }

    public void Dispose() => _key.Dispose();

    private byte[] Nonce(Guid intakeId, Guid challengeId) =>
        Blake2b.KeyedHash(_key, [.. intakeId.ToByteArray(bigEndian: true), .. challengeId.ToByteArray(bigEndian: true)], IntakeLimits.PowNonceBytes);
}
