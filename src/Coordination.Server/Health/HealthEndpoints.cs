using Coordination.Crypto;
using Coordination.Server.Cluster;
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
    /// <remarks>With several nodes, a node whose listener for the other nodes is down is degraded too.</remarks>
    public static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> GetHealth(CoordinationDbContext db, IServiceProvider services, CancellationToken ct)
    {
        NodeSignalListener? listener = services.GetService<NodeSignalListener>();
        bool database = await db.Database.CanConnectAsync(ct) && listener is not { Listening: false };
        HealthReport report = new(database ? "ok" : "degraded", database ? "ok" : "unavailable", Sodium.VersionString);
        return database ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

public sealed record HealthReport(string Status, string Database, string Libsodium);
