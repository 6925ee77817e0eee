using Coordination.Crypto;

namespace Coordination.Server.Hosting;

public static class HostingExtensions
{
    /// <summary>
    /// Logging that cannot identify a person: ASP.NET Core's request logging (which prints paths
    /// and query strings) stays at Warning, and no middleware that records client addresses or user
    /// agents is added. Payloads and tokens are never passed to a logger.
    /// </summary>
    public static WebApplicationBuilder AddPrivacyPreservingLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        // SignalR's dispatcher logs every refused hub call at Error, with the refusal and a stack
        // trace. Refusals are answers, not faults; the relay's hub filter logs real failures by type.
        builder.Logging.AddFilter("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.None);
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

    /// <summary>RFC 9457 problem details for every error, including 404s and model-binding failures.</summary>
    public static WebApplicationBuilder AddProblemResponses(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<StorageFaultExceptionHandler>();
        // The same behaviour in every environment: malformed input becomes an exception that
        // BadRequestExceptionHandler turns into a 4xx problem with a reason.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi();
        return builder;
    }

    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>The REST API's OpenAPI document at /openapi/v1.json.</summary>
    public static WebApplication MapOpenApiDocument(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        return app;
    }
}
