using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Coordination.Server.Hosting;

/// <summary>
/// Faults of the storage, not of the request: the database busy or locked beyond its timeout, the
/// disk full, PostgreSQL restarting or unreachable, the relay shutting down. They are answered with
/// 503 and a Retry-After (a hub error on the hub) that says to try again, never with a 500; nothing
/// was acknowledged, so a retry with the same message id is safe. Constraint violations and other
/// errors of the data are not storage faults.
/// </summary>
public static class StorageFaults
{
    public const string Detail = "The relay's storage is unavailable for a moment (busy, full or restarting); nothing was stored. Try again.";

    /// <summary>A short code for logs: SQLite's error code or PostgreSQL's SQLSTATE, never a message (it may quote data).</summary>
    public static string Code(Exception exception) => exception switch
    {
        SqliteException sqlite => "SQLite " + sqlite.SqliteErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
        PostgresException postgres => "SQLSTATE " + postgres.SqlState,
        _ => exception.GetType().Name,
    };

    public static bool IsStorageFault(Exception exception) => exception switch
    {
        DbUpdateException { InnerException: { } inner } => IsStorageFault(inner),
        // EF Core's execution strategy wraps a transient provider error ("likely due to a transient failure").
        InvalidOperationException { InnerException: { } inner } => IsStorageFault(inner),
        RetryLimitExceededException { InnerException: { } inner } => IsStorageFault(inner),
        SqliteException sqlite => sqlite.SqliteErrorCode is 5 /* BUSY */ or 6 /* LOCKED */ or 10 /* IOERR */ or 13 /* FULL */ or 14 /* CANTOPEN */,
        PostgresException postgres => postgres.IsTransient
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
            || postgres.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources (disk full, too many connections)
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal), // the server is shutting down or restarting
        NpgsqlException => true, // no server answer at all: connection refused, reset, timed out
        TimeoutException => true,
        OperationCanceledException => true, // the writer stopped taking work because the relay is shutting down
        _ => false,
    };
}

/// <summary>HTTP: a storage fault becomes 503 problem details with Retry-After.</summary>
public sealed partial class StorageFaultExceptionHandler(IProblemDetailsService problems, ILogger<StorageFaultExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (httpContext.RequestAborted.IsCancellationRequested || !StorageFaults.IsStorageFault(exception))
        {
            return false;
        }

        LogStorageFault(logger, exception.GetType().Name);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "2";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = Problems.Details(StatusCodes.Status503ServiceUnavailable, StorageFaults.Detail),
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A request met a storage fault ({Fault}) and was answered 503.")]
    private static partial void LogStorageFault(ILogger logger, string fault);
}

/// <summary>
/// The hub: a storage fault becomes a hub error with the same clear message, and the connection
/// stays open. A refusal (<see cref="HubException"/>) is the caller's answer, not an error of the
/// relay, so it is not logged (SignalR's own dispatcher log, which would print it with the
/// caller's input, is off: see <see cref="HostingExtensions.AddPrivacyPreservingLogging"/>);
/// anything else is logged here by its type only.
/// </summary>
public sealed partial class StorageFaultHubFilter(ILogger<StorageFaultHubFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        ArgumentNullException.ThrowIfNull(invocationContext);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            return await next(invocationContext);
        }
        catch (OperationCanceledException) when (invocationContext.Context.ConnectionAborted.IsCancellationRequested)
        {
            // The connection is gone (closed by the client, or by the relay to make it resynchronize):
            // nobody is left to answer, and it is not an error of the relay.
            return null;
        }
        catch (Exception ex) when (ex is not HubException && StorageFaults.IsStorageFault(ex))
        {
            throw new HubException(StorageFaults.Detail);
        }
        catch (Exception ex) when (ex is not HubException)
        {
            LogHubMethodFailed(logger, invocationContext.HubMethodName, ex.GetType().Name);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Hub method {Method} failed ({Error}).")]
    private static partial void LogHubMethodFailed(ILogger logger, string method, string error);
}
