using Microsoft.AspNetCore.Diagnostics;

namespace Coordination.Server.Hosting;

/// <summary>
/// Malformed requests (unreadable JSON, wrong types, a body over the size limit) become a 4xx
/// problem with the framework's reason, which names the parameter but never echoes the input.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = Problems.Details(bad.StatusCode, bad.Message),
        });
    }
}
