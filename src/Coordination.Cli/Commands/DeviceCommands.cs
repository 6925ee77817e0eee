using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Client.Profiles;
using Coordination.Crypto;
using Coordination.Protocol;
using Spectre.Console;

namespace Coordination.Cli.Commands;

/// <summary>One device of the account as <c>device list</c> prints it.</summary>
public sealed record DeviceRow(Guid DeviceId, bool Revoked, bool Current);

public sealed record DeviceListResult(IReadOnlyList<DeviceRow> Devices);

public sealed record DeviceRevokedResult(Guid DeviceId, bool Current);

public sealed record LinkCodeResult(string Code, DateTimeOffset ExpiresAt, string Server);

/// <summary><c>coord device list | revoke ID | link [--code CODE]</c>.</summary>
public sealed class DeviceCommands : ICommandGroup
{
    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Command device = new("device", "The account's devices: list, revoke, link a new one.");
        device.Subcommands.Add(List(context));
        device.Subcommands.Add(Revoke(context));
        device.Subcommands.Add(Link(context));
        yield return device;
    }

    private static Command List(CliContext context)
    {
        Command command = new("list", "List the account's devices, revoked ones included.");
        context.SetAction(command, async run =>
        {
            using ProfileStore store = await run.OpenProfileAsync().ConfigureAwait(false);
            Guid self = store.Profile.DeviceId;
            List<DeviceInfo> devices = await run.Output.StatusAsync("Fetching devices...", async () =>
            {
                await using RelaySession session = await run.LoginAsync(store).ConfigureAwait(false);
                return await session.Api.ListDevicesAsync(run.CancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);

            DeviceListResult result = new([.. devices.Select(d => new DeviceRow(d.DeviceId, d.Revoked, d.DeviceId == self))]);
            run.Output.Result(result, console =>
            {
                Table table = new Table().Border(TableBorder.Rounded).AddColumn("Device").AddColumn("Status").AddColumn(string.Empty);
                foreach (DeviceRow row in result.Devices)
                {
                    table.AddRow(
                        new Text(row.DeviceId.ToString()),
                        row.Revoked ? new Markup("[red]revoked[/]") : new Markup("[green]active[/]"),
                        new Text(row.Current ? "this device" : string.Empty));
                }

                console.Write(table);
            });
        });
        return command;
    }

    private static Command Revoke(CliContext context)
    {
        Argument<Guid> id = new("ID") { Description = "The device id (from 'coord device list')" };
        Command command = new("revoke", "Revoke a device of the account: it is logged out and can never log in again.") { id };
        context.SetAction(command, async run =>
        {
            Guid deviceId = run.GetValue(id);
            using ProfileStore store = await run.OpenProfileAsync().ConfigureAwait(false);
            bool current = deviceId == store.Profile.DeviceId;
            await run.Output.StatusAsync("Revoking...", async () =>
            {
                await using RelaySession session = await run.LoginAsync(store).ConfigureAwait(false);
                await session.Api.RevokeDeviceAsync(deviceId, run.CancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);

            run.Output.Result(new DeviceRevokedResult(deviceId, current), console =>
            {
                console.MarkupLineInterpolated($"[green]Revoked[/] {deviceId.ToString()}.");
                if (current)
                {
                    console.MarkupLine("[yellow]That was this device: it can no longer log in. Delete its profile directory.[/]");
                }
            });
        });
        return command;
    }

    private static Command Link(CliContext context)
    {
        Option<string?> code = new("--code")
        {
            Description = "On the NEW device: join the account with the code shown on the existing device",
            HelpName = "CODE",
        };
        Option<string?> name = new("--name") { Description = "With --code: a local label for the new profile", HelpName = "NAME" };
        Option<bool> noPassphrase = new("--no-passphrase") { Description = "With --code: store the new profile unencrypted" };
        Command command = new("link", "Link a new device. Run without --code on a device of the account to get a one-time code (10 minutes); then run with --code CODE on the new device, with its own --profile.")
        {
            code, name, noPassphrase,
        };
        context.SetAction(command, run =>
        {
            string? linkCode = run.GetValue(code);
            if (linkCode is not null)
            {
                return JoinAsync(run, linkCode, run.GetValue(name), run.GetValue(noPassphrase));
            }

            if (run.GetValue(name) is not null || run.GetValue(noPassphrase))
            {
                throw CliException.Usage("--name and --no-passphrase are for the new device, with --code CODE.");
            }

            return OfferAsync(run);
        });
        return command;
    }

    /// <summary>On an existing device: seal the account key under a fresh code and offer it on the relay.</summary>
    private static async Task OfferAsync(CommandRun run)
    {
        using ProfileStore store = await run.OpenProfileAsync().ConfigureAwait(false);
        using DeviceLinkCode linkCode = DeviceLinkCode.Create();
        Uri server = run.ResolveServer(store.Profile);
        CreateLinkCodeResponse offer = await run.Output.StatusAsync("Creating a link code...", async () =>
        {
            await using RelaySession session = await run.LoginAsync(store).ConfigureAwait(false);
            return await session.Api.CreateLinkCodeAsync(linkCode, store.Profile.AccountSeed, run.CancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        LinkCodeResult result = new(linkCode.Code, DateTimeOffset.FromUnixTimeMilliseconds(offer.ExpiresAt), server.AbsoluteUri);
        run.Output.Result(result, console =>
        {
            console.MarkupLine("On the new device, run:");
            console.WriteLine();
            console.MarkupLineInterpolated($"  [bold]coord --server {result.Server} device link --code {result.Code}[/] --profile DIR");
            console.WriteLine();
            string expires = result.ExpiresAt.ToLocalTime().ToString("HH:mm", CultureInfo.InvariantCulture);
            console.MarkupLineInterpolated($"The code works once, until {expires}. It carries the account key: share it only with yourself, and not through a channel others can read.");
        });
    }

    /// <summary>On the new device: fetch the offer, open the account key, register this device and save its profile.</summary>
    private static async Task JoinAsync(CommandRun run, string typedCode, string? displayName, bool unencrypted)
    {
        run.EnsureNoProfile();
        DeviceLinkCode linkCode;
        try
        {
            linkCode = DeviceLinkCode.Parse(typedCode);
        }
        catch (FormatException ex)
        {
            throw CliException.Usage(ex.Message);
        }

        using (linkCode)
        {
            Uri server = run.ResolveServer(null);
            char[]? passphrase = await run.NewProfilePassphraseAsync(unencrypted).ConfigureAwait(false);
            try
            {
                (ProfileStore store, DeviceIdentity identity) = await run.Output.StatusAsync("Linking this device...", async () =>
                {
                    using RelayApi api = run.CreateApi(server);
                    DeviceIdentity identity = await JoinAccountAsync(api, linkCode, run.CancellationToken).ConfigureAwait(false);
                    try
                    {
                        await api.LoginAsync(identity, run.CancellationToken).ConfigureAwait(false);
                        await api.LogoutAsync(run.CancellationToken).ConfigureAwait(false);
                        ProfileStore store = await run.SaveNewProfileAsync(identity, server, displayName, passphrase).ConfigureAwait(false);
                        return (store, identity);
                    }
                    catch
                    {
                        identity.Dispose();
                        throw;
                    }
                }).ConfigureAwait(false);
                using (store)
                using (identity)
                {
                    IdentityCommands.PrintCreated(
                        run.Output,
                        new IdentityResult(identity.AccountId, identity.DeviceId, server.AbsoluteUri, store.Directory),
                        store.IsEncrypted,
                        "This device is linked to the account.");
                }
            }
            finally
            {
                CommandRun.Wipe(passphrase);
            }
        }
    }

    private static async Task<DeviceIdentity> JoinAccountAsync(RelayApi api, DeviceLinkCode linkCode, CancellationToken ct)
    {
        LinkCodeOffer offer;
        try
        {
            offer = await api.GetLinkCodeAsync(linkCode, ct).ConfigureAwait(false);
        }
        catch (RelayApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            throw new CliException("The relay has no offer for this link code: it was mistyped, already used or has expired (codes last 10 minutes).", ExitCodes.Failure, (int)ex.Status);
        }

        if (!linkCode.TryOpen(offer.Payload, out byte[]? seed) || seed is null)
        {
            throw new CliException("The link offer does not open with this code; it was altered. Create a new code.");
        }

        try
        {
            if (seed.Length != Ed25519KeyPair.SeedSize)
            {
                throw new CliException("The link offer does not hold an account key this version understands.");
            }

            DeviceIdentity identity = DeviceIdentity.ForExistingAccount(seed);
            try
            {
                if (offer.AccountPublicKey is not { Length: Ed25519PublicKey.Size }
                    || !identity.AccountKey.PublicKey.Equals(Ed25519PublicKey.FromBytes(offer.AccountPublicKey)))
                {
                    throw new CliException("The account key in the link offer does not match the account the relay named. Do not use this code.");
                }

                await api.LinkDeviceAsync(linkCode, identity, ct).ConfigureAwait(false);
                return identity;
            }
            catch
            {
                identity.Dispose();
                throw;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }
}
