using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Client.Profiles;

namespace Coordination.Cli.Commands;

/// <summary>
/// What every command that acts as this device on the relay opens, in one place: a logged-in relay
/// session, the device's encrypted local store (message history, group keys and the cell keyring,
/// under <c>messages/</c> in the profile), the SDK's <see cref="CellClient"/>, and a
/// <see cref="MessagingClient"/> that trusts it, so a cell or group message is encrypted only to
/// the members the signed membership log lists. Membership alerts the SDK raises are collected and
/// shown as warnings.
/// </summary>
internal sealed class ClientSession : IAsyncDisposable
{
    /// <summary>Where the encrypted local store lives inside the profile directory.</summary>
    public const string StoreDirectory = "messages";

    private readonly RelaySession _relay;
    private readonly LocalMessageStore _store;
    private readonly CommandRun _run;
    private readonly List<MembershipAlert> _alerts = [];
    private readonly Lock _gate = new();

    private ClientSession(CommandRun run, ProfileStore profile, RelaySession relay, LocalMessageStore store)
    {
        _run = run;
        _relay = relay;
        _store = store;
        Profile = profile;
        Cells = new CellClient(relay.Identity, relay.Api, store);
        Cells.MembershipAlert += alert =>
        {
            lock (_gate)
            {
                _alerts.Add(alert);
            }
        };
        Messages = new MessagingClient(relay.Identity, relay.Api, store) { Trust = Cells };
    }

    public ProfileStore Profile { get; }

    public Guid AccountId => Profile.Profile.AccountId;

    public RelayApi Api => _relay.Api;

    public DeviceIdentity Identity => _relay.Identity;

    public CellClient Cells { get; }

    public MessagingClient Messages { get; }

    public CancellationToken CancellationToken => _run.CancellationToken;

    /// <summary>The membership alerts raised so far in this session.</summary>
    public IReadOnlyList<MembershipAlert> Alerts
    {
        get
        {
            lock (_gate)
            {
                return [.. _alerts];
            }
        }
    }

    /// <summary>
    /// Opens the profile (asking for its passphrase if needed), then the session, and runs
    /// <paramref name="work"/> with it: under a spinner labelled <paramref name="status"/>, or
    /// without one if it is null (for commands that stay connected). A failure that
    /// <paramref name="translate"/> recognises is replaced by its error; membership alerts are
    /// shown as warnings once the work is done.
    /// </summary>
    public static async Task<T> RunAsync<T>(CommandRun run, string? status, Func<ClientSession, Task<T>> work, Func<Exception, CliException?>? translate = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(work);
        using ProfileStore profile = await run.OpenProfileAsync().ConfigureAwait(false);
        IReadOnlyList<MembershipAlert> alerts = [];
        async Task<T> BodyAsync()
        {
            await using ClientSession session = await OpenAsync(run, profile).ConfigureAwait(false);
            try
            {
                return await work(session).ConfigureAwait(false);
            }
            finally
            {
                alerts = session.Alerts;
            }
        }

        T result;
        try
        {
            result = status is null ? await BodyAsync().ConfigureAwait(false) : await run.Output.StatusAsync(status, BodyAsync).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not CliException && translate?.Invoke(ex) is { } error)
        {
            throw error;
        }

        foreach (MembershipAlert alert in alerts)
        {
            run.Output.Warning($"Warning: {alert.Detail}");
        }

        return result;
    }

    public static async Task<ClientSession> OpenAsync(CommandRun run, ProfileStore profile)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(profile);
        // LocalMessageStore.Open creates the directory (0700) when it is missing.
        string directory = Path.Combine(profile.Directory, StoreDirectory);

        LocalMessageStore store;
        try
        {
            store = LocalMessageStore.Open(directory, profile.Profile.LocalStorageKey);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            throw new CliException($"The message history in {directory} does not open with this profile's key: it is damaged or belongs to another profile. ({ex.Message})");
        }

        try
        {
            RelaySession relay = await run.LoginAsync(profile).ConfigureAwait(false);
            return new ClientSession(run, profile, relay, store);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>A conversation id (a cell or group id included), or a member's account id (which opens the direct conversation with them).</summary>
    public async Task<Guid> ResolveConversationAsync(string target)
    {
        if (!Guid.TryParse(target, out Guid id))
        {
            throw CliException.Usage($"'{target}' is not a conversation id or an account id (both look like 3f2504e0-4f89-11d3-9a0c-0305e82c3301).");
        }

        try
        {
            return await Messages.ResolveConversationAsync(target, CancellationToken).ConfigureAwait(false);
        }
        catch (RelayApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            if (await NewcomerCellAsync(id).ConfigureAwait(false) is { } cell)
            {
                throw new CliException(
                    $"You are a newcomer in cell {id}: newcomers read only its announcements ({cell.AnnouncementsId}) until an organizer makes them a member.",
                    ExitCodes.Failure,
                    (int)HttpStatusCode.Forbidden);
            }

            throw new CliException(
                $"{target} is neither a conversation of this account nor another member's account on this relay.", ExitCodes.Failure, (int)ex.Status);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Messages.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
        await _relay.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The cell <paramref name="id"/> if this account is a newcomer in it (and so not in its conversation).</summary>
    private async Task<Protocol.CellInfo?> NewcomerCellAsync(Guid id)
    {
        try
        {
            Protocol.CellInfo cell = await Api.GetCellAsync(id, CancellationToken).ConfigureAwait(false);
            return cell.Membership.Role == Protocol.MemberRole.Newcomer ? cell : null;
        }
        catch (RelayApiException)
        {
            return null;
        }
    }
}
