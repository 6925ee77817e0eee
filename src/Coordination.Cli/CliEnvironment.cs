using System.Collections;

namespace Coordination.Cli;

/// <summary>
/// What the CLI gets from the process it runs in: its output streams, its environment variables
/// and whether it talks to a terminal. Tests build one around string writers and a dictionary, so
/// the real CLI runs in-process without touching the test process's console or environment.
/// </summary>
public sealed class CliEnvironment
{
    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    /// <summary>Standard input, read by commands that take a text when no option gives it (<c>send</c>).</summary>
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>Environment variables the CLI reads (COORD_PROFILE, COORD_PASSPHRASE, COORD_KDF, HOME, NO_COLOR).</summary>
    public required IReadOnlyDictionary<string, string?> Variables { get; init; }

    /// <summary>True if standard output is a terminal: colours, tables sized to it and spinners.</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>True if standard error is a terminal: colours for errors and prompts.</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>True if standard input is a terminal, so a passphrase can be prompted for (without echo).</summary>
    public bool InputIsTerminal { get; init; }

    /// <summary>How long one HTTP request to the relay may take.</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>True when this is the real process (so Ctrl+C handling may be installed).</summary>
    public bool IsProcess { get; init; }

    /// <summary>The current process's console and environment.</summary>
    public static CliEnvironment FromProcess()
    {
        Dictionary<string, string?> variables = new(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = entry.Value as string;
        }

        return new CliEnvironment
        {
            Out = Console.Out,
            Error = Console.Error,
            In = Console.In,
            Variables = variables,
            OutputIsTerminal = !Console.IsOutputRedirected,
            ErrorIsTerminal = !Console.IsErrorRedirected,
            InputIsTerminal = !Console.IsInputRedirected,
            IsProcess = true,
        };
    }

    /// <summary>The variable's value, or null if it is unset or empty.</summary>
    public string? Variable(string name) => Variables.TryGetValue(name, out string? value) && !string.IsNullOrEmpty(value) ? value : null;
}
