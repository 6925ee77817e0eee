using System.CommandLine;
using System.Net;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Profiles;

namespace Coordination.Cli;

/// <summary>
/// What command groups build on: the environment, the global options, and <see cref="SetAction"/>,
/// which runs a command body with its output, passphrase and relay helpers and turns every
/// failure into one error message and exit code.
/// </summary>
public sealed class CliContext(CliEnvironment environment)
{
    public CliEnvironment Environment { get; } = environment ?? throw new ArgumentNullException(nameof(environment));

    public GlobalOptions Globals { get; } = new();

    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="body"/>, wrapped in the CLI's error handling.</summary>
    public void SetAction(Command command, Func<CommandRun, Task> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(body);
        command.SetAction((parseResult, ct) => RunAsync(parseResult, body, ct));
    }

    private async Task<int> RunAsync(ParseResult parseResult, Func<CommandRun, Task> body, CancellationToken ct)
    {
        CliOutput output = new(Environment, parseResult.GetValue(Globals.Json));
        CommandRun run = new(this, parseResult, output, ct);
        try
        {
            await body(run).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        catch (Exception ex)
        {
            (string message, int exitCode, int? status) = Describe(ex, run.ContactedServer, ct);
            output.Error(message, status);
            return exitCode;
        }
    }

    /// <summary>The message, exit code and relay status for a failure. Messages never include key material or tokens.</summary>
    internal static (string Message, int ExitCode, int? Status) Describe(Exception exception, Uri? server, CancellationToken ct)
    {
        string relay = server is null ? "the relay" : $"the relay at {server}";
        return exception switch
        {
            CliException cli => (cli.Message, cli.ExitCode, cli.Status),
            ProfileException profile => (profile.Message, ExitCodes.Failure, null),
            RelayApiException api when api.Status != 0 =>
                ($"The relay refused the request ({(int)api.Status} {api.Status}): {api.Detail ?? "no detail given"}", ExitCodes.Failure, (int)api.Status),
            RelayApiException api => (api.Message, ExitCodes.Failure, null),
            OperationCanceledException when ct.IsCancellationRequested => ("Cancelled.", ExitCodes.Cancelled, null),
            OperationCanceledException => ($"No answer from {relay} in time.", ExitCodes.Failure, null),
            HttpRequestException http => ($"Could not reach {relay}: {http.Message}", ExitCodes.Failure, null),
            JsonException or NotSupportedException => ($"The answer from {relay} was not understood; is it a Coordination relay?", ExitCodes.Failure, null),
            IOException or UnauthorizedAccessException => (exception.Message, ExitCodes.Failure, null),
            _ => ($"Unexpected error ({exception.GetType().Name}): {exception.Message}", ExitCodes.Failure, null),
        };
    }
}

/// <summary>One invocation of a command: its parsed values and the helpers commands share.</summary>
public sealed class CommandRun
{
    private readonly CliContext _context;

    internal CommandRun(CliContext context, ParseResult parseResult, CliOutput output, CancellationToken ct)
    {
        _context = context;
        ParseResult = parseResult;
        Output = output;
        CancellationToken = ct;
    }

    public ParseResult ParseResult { get; }

    public CliOutput Output { get; }

    public CancellationToken CancellationToken { get; }

    public CliEnvironment Environment => _context.Environment;

    /// <summary>The relay this run last connected to, for error messages.</summary>
    internal Uri? ContactedServer { get; private set; }

    /// <summary>The profile directory: <c>--profile</c>, else <c>$COORD_PROFILE</c>, else <c>~/.coordination/default</c>.</summary>
    public string ProfileDirectory
    {
        get
        {
            string? chosen = ParseResult.GetValue(_context.Globals.Profile) ?? Environment.Variable(GlobalOptions.ProfileVariable);
            string home = Environment.Variable("HOME") ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
            if (chosen is null)
            {
                return Path.Combine(home, ".coordination", "default");
            }

            if (chosen == "~" || chosen.StartsWith("~/", StringComparison.Ordinal))
            {
                chosen = Path.Combine(home, chosen.Length > 2 ? chosen[2..] : string.Empty);
            }

            return Path.GetFullPath(chosen);
        }
    }

    public T? GetValue<T>(Option<T> option) => ParseResult.GetValue(option);

    public T? GetValue<T>(Argument<T> argument) => ParseResult.GetValue(argument);

    /// <summary>The relay: <c>--server</c>, else the profile's, else the local default.</summary>
    public Uri ResolveServer(Profile? profile)
    {
        string? option = ParseResult.GetValue(_context.Globals.Server);
        if (option is not null)
        {
            return ParseServer(option) ?? throw CliException.Usage($"--server must be an absolute http:// or https:// URL, not '{option}'.");
        }

        return (profile is null ? null : ParseServer(profile.ServerUrl)) ?? new Uri(GlobalOptions.DefaultServer);
    }

    /// <summary>A REST client for <paramref name="server"/>; the caller disposes it.</summary>
    public RelayApi CreateApi(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        ContactedServer = server;
        return new RelayApi(new HttpClient { BaseAddress = server, Timeout = Environment.NetworkTimeout });
    }

