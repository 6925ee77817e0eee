using System.Collections.Concurrent;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Server.Intake;

/// <summary>
/// Proof-of-work challenges for submissions, in memory only: bound to one intake, single-use,
/// expiring after <see cref="IntakeLimits.ChallengeLifetime"/>, bounded in number. A challenge is
/// removed by the first submission that names it, solved or not, so a solution cannot be searched
/// for on the relay.
/// </summary>
public sealed class PowChallenges(TimeProvider clock, IntakeOptions options)
{
    private readonly ConcurrentDictionary<Guid, Outstanding> _challenges = new();
    private int _count;

    /// <summary>Challenges held now (expired ones included until a purge).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>A new challenge for the intake, or null when too many are outstanding.</summary>
    public PowChallenge? Issue(Guid intakeId, int difficulty)
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (Count >= options.MaxChallenges)
        {
            PurgeExpired();
            if (Count >= options.MaxChallenges)
            {
                return null;
            }
        }

        Guid id = Guid.NewGuid();
        Outstanding challenge = new(intakeId, SecureRandom.Bytes(IntakeLimits.PowNonceBytes), difficulty, now + (long)IntakeLimits.ChallengeLifetime.TotalMilliseconds);
        if (!_challenges.TryAdd(id, challenge))
        {
            return null;
        }

        Interlocked.Increment(ref _count);
        return new PowChallenge(id, challenge.Nonce, difficulty, challenge.ExpiresAt);
    }

    /// <summary>
    /// Takes the challenge the solution names and checks it: null when it was issued for this
    /// intake, has not expired and is solved; otherwise why not.
    /// </summary>
    public string? Redeem(Guid intakeId, PowSolution? solution)
    {
        if (solution is null)
        {
            return "pow (a solved challenge from POST /api/v1/intakes/{intakeId}/challenges) is required.";
        }

        if (!_challenges.TryRemove(solution.ChallengeId, out Outstanding? challenge))
        {
            return "The proof-of-work challenge is unknown or was already used; ask for a new one.";
        }

        Interlocked.Decrement(ref _count);
        if (challenge.IntakeId != intakeId || challenge.ExpiresAt <= clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            return "The proof-of-work challenge is unknown or has expired; ask for a new one.";
        }

        return ProofOfWork.IsSolved(challenge.Nonce, solution.Counter, challenge.Difficulty)
            ? null
            : "The proof-of-work is not solved; ask for a new challenge.";
    }

    /// <summary>Drops expired challenges; returns how many went.</summary>
    public int PurgeExpired()
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        int purged = 0;
        foreach (KeyValuePair<Guid, Outstanding> entry in _challenges)
        {
            if (entry.Value.ExpiresAt <= now && _challenges.TryRemove(entry))
            {
                Interlocked.Decrement(ref _count);
                purged++;
            }
        }

        return purged;
    }

    private sealed record Outstanding(Guid IntakeId, byte[] Nonce, int Difficulty, long ExpiresAt);
}
