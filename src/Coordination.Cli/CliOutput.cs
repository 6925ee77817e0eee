using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Coordination.Cli;

/// <summary>
/// The one place that decides how results and errors look. With <c>--json</c>: exactly one JSON
/// object on stdout for a result, or one <c>{"error", "status"?}</c> object on stderr for an
/// error, and nothing else. Without it: Spectre.Console tables, spinners on a terminal, errors in red.
/// </summary>
public sealed class CliOutput
{
    // Output goes to terminals and programs, never into HTML: keep apostrophes and non-Latin names readable.
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly CliEnvironment _environment;

    public CliOutput(CliEnvironment environment, bool json)
    {
        ArgumentNullException.ThrowIfNull(environment);
        _environment = environment;
        Json = json;
        Console = CreateConsole(environment, environment.Out, environment.OutputIsTerminal, interactive: false);
        ErrorConsole = CreateConsole(environment, environment.Error, environment.ErrorIsTerminal, interactive: environment.InputIsTerminal);
    }

    public bool Json { get; }

    /// <summary>Human output (stdout). Write to it only when <see cref="Json"/> is false.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Prompts, warnings and errors (stderr).</summary>
    public IAnsiConsole ErrorConsole { get; }

    /// <summary>Prints the result: as JSON, or by <paramref name="human"/> on the console.</summary>
    public void Result<T>(T result, Action<IAnsiConsole> human)
    {
        ArgumentNullException.ThrowIfNull(human);
        if (Json)
        {
            _environment.Out.WriteLine(JsonSerializer.Serialize(result, s_json));
            _environment.Out.Flush();
        }
        else
        {
            human(Console);
        }
    }

    public void Error(string message, int? status = null)
    {
        if (Json)
        {
            _environment.Error.WriteLine(JsonSerializer.Serialize(new ErrorResult(message, status), s_json));
            _environment.Error.Flush();
        }
        else
        {
            ErrorConsole.MarkupLineInterpolated($"[red]Error:[/] [red]{message}[/]");
        }
    }

    /// <summary>A warning for people; JSON output stays a single object, so it is left out there.</summary>
    public void Warning(string message)
    {
        if (!Json)
        {
            ErrorConsole.MarkupLineInterpolated($"[yellow]{message}[/]");
        }
    }

    /// <summary>Runs a network operation, with a spinner when a person is watching a terminal.</summary>
    public async Task<T> StatusAsync<T>(string status, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Json || !_environment.OutputIsTerminal)
        {
            return await work().ConfigureAwait(false);
        }

        return await Console.Status().Spinner(Spinner.Known.Dots).StartAsync(status, _ => work()).ConfigureAwait(false);
    }

    private static IAnsiConsole CreateConsole(CliEnvironment environment, TextWriter writer, bool terminal, bool interactive)
    {
        Dictionary<string, string> variables = environment.Variables
            .Where(v => v.Value is not null)
            .ToDictionary(v => v.Key, v => v.Value!, StringComparer.Ordinal);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            EnvironmentVariables = variables,
        });
        if (!terminal)
        {
            // Piped output is read by programs and people's pagers: do not wrap ids and paths at 80 columns.
            console.Profile.Width = 240;
        }

        return console;
    }

    private sealed record ErrorResult(string Error, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Status);
}
