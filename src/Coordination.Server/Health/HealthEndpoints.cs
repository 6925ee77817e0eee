using Coordination.Crypto;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Coordination.Server.Health;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", GetHealth)
            .WithName(nameof(GetHealth))
            .WithSummary("Liveness: the process runs, the database answers, libsodium passed its self-test.")
            .AllowAnonymous();
        return app;
    }

    /// <summary>Reveals nothing about users: liveness, database status and the crypto library version.</summary>
    public static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> GetHealth(CoordinationDbContext db, CancellationToken ct)
    {
        bool database = await db.Database.CanConnectAsync(ct);
        HealthReport report = new(database ? "ok" : "degraded", database ? "ok" : "unavailable", Sodium.VersionString);
        return database ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

public sealed record HealthReport(string Status, string Database, string Libsodium);
