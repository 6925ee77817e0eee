using System.CommandLine;

namespace Coordination.Cli;

/// <summary>The options every command takes (they may be given before or after the command name).</summary>
public sealed class GlobalOptions
{
    public const string DefaultServer = "http://127.0.0.1:5080/";
    public const string ProfileVariable = "COORD_PROFILE";
    public const string PassphraseVariable = "COORD_PASSPHRASE";

    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"The relay's URL. Default: the profile's relay, else {DefaultServer}",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = $"The profile directory. Default: ${ProfileVariable}, else ~/.coordination/default",
        HelpName = "DIR",
        Recursive = true,
    };

    public Option<string?> PassphraseFile { get; } = new("--passphrase-file")
    {
        Description = $"Read the profile passphrase from this file (first line). Otherwise ${PassphraseVariable}, else a prompt on a terminal",
        HelpName = "FILE",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print exactly one JSON object: the result on stdout, or {\"error\"} on stderr",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Server, Profile, PassphraseFile, Json];
}
