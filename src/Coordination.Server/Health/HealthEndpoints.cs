using Coordination.Crypto;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Coordination.Server.Health;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", GetHealth)
            .WithName(nameof(GetHealth))
            .WithSummary("Liveness: the process runs and libsodium passed its self-test.")
            .AllowAnonymous();
        return app;
    }

    /// <summary>Reveals nothing about users: only liveness and the crypto library version.</summary>
    public static Ok<HealthReport> GetHealth() => TypedResults.Ok(new HealthReport("ok", Sodium.VersionString));
}

public sealed record HealthReport(string Status, string Libsodium);