    /// <summary>Opens the profile, asking for its passphrase only if it is encrypted.</summary>
    public async Task<ProfileStore> OpenProfileAsync()
    {
        string directory = ProfileDirectory;
        if (!ProfileStore.Exists(directory))
        {
            throw new CliException($"There is no profile in {directory}. Create one with 'coord identity create', or link this device to an account with 'coord device link --code CODE'.");
        }

        bool encrypted = await ProfileStore.IsEncryptedAsync(directory, CancellationToken).ConfigureAwait(false);
        char[]? passphrase = encrypted ? await ReadPassphraseAsync(confirm: false).ConfigureAwait(false) : null;
        try
        {
            return await Output.StatusAsync(
                "Unlocking the profile...",
                () => ProfileStore.OpenAsync(directory, AsMemory(passphrase), CancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            Wipe(passphrase);
        }
    }

    /// <summary>Fails early if the profile directory already holds a profile, before anything is registered.</summary>
    public void EnsureNoProfile()
    {
        string directory = ProfileDirectory;
        if (ProfileStore.Exists(directory))
        {
            throw new CliException($"A profile already exists in {directory}. Choose another directory with --profile.");
        }
    }

    /// <summary>
    /// The passphrase for a new profile, or null if <paramref name="unencrypted"/> (the user asked
    /// for an unencrypted profile). The caller wipes it with <see cref="Wipe"/>.
    /// </summary>
    public async Task<char[]?> NewProfilePassphraseAsync(bool unencrypted)
    {
        if (unencrypted)
        {
            Output.Warning("The profile will be stored unencrypted: anyone who can read its directory gets this device's keys.");
            return null;
        }

        // Fail on a bad COORD_KDF before anything is registered.
        if (KdfCost == Coordination.Crypto.Argon2idCost.Minimum)
        {
            Output.Warning("COORD_KDF=min is for tests: a passphrase protected this cheaply is easy to guess by brute force.");
        }

        return await ReadPassphraseAsync(confirm: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Saves the profile of a device the relay has just registered, under <paramref name="passphrase"/>
    /// (null: unencrypted) with the <c>COORD_KDF</c> cost. If that fails the keys are lost, and the
    /// error says so.
    /// </summary>
    public async Task<ProfileStore> SaveNewProfileAsync(Client.Identity.DeviceIdentity identity, Uri server, string? displayName, char[]? passphrase)
    {
        ArgumentNullException.ThrowIfNull(identity);
        Profile profile = Profile.FromIdentity(identity, server, displayName);
        try
        {
            return await ProfileStore.CreateAsync(ProfileDirectory, profile, AsMemory(passphrase), KdfCost, CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ProfileException or IOException or UnauthorizedAccessException)
        {
            profile.Wipe();
            throw new CliException(
                $"The relay registered device {identity.DeviceId} of account {identity.AccountId}, but its profile could not be saved in {ProfileDirectory}: {ex.Message} "
                + "Its keys are lost; revoke that device from another device of the account, or create a new identity.");
        }
    }

    /// <summary>Logs in to the relay with the profile's keys (a fresh challenge; no token is kept on disk).</summary>
    public async Task<RelaySession> LoginAsync(ProfileStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        Uri server = ResolveServer(store.Profile);
        RelayApi api = CreateApi(server);
        Client.Identity.DeviceIdentity identity = store.ToIdentity();
        RelaySession session = new(api, identity, server);
        try
        {
            await api.LoginAsync(identity, CancellationToken).ConfigureAwait(false);
            return session;
        }
        catch (RelayApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw new CliException(
                $"The relay at {server} refused this device's login ({(int)ex.Status}): {ex.Detail ?? "no detail given"} The device may have been revoked, or the profile belongs to another relay.",
                ExitCodes.Failure,
                (int)ex.Status);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static void Wipe(char[]? secret)
    {
        if (secret is not null)
        {
            Array.Clear(secret);
        }
    }

    // Not the implicit array conversion: that turns a null array into an empty (non-null) passphrase.
    private static ReadOnlyMemory<char>? AsMemory(char[]? secret) => secret is null ? (ReadOnlyMemory<char>?)null : new ReadOnlyMemory<char>(secret);

    private Coordination.Crypto.Argon2idCost KdfCost => ProfileKdf.Parse(Environment.Variable(ProfileKdf.EnvironmentVariable));

    private static Uri? ParseServer(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return null;
        }

        // Relative API paths resolve under the base only if it ends with a slash.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    /// <summary>
    /// The profile passphrase: <c>--passphrase-file</c>, else <c>$COORD_PASSPHRASE</c>, else a prompt
    /// without echo when stdin is a terminal. The caller wipes the result.
    /// </summary>
    private async Task<char[]> ReadPassphraseAsync(bool confirm)
    {
        string? file = ParseResult.GetValue(_context.Globals.PassphraseFile);
        if (file is not null)
        {
            return await PassphraseFile.ReadAsync(file, CancellationToken).ConfigureAwait(false);
        }

        string? variable = Environment.Variable(GlobalOptions.PassphraseVariable);
        if (variable is not null)
        {
            return variable.ToCharArray();
        }

        if (!Environment.InputIsTerminal)
        {
            throw new CliException(
                $"A passphrase is needed for the profile: set {GlobalOptions.PassphraseVariable}, use --passphrase-file FILE, or run coord in a terminal to be asked."
                + (confirm ? " (Or --no-passphrase for an unencrypted profile.)" : string.Empty));
        }

        return await PassphrasePrompt.AskAsync(Output.ErrorConsole, ProfileDirectory, confirm, CancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A logged-in connection to the relay. Disposing logs out (best effort) and frees the keys.</summary>
public sealed class RelaySession(RelayApi api, Client.Identity.DeviceIdentity identity, Uri server) : IAsyncDisposable
{
    public RelayApi Api { get; } = api;

    public Client.Identity.DeviceIdentity Identity { get; } = identity;

    public Uri Server { get; } = server;

    public async ValueTask DisposeAsync()
    {
        if (Api.Token is not null)
        {
            using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(5));
            try
            {
                await Api.LogoutAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RelayApiException or HttpRequestException or OperationCanceledException)
            {
                // The session ends by itself within the hour (at once if the device was just revoked).
            }
        }

        Api.Dispose();
        Identity.Dispose();
    }
}
