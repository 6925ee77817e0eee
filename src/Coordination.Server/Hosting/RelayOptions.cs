using Coordination.Protocol;

namespace Coordination.Server.Hosting;

/// <summary>Relay settings (section <c>Relay</c>).</summary>
public sealed class RelayOptions
{
    /// <summary>
    /// The origin clients use to reach this server (e.g. https://relay.example or the onion
    /// address). Login signatures are bound to it. When unset, the request's scheme and host are used.
    /// </summary>
    public string? PublicOrigin { get; set; }

    /// <summary>How often acknowledged and expired envelopes are deleted.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a send receipt is kept at least so that retries stay idempotent; it is kept until
    /// its envelope expires when that is later.
    /// </summary>
    public TimeSpan SendReceiptLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The most sends committed in one transaction.</summary>
    public int MaxBatch { get; set; } = 1024;

    /// <summary>Fails at start, with the setting's name, rather than on the first login.</summary>
    public RelayOptions Validate()
    {
        if (PublicOrigin is not null)
        {
            try
            {
                _ = SignedStatements.NormalizeOrigin(PublicOrigin);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"Relay:PublicOrigin '{PublicOrigin}' is not usable: {ex.Message}", ex);
            }
        }

        if (SweepInterval <= TimeSpan.Zero || SendReceiptLifetime <= TimeSpan.Zero || MaxBatch < 1)
        {
            throw new InvalidOperationException("Relay:SweepInterval and Relay:SendReceiptLifetime must be positive and Relay:MaxBatch at least 1.");
        }

        return this;
    }

    public string OriginFor(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SignedStatements.NormalizeOrigin(PublicOrigin ?? $"{request.Scheme}://{request.Host}");
    }
}
