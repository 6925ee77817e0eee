using System.Buffers.Binary;
using System.Collections.Concurrent;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Operations;

namespace Coordination.Server.Intake;

/// <summary>
/// Proof-of-work challenges for submissions, kept by nobody until they are solved. A challenge id
/// carries its expiry (8 bytes, big-endian Unix ms), its difficulty (1 byte), 3 random bytes and a
/// 4-byte tag (keyed BLAKE2b of the intake and the rest of the id, so an id made up or issued for
/// another intake is refused before any work is checked);
/// its nonce is BLAKE2b-256 keyed with the relay's challenge key (derived from the intake pepper, so
/// the same on every node: <see cref="ReceiptLookup"/>) over the intake id and the
/// challenge id. So the relay checks a solution by recomputing the nonce: handing out a challenge
/// costs one hash and no memory, and a flood of challenge requests cannot crowd out a reporter.
/// Only a solved challenge that passed the intake's rate limit is remembered (until it expires,
/// per intake), to refuse its reuse. The difficulty a challenge id claims is checked against the
/// intake's by the caller, so a made-up id cannot make the work easier. A challenge is bound to
/// one intake and expires after <see cref="IntakeLimits.ChallengeLifetime"/>. Refusals are counted in <see cref="RelayMetrics"/> when one is given.
/// </summary>
public sealed class PowChallenges(TimeProvider clock, IntakeOptions options, ReceiptLookup secrets, RelayMetrics? metrics = null)
{
    private readonly SecretKey _key = secrets.ChallengeKey;
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, long>> _used = new();

    // Spending a challenge and dropping an intake's emptied memory exclude each other: otherwise a
    // purge could drop the memory just as a challenge is recorded in it, and the challenge could be
    // used again.
    private readonly Lock _spending = new();

    /// <summary>Solved challenges remembered now (until they expire).</summary>
    public int Count => _used.Values.Sum(u => u.Count);

    public PowChallenge Issue(Guid intakeId, int difficulty)
    {
        long expiresAt = clock.GetUtcNow().Add(IntakeLimits.ChallengeLifetime).ToUnixTimeMilliseconds();
        Span<byte> id = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(id, expiresAt);
        id[8] = (byte)difficulty;
        SecureRandom.Fill(id[9..12]);
        Tag(intakeId, id[..12], id[12..]);
        Guid challengeId = new(id, bigEndian: true);
        return new PowChallenge(challengeId, Nonce(intakeId, challengeId), difficulty, expiresAt);
    }

    /// <summary>
    /// Checks a solution without remembering anything: null (and the challenge's expiry and
    /// difficulty) when it solves a challenge this relay issued for this intake and it has not
    /// expired; otherwise why not. The caller then checks the difficulty against the intake's and
    /// spends the challenge with <see cref="Spend"/>.
    /// </summary>
    public string? Verify(Guid intakeId, PowSolution? solution, out PowTicket ticket)
    {
        string? refusal = Check(intakeId, solution, out ticket);
        if (refusal is not null)
        {
            metrics?.PowRefused();
        }

        return refusal;
    }

    /// <summary>
    /// Remembers a verified challenge until it expires, so it is used once; null, or why it cannot
    /// be used. The memory is per intake, so filling one intake's (which takes solved challenges
    /// past its rate limit) leaves every other intake alone.
    /// </summary>
    public string? Spend(Guid intakeId, PowTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (_used.TryGetValue(intakeId, out ConcurrentDictionary<Guid, long>? full) && full.Count >= options.MaxChallenges)
        {
            PurgeExpired();
        }

        string? refusal;
        lock (_spending)
        {
            ConcurrentDictionary<Guid, long> used = _used.GetOrAdd(intakeId, _ => new ConcurrentDictionary<Guid, long>());
            refusal = used.Count < options.MaxChallenges && used.TryAdd(ticket.ChallengeId, ticket.ExpiresAt)
                ? null
                : "The proof-of-work challenge was already used; ask for a new one.";
        }

        if (refusal is not null)
        {
            metrics?.PowRefused();
        }

        return refusal;
    }

    private string? Check(Guid intakeId, PowSolution? solution, out PowTicket ticket)
    {
        ticket = new PowTicket(Guid.Empty, 0, 0);
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

        // Issued by this relay for this intake (a tag over the rest of the id), and solved for the
        // nonce it made from them.
        Span<byte> tag = stackalloc byte[4];
        Tag(intakeId, id[..12], tag);
        if (!ConstantTime.AreEqual(tag, id[12..]))
        {
            return "The proof-of-work challenge is unknown for this intake; ask for a new one.";
        }

        if (!ProofOfWork.IsSolved(Nonce(intakeId, solution.ChallengeId), solution.Counter, difficulty))
        {
            return "The proof-of-work is not solved, or the challenge is unknown for this intake; ask for a new challenge.";
        }

        ticket = new PowTicket(solution.ChallengeId, expiresAt, difficulty);
        return null;
    }

    /// <summary>Forgets solved challenges that have expired (they cannot be replayed any more); returns how many.</summary>
    public int PurgeExpired()
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        int purged = 0;
        foreach (KeyValuePair<Guid, ConcurrentDictionary<Guid, long>> intake in _used)
        {
            foreach (KeyValuePair<Guid, long> entry in intake.Value)
            {
                if (entry.Value <= now && intake.Value.TryRemove(entry))
                {
                    purged++;
                }
            }

            lock (_spending)
            {
                if (intake.Value.IsEmpty)
                {
                    _used.TryRemove(intake);
                }
            }
        }

        return purged;
    }


    /// <summary>The last 4 bytes of a challenge id: keyed BLAKE2b of the intake and the first 12 bytes.</summary>
    private void Tag(Guid intakeId, ReadOnlySpan<byte> head, Span<byte> tag)
    {
        byte[] hash = Blake2b.KeyedHash(_key, [.. intakeId.ToByteArray(bigEndian: true), .. head, (byte)'t'], 16);
        hash.AsSpan(0, tag.Length).CopyTo(tag);
    }

    private byte[] Nonce(Guid intakeId, Guid challengeId) =>
        Blake2b.KeyedHash(_key, [.. intakeId.ToByteArray(bigEndian: true), .. challengeId.ToByteArray(bigEndian: true)], IntakeLimits.PowNonceBytes);
}

/// <summary>A verified challenge: its id, expiry and the difficulty it was issued at.</summary>
public sealed record PowTicket(Guid ChallengeId, long ExpiresAt, int Difficulty);
