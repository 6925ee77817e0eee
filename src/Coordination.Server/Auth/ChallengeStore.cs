using System.Collections.Concurrent;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Server.Auth;

/// <summary>
/// Login challenges, in memory only: single-use, short-lived, bounded in number. A challenge is
/// removed when it is used, whether the signature is good or not.
/// </summary>
public sealed class ChallengeStore(TimeProvider clock)
{
    public const int MaxOutstanding = 100_000;

    private readonly ConcurrentDictionary<Guid, Challenge> _challenges = new();

    public sealed record Challenge(Guid DeviceId, byte[] Nonce, long ExpiresAt);

    public int Count => _challenges.Count;

    /// <summary>A new challenge for <paramref name="deviceId"/>, or null when too many are outstanding.</summary>
    public (Guid Id, Challenge Challenge)? Issue(Guid deviceId)
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (_challenges.Count >= MaxOutstanding)
        {
            PurgeExpired(now);
            if (_challenges.Count >= MaxOutstanding)
            {
                return null;
            }
        }

        Guid id = Guid.NewGuid();
        Challenge challenge = new(deviceId, SecureRandom.Bytes(Limits.ChallengeNonceBytes), now + (long)Limits.ChallengeLifetime.TotalMilliseconds);
        _challenges[id] = challenge;
        return (id, challenge);
    }

    /// <summary>Removes and returns the challenge if it exists and has not expired.</summary>
    public Challenge? Take(Guid id)
    {
        if (!_challenges.TryRemove(id, out Challenge? challenge))
        {
            return null;
        }

        return challenge.ExpiresAt > clock.GetUtcNow().ToUnixTimeMilliseconds() ? challenge : null;
    }

    public void PurgeExpired(long now)
    {
        foreach (KeyValuePair<Guid, Challenge> entry in _challenges)
        {
            if (entry.Value.ExpiresAt <= now)
            {
                _challenges.TryRemove(entry);
            }
        }
    }
}
