using System.Text;
using Coordination.Crypto;

namespace Coordination.Server.Operations;

public static class OperationsExtensions
{
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// The relay's instruments (always: recording without a listener costs next to nothing), the
    /// count of problem responses by status, and, when <c>Metrics:Enabled</c>, the exporter.
    /// </summary>
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        MetricsOptions options = (builder.Configuration.GetSection("Metrics").Get<MetricsOptions>() ?? new MetricsOptions()).Validate();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<RelayMetrics>();
        builder.Services.AddSingleton<IStartupFilter, ProblemResponseCounting>();
        if (options.Enabled)
        {
            builder.Services.AddSingleton<PrometheusExporter>();
        }

        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> in the Prometheus text format, for the operator's scraper only. The choice:
    /// one listener and a bearer secret (<c>Metrics:Token</c>) rather than a second port, so a relay
    /// behind an onion service or a single reverse-proxy port needs nothing extra. The secret is
    /// compared in constant time (over BLAKE2b digests, so its length does not show either). When
    /// metrics are disabled the route does not exist; when the secret is missing or wrong the
    /// answer is the same 404 as for any unknown path, so a stranger cannot even tell that metrics
    /// are enabled. The route is kept out of the OpenAPI document.
    /// </summary>
    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        MetricsOptions options = app.ServiceProvider.GetRequiredService<MetricsOptions>();
        if (!options.Enabled)
        {
            return app;
        }

        // Resolved now so the listener counts from the start, not from the first scrape.
        PrometheusExporter exporter = app.ServiceProvider.GetRequiredService<PrometheusExporter>();
        byte[] expected = Blake2b.Hash(Encoding.UTF8.GetBytes(options.Token!.Trim()), 32);
        app.MapGet(MetricsPath, (HttpContext context) =>
            {
                if (!Authorized(context.Request, expected))
                {
                    return Results.NotFound();
                }

                context.Response.Headers.CacheControl = "no-store";
                return Results.Text(exporter.Render(), PrometheusExporter.ContentType);
            })
            .WithName("GetMetrics")
            .AllowAnonymous()
            .ExcludeFromDescription();
        return app;
    }

    private static bool Authorized(HttpRequest request, byte[] expected)
    {
        string? header = request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] presented = Blake2b.Hash(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), 32);
        return ConstantTime.AreEqual(presented, expected);
    }

    /// <summary>
    /// Counts every 4xx and 5xx response by status, outermost in the pipeline so that responses made
    /// by authentication, the exception handler and status-code pages are counted too. Only the
    /// status is recorded: no path, no client address.
    /// </summary>
    private sealed class ProblemResponseCounting(RelayMetrics metrics) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                try
                {
                    await nextMiddleware(context);
                }
                catch
                {
                    metrics.ProblemResponse(StatusCodes.Status500InternalServerError);
                    throw;
                }

                if (context.Response.StatusCode >= 400)
                {
                    metrics.ProblemResponse(context.Response.StatusCode);
                }
            });
            next(app);
        };
    }
}
