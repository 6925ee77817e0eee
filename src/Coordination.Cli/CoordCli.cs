using System.CommandLine;
using System.CommandLine.Invocation;
using Spectre.Console;

namespace Coordination.Cli;

/// <summary>
/// The entry point of <c>coord</c>, usable in-process: give it the arguments, output writers and
/// environment variables and it returns the exit code. <c>Program.Main</c> calls it with the real
/// console and environment; tests call it with string writers and a dictionary.
/// </summary>
public static class CoordCli
{
    /// <summary>Runs with the process's console and environment.</summary>
    public static Task<int> InvokeAsync(string[] args) =>
        InvokeAsync(args, CliEnvironment.FromProcess(), RootCommandBuilder.CreateDefault(), CancellationToken.None);

    /// <summary>Runs with the given output writers and environment variables (nothing is prompted for).</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string?> environment, CancellationToken ct = default) =>
        InvokeAsync(args, TextReader.Null, stdout, stderr, environment, ct);

    /// <summary>As above, with <paramref name="stdin"/> as standard input (not a terminal).</summary>
    public static Task<int> InvokeAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string?> environment, CancellationToken ct = default) =>
        InvokeAsync(
            args,
            new CliEnvironment { In = stdin, Out = stdout, Error = stderr, Variables = environment },
            RootCommandBuilder.CreateDefault(),
            ct);

    public static async Task<int> InvokeAsync(string[] args, CliEnvironment environment, RootCommandBuilder commands, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(commands);
        CliContext context = new(environment);
        RootCommand root = commands.Build(context);
        ParseResult parseResult = root.Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            return ReportParseErrors(parseResult, context, args);
        }

        InvocationConfiguration invocation = new()
        {
            Output = environment.Out,
            Error = environment.Error,
            EnableDefaultExceptionHandler = false,

            // Ctrl+C cancels the command's token; only a real process installs the handler.
            ProcessTerminationTimeout = environment.IsProcess ? TimeSpan.FromSeconds(2) : null,
        };
        try
        {
            return await parseResult.InvokeAsync(invocation, ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Command actions report their own errors; this is for anything that escapes the parser's actions.
            (string message, int exitCode, int? status) = CliContext.Describe(ex, null, ct);
            new CliOutput(environment, WantsJson(parseResult, context, args)).Error(message, status);
            return exitCode;
        }
    }

    private static int ReportParseErrors(ParseResult parseResult, CliContext context, string[] args)
    {
        CliOutput output = new(context.Environment, WantsJson(parseResult, context, args));
        string message = string.Join(" ", parseResult.Errors.Select(e => e.Message));
        if (output.Json)
        {
            output.Error(message);
        }
        else
        {
            foreach (System.CommandLine.Parsing.ParseError error in parseResult.Errors)
            {
                output.Error(error.Message);
            }

            output.ErrorConsole.MarkupLine("Run 'coord --help' for usage.");
        }

        return ExitCodes.Usage;
    }

    private static bool WantsJson(ParseResult parseResult, CliContext context, string[] args)
    {
        try
        {
            return parseResult.GetValue(context.Globals.Json);
        }
        catch (InvalidOperationException)
        {
            return args.Contains("--json", StringComparer.Ordinal);
        }
    }
}
