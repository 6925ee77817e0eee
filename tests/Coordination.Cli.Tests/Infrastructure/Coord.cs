using System.Text.Json;

namespace Coordination.Cli.Tests.Infrastructure;

/// <summary>What one run of <c>coord</c> printed and returned.</summary>
public sealed record CoordResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout as the single JSON object it must be (anything else fails the test).</summary>
    public JsonElement Json => ParseSingleObject(Stdout, "stdout");

    /// <summary>Stderr as the single JSON error object it must be.</summary>
    public JsonElement Error => ParseSingleObject(Stderr, "stderr");

    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";

    private static JsonElement ParseSingleObject(string text, string stream)
    {
        // JsonDocument.Parse refuses trailing content, so this also proves there is nothing else.
        using JsonDocument document = JsonDocument.Parse(text);
        Assert.True(document.RootElement.ValueKind == JsonValueKind.Object, $"{stream} is not one JSON object: {text}");
        Assert.Equal(1, text.Count(c => c == '\n'));
        return document.RootElement.Clone();
    }
}

/// <summary>
/// Runs the real CLI in-process through <see cref="CoordCli.InvokeAsync(string[], TextWriter, TextWriter, IReadOnlyDictionary{string, string?}, CancellationToken)"/>,
/// with its own environment variables: a temporary HOME, <c>COORD_KDF=min</c> and a passphrase.
/// Every run is bounded by a timeout.
/// </summary>
public sealed class Coord(string home, string passphrase = Coord.DefaultPassphrase)
{
    public const string DefaultPassphrase = "correct horse battery staple";

    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(60);

    public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal)
    {
        ["HOME"] = home,
        ["COORD_KDF"] = "min",
        ["COORD_PASSPHRASE"] = passphrase,
    };

    public Task<CoordResult> RunAsync(params string[] args) => RunWithInputAsync(string.Empty, args);

    /// <summary>Runs with <paramref name="stdin"/> as standard input.</summary>
    public async Task<CoordResult> RunWithInputAsync(string stdin, params string[] args)
    {
        using StringReader input = new(stdin);
        using StringWriter stdout = new();
        using StringWriter stderr = new();
        using CancellationTokenSource cts = new(Timeout);
        int exit = await CoordCli.InvokeAsync(args, input, stdout, stderr, Environment, cts.Token).WaitAsync(Timeout);
        return new CoordResult(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and asserts success, returning the JSON result (adds <c>--json</c>).</summary>
    public async Task<JsonElement> JsonAsync(params string[] args)
    {
        CoordResult result = await RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Stderr);
        return result.Json;
    }
}
