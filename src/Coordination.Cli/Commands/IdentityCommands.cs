using System.CommandLine;
using Coordination.Client.Identity;
using Coordination.Client.Profiles;
using Spectre.Console;
using Profile = Coordination.Client.Profiles.Profile;

namespace Coordination.Cli.Commands;

/// <summary>The profile of this device as printed by <c>identity create</c> and <c>device link --code</c>.</summary>
public sealed record IdentityResult(Guid AccountId, Guid DeviceId, string Server, string Profile);

/// <summary>What <c>identity show</c> prints.</summary>
public sealed record IdentityDetails(Guid AccountId, Guid DeviceId, string Server, string? Name, bool Encrypted, string Profile, DateTimeOffset CreatedAt);

/// <summary><c>coord identity create | show</c>.</summary>
public sealed class IdentityCommands : ICommandGroup
{
    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Command identity = new("identity", "This device's account and keys.");
        identity.Subcommands.Add(Create(context));
        identity.Subcommands.Add(Show(context));
        yield return identity;
    }

    /// <summary>Prints a new or linked device's ids (shared with <c>device link --code</c>).</summary>
    internal static void PrintCreated(CliOutput output, IdentityResult result, bool encrypted, string headline)
    {
        output.Result(result, console =>
        {
            console.MarkupLineInterpolated($"[green]{headline}[/]");
            Table table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("What").AddColumn("Value");
            table.AddRow(new Text("Account"), new Text(result.AccountId.ToString()));
            table.AddRow(new Text("Device"), new Text(result.DeviceId.ToString()));
            table.AddRow(new Text("Relay"), new Text(result.Server));
            table.AddRow(new Text("Profile"), new Text(result.Profile));
            table.AddRow(new Text("Encrypted"), new Text(encrypted ? "yes" : "NO (created with --no-passphrase)"));
            console.Write(table);
        });
    }

    private static Command Create(CliContext context)
    {
        Option<string?> name = new("--name") { Description = "A local label for this profile; never sent to the relay", HelpName = "NAME" };
        Option<bool> noPassphrase = new("--no-passphrase") { Description = "Store the profile unencrypted (anyone who can read the directory gets the keys)" };
        Command command = new("create", "Create a new account with this as its first device, and save its profile.") { name, noPassphrase };
        context.SetAction(command, async run =>
        {
            run.EnsureNoProfile();
            Uri server = run.ResolveServer(null);
            char[]? passphrase = await run.NewProfilePassphraseAsync(run.GetValue(noPassphrase)).ConfigureAwait(false);
            try
            {
                using DeviceIdentity identity = DeviceIdentity.CreateAccount();
                using ProfileStore store = await run.Output.StatusAsync("Registering the account...", async () =>
                {
                    using Client.Api.RelayApi api = run.CreateApi(server);
                    await api.RegisterAccountAsync(identity, run.CancellationToken).ConfigureAwait(false);

                    // Proves the keys work before they are saved; the token is dropped at once.
                    await api.LoginAsync(identity, run.CancellationToken).ConfigureAwait(false);
                    await api.LogoutAsync(run.CancellationToken).ConfigureAwait(false);
                    return await run.SaveNewProfileAsync(identity, server, run.GetValue(name), passphrase).ConfigureAwait(false);
                }).ConfigureAwait(false);
                PrintCreated(run.Output, new IdentityResult(identity.AccountId, identity.DeviceId, server.AbsoluteUri, store.Directory), store.IsEncrypted, "Account created.");
            }
            finally
            {
                CommandRun.Wipe(passphrase);
            }
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        Command command = new("show", "Show this device's account id, device id, relay and profile (no network).");
        context.SetAction(command, async run =>
        {
            using ProfileStore store = await run.OpenProfileAsync().ConfigureAwait(false);
            Profile profile = store.Profile;
            IdentityDetails details = new(
                profile.AccountId,
                profile.DeviceId,
                profile.ServerUrl,
                profile.DisplayName,
                store.IsEncrypted,
                store.Directory,
                DateTimeOffset.FromUnixTimeMilliseconds(profile.CreatedAt));
            run.Output.Result(details, console =>
            {
                Table table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("What").AddColumn("Value");
                table.AddRow(new Text("Account"), new Text(details.AccountId.ToString()));
                table.AddRow(new Text("Device"), new Text(details.DeviceId.ToString()));
                table.AddRow(new Text("Relay"), new Text(details.Server));
                table.AddRow(new Text("Name"), new Text(details.Name ?? "(none)"));
                table.AddRow(new Text("Profile"), new Text(details.Profile));
                table.AddRow(new Text("Encrypted"), new Text(details.Encrypted ? "yes" : "NO"));
                table.AddRow(new Text("Created"), new Text(details.CreatedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture)));
                console.Write(table);
            });
        });
        return command;
    }
}
