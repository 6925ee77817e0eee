using System.Threading.RateLimiting;

namespace Coordination.Server.InputLimits;

/// <summary>Rate limit settings (section <c>RateLimits</c>). All limits are per process, in memory.</summary>
public sealed class RateLimitOptions
{
    public int SendsPerSecond { get; set; } = 200;

    public int SendBurst { get; set; } = 400;

    public int LoginsPerMinute { get; set; } = 20;

    public int RegistrationsPerMinute { get; set; } = 60;

    public int LinkAttemptsPerMinute { get; set; } = 30;

    /// <summary>Invite lookups, candidacies and admissions per device (signed-in, so per device, not relay-wide).</summary>
    public int InviteAttemptsPerMinute { get; set; } = 30;

    /// <summary>
    /// Accepted anonymous submissions per intake (sealed reports, bridge reports and bot
    /// conversations started), as a token bucket: this many at once, refilled evenly over a minute.
    /// Counted only after the proof-of-work checks out, so unsolved floods do not use it up.
    /// </summary>
    public int IntakeSubmissionsPerMinute { get; set; } = 60;


    /// <summary>Receipt checks per minute, relay-wide: each costs an Argon2id computation.</summary>
    public int ReceiptChecksPerMinute { get; set; } = 300;
}

/// <summary>
/// In-memory rate limits keyed by device (sends, logins), by intake (anonymous submissions) or
/// global (registrations, link-code use, intake challenges and receipt checks, which have no
/// device). Never keyed by IP address or anything else about the sender: the server does not look at one.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<Guid> _sends;
    private readonly PartitionedRateLimiter<Guid> _logins;
    private readonly RateLimiter _registrations;
    private readonly RateLimiter _links;
    private readonly PartitionedRateLimiter<Guid> _invites;
    private readonly PartitionedRateLimiter<Guid> _intakeSubmissions;
    private readonly RateLimiter _receiptChecks;

    public RateLimits(RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _sends = PartitionedRateLimiter.Create<Guid, Guid>(device => RateLimitPartition.GetTokenBucketLimiter(device, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.SendBurst,
            TokensPerPeriod = options.SendsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        _logins = PartitionedRateLimiter.Create<Guid, Guid>(device => RateLimitPartition.GetFixedWindowLimiter(device, _ => PerMinute(options.LoginsPerMinute)));
        _invites = PartitionedRateLimiter.Create<Guid, Guid>(device => RateLimitPartition.GetFixedWindowLimiter(device, _ => PerMinute(options.InviteAttemptsPerMinute)));
        _registrations = new FixedWindowRateLimiter(PerMinute(options.RegistrationsPerMinute));
        _links = new FixedWindowRateLimiter(PerMinute(options.LinkAttemptsPerMinute));
        int submissions = Math.Max(1, options.IntakeSubmissionsPerMinute);
        _intakeSubmissions = PartitionedRateLimiter.Create<Guid, Guid>(intake => RateLimitPartition.GetTokenBucketLimiter(intake, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = submissions,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / submissions,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        _receiptChecks = new FixedWindowRateLimiter(PerMinute(options.ReceiptChecksPerMinute));
    }

    /// <summary>A fixed one-minute window of <paramref name="permits"/> (at least one: a zero in the settings must not make every request fail).</summary>
    private static FixedWindowRateLimiterOptions PerMinute(int permits) => new()
    {
        PermitLimit = Math.Max(1, permits),
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
    };

    public bool TrySend(Guid deviceId) => Acquire(_sends.AttemptAcquire(deviceId));

    public bool TryLogin(Guid deviceId) => Acquire(_logins.AttemptAcquire(deviceId));

    public bool TryRegister() => Acquire(_registrations.AttemptAcquire());

    public bool TryLink() => Acquire(_links.AttemptAcquire());

    public bool TryInvite(Guid deviceId) => Acquire(_invites.AttemptAcquire(deviceId));

    /// <summary>One accepted anonymous submission to <paramref name="intakeId"/> (keyed by the intake, never by who sends).</summary>
    public bool TryIntakeSubmission(Guid intakeId) => Acquire(_intakeSubmissions.AttemptAcquire(intakeId));


    public bool TryReceiptCheck() => Acquire(_receiptChecks.AttemptAcquire());

    public void Dispose()
    {
        _sends.Dispose();
        _logins.Dispose();
        _registrations.Dispose();
        _links.Dispose();
        _invites.Dispose();
        _intakeSubmissions.Dispose();
        _receiptChecks.Dispose();
    }

    private static bool Acquire(RateLimitLease lease)
    {
        using (lease)
        {
            return lease.IsAcquired;
        }
    }
}
