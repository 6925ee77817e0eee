namespace Coordination.Cli;

/// <summary>Exit codes of <c>coord</c>.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command failed: the relay refused, could not be reached, the profile would not open, ...</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: unknown command or option, malformed value, conflicting options.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;
}

/// <summary>An error to show the user as it is, with the exit code to end with.</summary>
public sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CliException(string message, int exitCode, int? status = null)
        : base(message)
    {
        ExitCode = exitCode;
        Status = status;
    }

    public int ExitCode { get; } = ExitCodes.Failure;

    /// <summary>The relay's HTTP status, when the error is the relay's answer.</summary>
    public int? Status { get; }

    public static CliException Usage(string message) => new(message, ExitCodes.Usage);
}
