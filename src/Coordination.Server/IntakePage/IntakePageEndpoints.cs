using Coordination.Server.Hosting;

namespace Coordination.Server.IntakePage;

/// <summary>
/// The web intake page: <c>GET /intake/{intakeId}</c> and its assets under <c>/intake/assets/</c>.
/// The page runs the intake conversation in the reporter's browser and seals the report there
/// with libsodium-wrappers before anything is sent; it loads scripts, styles and data only from
/// this server (a strict Content-Security-Policy says so to the browser), sets no cookies and
/// stores nothing in the browser. The page is the same for every intake id, so serving it says
/// nothing about whether an intake exists.
/// </summary>
public static class IntakePageEndpoints
{
    /// <summary>
    /// Scripts from this origin only ('wasm-unsafe-eval' lets libsodium compile its embedded
    /// WebAssembly; no eval of JavaScript), requests to this origin only, no forms, no framing.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplicationBuilder AddIntakePage(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IntakePageFiles>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIntakePage(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder page = app.MapGroup("/intake").WithTags("Intake page").AllowAnonymous().ExcludeFromDescription();
        page.MapGet("/{intakeId:guid}", GetIntakePage).WithName(nameof(GetIntakePage));
        page.MapGet("/assets/words.txt", GetWordList).WithName(nameof(GetWordList));
        page.MapGet("/assets/{name}", GetIntakeAsset).WithName(nameof(GetIntakeAsset));
        return app;
    }

    /// <summary>The page: one HTML file, the same for every intake (its script reads the intake id from the address).</summary>
    public static IResult GetIntakePage(Guid intakeId, HttpContext context, IntakePageFiles files)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(files);
        _ = intakeId;
        SecureHeaders(context.Response);
        return files.Missing() is { } missing
            ? Problems.ServiceUnavailable(missing)
            : TypedResults.Bytes(files.RenderPage(), "text/html; charset=utf-8");
    }

    /// <summary>The receipt word list (EFF large list, one word per line), as the relay itself uses it.</summary>
    public static IResult GetWordList(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        SecureHeaders(context.Response);
        return TypedResults.Bytes(IntakePageFiles.WordList, "text/plain; charset=utf-8");
    }

    public static IResult GetIntakeAsset(string name, HttpContext context, IntakePageFiles files)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(files);
        SecureHeaders(context.Response);
        if (files.Asset(name) is not { } asset)
        {
            return Problems.NotFound("No such asset.");
        }

        if (!File.Exists(asset.Path))
        {
            return Problems.ServiceUnavailable(files.Missing() ?? "The asset is missing.");
        }

        return TypedResults.PhysicalFile(asset.Path, asset.ContentType);
    }

    /// <summary>
    /// The same headers on the page and every asset: nothing cached, no referrer sent anywhere, no
    /// content sniffing, no framing, no access from other origins' pages.
    /// </summary>
    private static void SecureHeaders(HttpResponse response)
    {
        IHeaderDictionary headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
    }
}
