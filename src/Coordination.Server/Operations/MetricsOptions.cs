namespace Coordination.Server.Operations;

/// <summary>Metrics settings (section <c>Metrics</c>).</summary>
public sealed class MetricsOptions
{
    /// <summary>The shortest <see cref="Token"/> accepted.</summary>
    public const int MinTokenLength = 32;

    /// <summary>Serve <c>GET /metrics</c>. Off by default: the path answers 404 like any unknown path.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The bearer secret a scraper sends (<c>Authorization: Bearer ...</c>); required when
    /// <see cref="Enabled"/>, at least <see cref="MinTokenLength"/> characters.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Fails at start, with the setting's name, rather than on the first scrape.</summary>
    public MetricsOptions Validate()
    {
        if (Enabled && (Token is null || Token.Trim().Length < MinTokenLength))
        {
            throw new InvalidOperationException(
                $"Metrics:Enabled is true, so Metrics:Token must be set to a secret of at least {MinTokenLength} characters (for example: openssl rand -hex 32).");
        }

        return this;
    }
}
