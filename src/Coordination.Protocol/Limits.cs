namespace Coordination.Protocol;

/// <summary>Every bound the server enforces on input from the network. Clients use the same numbers.</summary>
public static class Limits
{
    /// <summary>
    /// Envelope ciphertext sizes the relay accepts: a client pads every envelope to exactly one of
    /// these, so the stored size says only which bucket a message fell into.
    /// </summary>
    public static IReadOnlyList<int> EnvelopeBuckets { get; } = [256, 1024, 4096, 16384, 65536];

    public static int MaxEnvelopeBytes => EnvelopeBuckets[^1];

    /// <summary>Largest SignalR or REST message: the biggest envelope in base64 plus the JSON around it.</summary>
    public const int MaxWireMessageBytes = 128 * 1024;

    public const int DefaultFetchPageSize = 100;
    public const int MaxFetchPageSize = 500;
    public const int MaxAcksPerRequest = 500;

    public static TimeSpan DefaultEnvelopeTtl { get; } = TimeSpan.FromDays(7);
    public static TimeSpan MinEnvelopeTtl { get; } = TimeSpan.FromSeconds(1);
    public static TimeSpan MaxEnvelopeTtl { get; } = TimeSpan.FromDays(30);

    public static TimeSpan ChallengeLifetime { get; } = TimeSpan.FromSeconds(60);
    public static TimeSpan SessionLifetime { get; } = TimeSpan.FromHours(1);
    public static TimeSpan LinkCodeLifetime { get; } = TimeSpan.FromMinutes(10);

    /// <summary>Largest encrypted payload a link code may carry (the account key and profile, sealed).</summary>
    public const int MaxLinkPayloadBytes = 4096;

    public const int PublicKeyBytes = 32;
    public const int SignatureBytes = 64;
    public const int ChallengeNonceBytes = 32;
    public const int SessionTokenBytes = 32;
    public const int LinkLookupIdBytes = 32;
    public const int InviteLookupIdBytes = 32;

    /// <summary>Ciphertext of a cell's name and description, or of a member's display name.</summary>
    public const int MaxSealedProfileBytes = 2048;

    /// <summary>Ciphertext of an event's details (place, time, topic) or of an RSVP.</summary>
    public const int MaxSealedEventBytes = 4096;

    /// <summary>The longest time an invite may stay open.</summary>
    public static TimeSpan MaxInviteLifetime { get; } = TimeSpan.FromDays(30);

    /// <summary>Membership log entries per page.</summary>
    public const int MaxLogPageSize = 500;

    /// <summary>True when <paramref name="length"/> is exactly one of <see cref="EnvelopeBuckets"/>.</summary>
    public static bool IsEnvelopeBucket(int length)
    {
        foreach (int bucket in EnvelopeBuckets)
        {
            if (bucket == length)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The smallest bucket that holds <paramref name="length"/> bytes, or -1 if none does.</summary>
    public static int BucketFor(int length)
    {
        foreach (int bucket in EnvelopeBuckets)
        {
            if (length <= bucket)
            {
                return bucket;
            }
        }

        return -1;
    }
}
