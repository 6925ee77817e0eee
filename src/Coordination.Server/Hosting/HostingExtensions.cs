using Coordination.Crypto;

namespace Coordination.Server.Hosting;

public static class HostingExtensions
{
    /// <summary>
    /// Logging that cannot identify a person: ASP.NET Core's request logging (which prints paths
    /// and query strings, where the SignalR JS client puts its token) is raised to Warning, and no
    /// middleware that records client addresses or user agents is added.
    /// </summary>
    public static WebApplicationBuilder AddPrivacyPreservingLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        return builder;
    }

    /// <summary>
    /// Loads and self-tests libsodium before the host starts, so a machine without it fails at once
    /// with the command that installs it.
    /// </summary>
    public static WebApplicationBuilder AddSodium(this WebApplicationBuilder builder)
    {
        Sodium.Initialize();
        return builder;
    }
}
