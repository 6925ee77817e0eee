using Coordination.Protocol;

namespace Coordination.Server.InputLimits;

public static class LimitsExtensions
{
    /// <summary>Explicit Kestrel limits and the rate limits; SignalR's limits are set with the hub.</summary>
    public static WebApplicationBuilder AddInputLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = Limits.MaxWireMessageBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 50;
            kestrel.Limits.MaxConcurrentConnections = 30_000;
            kestrel.Limits.MaxConcurrentUpgradedConnections = 25_000;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
        });

        RateLimitOptions options = builder.Configuration.GetSection("RateLimits").Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<RateLimits>();
        return builder;
    }
}
