using System.Text.Json;
using Coordination.Cli.Tests.Infrastructure;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Messaging;
using Coordination.Client.Profiles;
using Coordination.Protocol;

namespace Coordination.Cli.Tests;

/// <summary>
/// <c>coord event create | list | rsvp | cancel</c> between real profiles through the real relay.
/// The groups themselves are made with the SDK from each profile's own keys and local store, as
/// <c>coord group</c> would, so the CLI finds the group key where it keeps it.
/// </summary>
public sealed class EventCliTests(RelayFactory relay) : IClassFixture<RelayFactory>, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "coordination-cli-tests", "events-" + Guid.NewGuid().ToString("N"));

    private Coord Coord => new(Path.Combine(_root, "home"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public async Task Members_create_list_answer_and_cancel_events()
    {
        Member olga = await CreateAsync("olga");
        Member mark = await CreateAsync("mark");
        Guid group = await CreateCellAsync(olga, ConversationKind.GrasGroup, mark);
        string g = group.ToString();

        JsonElement created = await Coord.JsonAsync(olga.Args("event", "create", g, "--place", "Flat 3, Žirmūnų g. 12", "--at", "2026-12-05T18:30+02:00", "--topic", "Screening: «Mirror»"));
        Assert.Equal(group, created.GetProperty("groupId").GetGuid());
        Guid eventId = created.GetProperty("eventId").GetGuid();
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 16, 30, 0, TimeSpan.Zero), created.GetProperty("startsAt").GetDateTimeOffset());
        string e = eventId.ToString();

        JsonElement answered = await Coord.JsonAsync(mark.Args("event", "rsvp", e, "--group", g, "--answer", "Going"));
        Assert.Equal("going", answered.GetProperty("answer").GetString());
        await Coord.JsonAsync(olga.Args("event", "rsvp", e, "--group", g, "--answer", "maybe"));

        JsonElement listed = Assert.Single((await Coord.JsonAsync(mark.Args("event", "list", g))).GetProperty("events").EnumerateArray());
        Assert.Equal(eventId, listed.GetProperty("eventId").GetGuid());
        Assert.Equal("Flat 3, Žirmūnų g. 12", listed.GetProperty("place").GetString());
        Assert.Equal("Screening: «Mirror»", listed.GetProperty("topic").GetString());
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 16, 30, 0, TimeSpan.Zero), listed.GetProperty("startsAt").GetDateTimeOffset());
        Assert.Equal((1, 1, 0, 0), (listed.GetProperty("going").GetInt32(), listed.GetProperty("maybe").GetInt32(), listed.GetProperty("no").GetInt32(), listed.GetProperty("unreadable").GetInt32()));
        Assert.Equal("going", listed.GetProperty("myAnswer").GetString());
        Assert.False(listed.GetProperty("createdByMe").GetBoolean());
        Assert.False(listed.GetProperty("cancelled").GetBoolean());

        // Mark did not create it and does not organize the group: the relay's 403, as one JSON error.
        CoordResult refused = await Coord.RunAsync([.. mark.Args("event", "cancel", e, "--group", g), "--json"]);
        Assert.Equal(ExitCodes.Failure, refused.ExitCode);
        Assert.Equal(403, refused.Error.GetProperty("status").GetInt32());
        Assert.Equal(string.Empty, refused.Stdout);

        JsonElement cancelled = await Coord.JsonAsync(olga.Args("event", "cancel", e, "--group", g));
        Assert.True(cancelled.GetProperty("cancelled").GetBoolean());
        JsonElement after = Assert.Single((await Coord.JsonAsync(olga.Args("event", "list", g))).GetProperty("events").EnumerateArray());
        Assert.True(after.GetProperty("cancelled").GetBoolean());
        Assert.True(after.GetProperty("createdByMe").GetBoolean());

        // For people: a table with the place and topic.
        CoordResult human = await Coord.RunAsync(olga.Args("event", "list", g));
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("Žirmūnų", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("cancelled", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_commands_refuse_bad_input_outsiders_and_cells_with_clear_errors()
    {
        Member olga = await CreateAsync("olga");
        Member outsider = await CreateAsync("outsider");
        string group = (await CreateCellAsync(olga, ConversationKind.GrasGroup)).ToString();
        string cell = (await CreateCellAsync(olga, ConversationKind.Cell)).ToString();

        foreach (string[] usage in new[]
        {
            olga.Args("event", "create", group, "--place", "Here", "--at", "tomorrow evening", "--topic", "T"),
            olga.Args("event", "create", group, "--place", "Here", "--at", "05/12/2026 18:30", "--topic", "T"),
            olga.Args("event", "create", group, "--place", " ", "--at", "+2h", "--topic", "T"),
            olga.Args("event", "create", "not-a-group", "--place", "Here", "--at", "+2h", "--topic", "T"),
            olga.Args("event", "rsvp", Guid.NewGuid().ToString(), "--group", group, "--answer", "yes"),
            olga.Args("event", "cancel", Guid.NewGuid().ToString()),
        })
        {
            CoordResult result = await Coord.RunAsync([.. usage, "--json"]);
            Assert.True(result.ExitCode == ExitCodes.Usage, $"{string.Join(' ', usage)}: {result}");
            Assert.False(string.IsNullOrEmpty(result.Error.GetProperty("error").GetString()));
            Assert.Equal(string.Empty, result.Stdout);
        }

        // Someone outside the group learns nothing but 404, as for a group that does not exist.
        CoordResult outside = await Coord.RunAsync([.. outsider.Args("event", "list", group), "--json"]);
        Assert.Equal(ExitCodes.Failure, outside.ExitCode);
        Assert.Equal(404, outside.Error.GetProperty("status").GetInt32());

        CoordResult notAGroup = await Coord.RunAsync([.. olga.Args("event", "create", cell, "--place", "Here", "--at", "+1d", "--topic", "T"), "--json"]);
        Assert.Equal(ExitCodes.Failure, notAGroup.ExitCode);
        Assert.Equal(400, notAGroup.Error.GetProperty("status").GetInt32());
        Assert.Contains("GRAS groups", notAGroup.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        // A relative time works, and an event too long for the relay's bound is a usage error before anything is sent.
        JsonElement soon = await Coord.JsonAsync(olga.Args("event", "create", group, "--place", "Here", "--at", "+2h", "--topic", "Soon"));
        Assert.InRange(soon.GetProperty("startsAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddHours(1.9), DateTimeOffset.UtcNow.AddHours(2.1));
        CoordResult tooLong = await Coord.RunAsync([.. olga.Args("event", "create", group, "--place", "Here", "--at", "+2h", "--topic", new string('x', 4000)), "--json"]);
        Assert.Equal(ExitCodes.Usage, tooLong.ExitCode);
        Assert.Contains("too long", tooLong.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Single((await Coord.JsonAsync(olga.Args("event", "list", group))).GetProperty("events").EnumerateArray());
    }

    [Fact]
    public void When_is_an_iso_date_and_time_or_a_duration_from_now()
    {
        DateTimeOffset now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        Assert.True(Commands.EventCommands.TryParseWhen("2026-12-05T16:30Z", now, out DateTimeOffset utc));
        Assert.Equal(new DateTimeOffset(2026, 12, 5, 16, 30, 0, TimeSpan.Zero), utc);
        Assert.True(Commands.EventCommands.TryParseWhen("2026-12-05 18:30+02:00", now, out DateTimeOffset offset));
        Assert.Equal(utc, offset);
        Assert.True(Commands.EventCommands.TryParseWhen("2026-12-05T18:30", now, out DateTimeOffset local));
        Assert.Equal(TimeZoneInfo.Local.GetUtcOffset(new DateTime(2026, 12, 5, 18, 30, 0, DateTimeKind.Unspecified)), local.Offset);
        Assert.True(Commands.EventCommands.TryParseWhen("+90m", now, out DateTimeOffset later));
        Assert.Equal(now.AddMinutes(90), later);
        foreach (string bad in new[] { "", "soon", "12/05/2026", "2026-12-05", "+", "+2x", "2026-13-05T18:30" })
        {
            Assert.False(Commands.EventCommands.TryParseWhen(bad, now, out _), bad);
        }
    }

    /// <summary>A cell or GRAS group founded by <paramref name="founder"/>'s profile through the SDK, joined by <paramref name="members"/>' profiles.</summary>
    private static async Task<Guid> CreateCellAsync(Member founder, ConversationKind kind, params Member[] members)
    {
        Guid cellId;
        string? code = null;
        await using (ProfileSession session = await ProfileSession.OpenAsync(founder.Profile))
        {
            CellView cell = await session.Cells.CreateAsync(kind, "Film club", null, null, null, CancellationToken.None).WaitAsync(Coord.Timeout);
            cellId = cell.CellId;
            if (members.Length > 0)
            {
                code = await session.Cells.InviteAsync(cellId, MemberRole.Member, RiskLevel.Low, members.Length, TimeSpan.FromHours(1), 0, CancellationToken.None).WaitAsync(Coord.Timeout);
            }
        }

        foreach (Member member in members)
        {
            await using ProfileSession session = await ProfileSession.OpenAsync(member.Profile);
            Assert.True((await session.Cells.JoinAsync(code!, null, CancellationToken.None).WaitAsync(Coord.Timeout)).Admitted);
        }

        return cellId;
    }

    private async Task<Member> CreateAsync(string name)
    {
        string profile = Path.Combine(_root, "profiles", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        JsonElement created = await Coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--name", name);
        return new Member(profile, created.GetProperty("accountId").GetGuid());
    }

    private sealed record Member(string Profile, Guid AccountId)
    {
        public string[] Args(params string[] command) => ["--profile", Profile, .. command];
    }

    /// <summary>A profile's own keys and local store (where the CLI keeps group keys), logged in through the SDK.</summary>
    private sealed class ProfileSession : IAsyncDisposable
    {
        private readonly ProfileStore _profile;
        private readonly Client.Identity.DeviceIdentity _identity;
        private readonly RelayApi _api;
        private readonly LocalMessageStore _store;

        private ProfileSession(ProfileStore profile, Client.Identity.DeviceIdentity identity, RelayApi api, LocalMessageStore store)
        {
            _profile = profile;
            _identity = identity;
            _api = api;
            _store = store;
            Cells = new CellClient(identity, api, store);
        }

        public CellClient Cells { get; }

        public static async Task<ProfileSession> OpenAsync(string directory)
        {
            ProfileStore profile = await ProfileStore.OpenAsync(directory, Coord.DefaultPassphrase.ToCharArray()).WaitAsync(Coord.Timeout);
            Client.Identity.DeviceIdentity identity = profile.ToIdentity();
            RelayApi api = RelayApi.Create(new Uri(profile.Profile.ServerUrl));
            await api.LoginAsync(identity).WaitAsync(Coord.Timeout);
            LocalMessageStore store = LocalMessageStore.Open(Path.Combine(directory, "messages"), profile.Profile.LocalStorageKey);
            return new ProfileSession(profile, identity, api, store);
        }

        public ValueTask DisposeAsync()
        {
            _store.Dispose();
            _api.Dispose();
            _identity.Dispose();
            _profile.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
