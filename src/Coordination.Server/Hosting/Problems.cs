using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.Server.Hosting;

/// <summary>RFC 9457 problem details with one wording per status.</summary>
public static class Problems
{
    public static ProblemDetails Details(int status, string detail) => new()
    {
        Status = status,
        Title = ReasonPhrases(status),
        Detail = detail,
        Type = $"https://httpstatuses.io/{status}",
    };

    public static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, detail);

    public static ProblemHttpResult Unauthorized(string detail) => Problem(StatusCodes.Status401Unauthorized, detail);

    public static ProblemHttpResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, detail);

    public static ProblemHttpResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, detail);

    public static ProblemHttpResult Conflict(string detail) => Problem(StatusCodes.Status409Conflict, detail);

    public static ProblemHttpResult TooManyRequests(string detail) => Problem(StatusCodes.Status429TooManyRequests, detail);

    public static ProblemHttpResult ServiceUnavailable(string detail) => Problem(StatusCodes.Status503ServiceUnavailable, detail);

    public static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(Details(status, detail));

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
