using System.Text.Json;
using Coordination.Cli.Tests.Infrastructure;
using Coordination.Server.Relay;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Cli.Tests;

/// <summary>
/// <c>coord cell ...</c> and <c>coord group ...</c> between real profiles through the real relay,
/// through the CLI only: invites and joins, roles and what each may see, messages to a cell, its
/// announcements and a group, vouches, removal, burning, and a relay that tampers with a membership.
/// </summary>
public sealed class CellCliTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    // Under the relay's data directory, which the fixture deletes.
    private Coord Coord => new(Path.Combine(relay.DataDirectory, "cli-home"));

    [Fact]
    public async Task An_organizer_invites_a_member_and_a_newcomer_who_see_what_their_roles_allow()
    {
        Person olga = await CreateAsync("olga");
        Person mark = await CreateAsync("mark");
        Person nadia = await CreateAsync("nadia");

        JsonElement created = await Coord.JsonAsync(olga.Args("cell", "create", "--name", "Riga legal aid", "--description", "Court support", "--display-name", "Olga"));
        Guid cell = created.GetProperty("cellId").GetGuid();
        Guid announcements = created.GetProperty("announcementsId").GetGuid();
        Assert.Equal("cell", created.GetProperty("kind").GetString());
        Assert.Equal("organizer", created.GetProperty("role").GetString());
        Assert.Equal("Riga legal aid", created.GetProperty("name").GetString());

        JsonElement memberInvite = await Coord.JsonAsync(olga.Args("cell", "invite", cell.ToString(), "--ceiling", "high"));
        Assert.Equal(("member", "high", 1, 0), (memberInvite.GetProperty("role").GetString(), memberInvite.GetProperty("ceiling").GetString(),
            memberInvite.GetProperty("uses").GetInt32(), memberInvite.GetProperty("requiredVouches").GetInt32()));
        Assert.InRange(memberInvite.GetProperty("expiresAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddDays(6.9), DateTimeOffset.UtcNow.AddDays(7.1));
        string newcomerCode = (await Coord.JsonAsync(olga.Args("cell", "invite", cell.ToString(), "--role", "newcomer"))).GetProperty("code").GetString()!;

        JsonElement markJoined = await Coord.JsonAsync(mark.Args("cell", "join", memberInvite.GetProperty("code").GetString()!, "--display-name", "Mark"));
        Assert.Equal("admitted", markJoined.GetProperty("status").GetString());
        Assert.Equal(cell, markJoined.GetProperty("cellId").GetGuid());
        Assert.Equal(("member", "high"), (markJoined.GetProperty("role").GetString(), markJoined.GetProperty("ceiling").GetString()));
        Guid markMembership = markJoined.GetProperty("membershipId").GetGuid();
        JsonElement nadiaJoined = await Coord.JsonAsync(nadia.Args("cell", "join", newcomerCode));
        Assert.Equal("newcomer", nadiaJoined.GetProperty("role").GetString());
        Guid nadiaMembership = nadiaJoined.GetProperty("membershipId").GetGuid();

        // The verified roster, with roles, ceilings and the names members chose.
        JsonElement members = await Coord.JsonAsync(olga.Args("cell", "members", cell.ToString()));
        Dictionary<Guid, JsonElement> byAccount = members.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("accountId").GetGuid());
        Assert.Equal(3, byAccount.Count);
        Assert.Equal(("organizer", "Olga", true), (byAccount[olga.AccountId].GetProperty("role").GetString(), byAccount[olga.AccountId].GetProperty("displayName").GetString(), byAccount[olga.AccountId].GetProperty("you").GetBoolean()));
        Assert.Equal(("member", "high", "Mark", markMembership), (byAccount[mark.AccountId].GetProperty("role").GetString(), byAccount[mark.AccountId].GetProperty("ceiling").GetString(),
            byAccount[mark.AccountId].GetProperty("displayName").GetString(), byAccount[mark.AccountId].GetProperty("membershipId").GetGuid()));
        Assert.Equal("newcomer", byAccount[nadia.AccountId].GetProperty("role").GetString());
        Assert.Equal(0, members.GetProperty("alerts").GetArrayLength());

        // A newcomer does not see the roster.
        JsonElement roster = await FailsAsync(ExitCodes.Failure, nadia, "cell", "members", cell.ToString());
        Assert.Equal(403, roster.GetProperty("status").GetInt32());

        // The cell id is a conversation: the organizer writes, the member reads; the newcomer cannot.
        Guid sentTo = (await Coord.JsonAsync(olga.Args("send", "--to", cell.ToString(), "--text", "Court at ten, room 4"))).GetProperty("conversationId").GetGuid();
        Assert.Equal(cell, sentTo);
        Assert.Equal(["Court at ten, room 4"], await TextsAsync(mark, cell));
        JsonElement newcomerRead = await FailsAsync(ExitCodes.Failure, nadia, "read", "--from", cell.ToString());
        Assert.Contains("newcomer", newcomerRead.GetProperty("error").GetString(), StringComparison.Ordinal);

        // ... but the announcements reach her.
        await Coord.JsonAsync(olga.Args("send", "--to", announcements.ToString(), "--text", "Welcome! Training on Sunday."));
        Assert.Equal(["Welcome! Training on Sunday."], await TextsAsync(nadia, announcements));

        // Promoted (newcomer to member by default), she sees the roster and what is sent from then on.
        JsonElement promoted = await Coord.JsonAsync(olga.Args("cell", "promote", cell.ToString(), nadiaMembership.ToString()));
        Assert.Equal(("promoted", "member", nadia.AccountId), (promoted.GetProperty("change").GetString(), promoted.GetProperty("role").GetString(), promoted.GetProperty("accountId").GetGuid()));
        Assert.Equal(3, (await Coord.JsonAsync(nadia.Args("cell", "members", cell.ToString()))).GetProperty("members").GetArrayLength());
        JsonElement shown = await Coord.JsonAsync(nadia.Args("cell", "show", cell.ToString()));
        Assert.Equal(("member", "low", nadiaMembership, "Riga legal aid", "Court support", "cell"), (shown.GetProperty("role").GetString(), shown.GetProperty("ceiling").GetString(),
            shown.GetProperty("membershipId").GetGuid(), shown.GetProperty("name").GetString(), shown.GetProperty("description").GetString(), shown.GetProperty("kind").GetString()));
        Assert.True(shown.GetProperty("epoch").GetInt32() > created.GetProperty("epoch").GetInt32());

        // Removed, Mark no longer reads the cell, and nothing about it answers him.
        JsonElement removed = await Coord.JsonAsync(olga.Args("cell", "remove", cell.ToString(), markMembership.ToString()));
        Assert.Equal("removed", removed.GetProperty("change").GetString());
        await Coord.JsonAsync(olga.Args("send", "--to", cell.ToString(), "--text", "New meeting place"));
        JsonElement markRead = await FailsAsync(ExitCodes.Failure, mark, "read", "--from", cell.ToString());
        Assert.Equal(404, markRead.GetProperty("status").GetInt32());
        JsonElement markShow = await FailsAsync(ExitCodes.Failure, mark, "cell", "show", cell.ToString());
        Assert.Contains("No such cell", markShow.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await Coord.JsonAsync(mark.Args("cell", "list"))).GetProperty("cells").GetArrayLength());
        Assert.Equal(["New meeting place"], await TextsAsync(nadia, cell));
    }

    [Fact]
    public async Task An_invite_that_needs_a_vouch_admits_on_the_second_join()
    {
        Person olga = await CreateAsync("olga");
        Person mark = await CreateAsync("mark");
        Person ivan = await CreateAsync("ivan");
        Guid cell = await CellWithAsync(olga, mark);

        string code = (await Coord.JsonAsync(olga.Args("cell", "invite", cell.ToString(), "--vouches", "1", "--expires", "2h"))).GetProperty("code").GetString()!;
        JsonElement waiting = await Coord.JsonAsync(ivan.Args("cell", "join", code));
        Assert.Equal(("pending", cell, 0, 1), (waiting.GetProperty("status").GetString(), waiting.GetProperty("cellId").GetGuid(),
            waiting.GetProperty("vouches").GetInt32(), waiting.GetProperty("requiredVouches").GetInt32()));
        Assert.Equal(JsonValueKind.Null, waiting.GetProperty("membershipId").ValueKind);
        CoordResult human = await Coord.RunAsync(ivan.Args("cell", "join", code));
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("run this command again once vouched", human.Stdout, StringComparison.OrdinalIgnoreCase);

        JsonElement candidate = Assert.Single((await Coord.JsonAsync(mark.Args("cell", "admissions", cell.ToString()))).GetProperty("candidates").EnumerateArray());
        Assert.Equal((ivan.AccountId, 0, 1), (candidate.GetProperty("accountId").GetGuid(), candidate.GetProperty("vouches").GetInt32(), candidate.GetProperty("requiredVouches").GetInt32()));
        JsonElement vouched = await Coord.JsonAsync(mark.Args("cell", "vouch", cell.ToString(), ivan.AccountId.ToString()));
        Assert.Equal(1, vouched.GetProperty("vouches").GetInt32());

        JsonElement admitted = await Coord.JsonAsync(ivan.Args("cell", "join", code));
        Assert.Equal(("admitted", "member"), (admitted.GetProperty("status").GetString(), admitted.GetProperty("role").GetString()));
        Assert.Equal(0, (await Coord.JsonAsync(olga.Args("cell", "admissions", cell.ToString()))).GetProperty("candidates").GetArrayLength());
        Assert.Contains((await Coord.JsonAsync(olga.Args("cell", "members", cell.ToString()))).GetProperty("members").EnumerateArray(),
            m => m.GetProperty("accountId").GetGuid() == ivan.AccountId);
    }

    [Fact]
    public async Task A_group_is_created_joined_written_to_and_left()
    {
        Person vera = await CreateAsync("vera");
        Person boris = await CreateAsync("boris");

        JsonElement created = await Coord.JsonAsync(vera.Args("group", "create", "--name", "Film club", "--description", "Thursdays", "--ends", "30d"));
        Guid group = created.GetProperty("cellId").GetGuid();
        Assert.Equal("group", created.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("announcementsId").ValueKind);
        Assert.InRange(created.GetProperty("endsAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddDays(29.9), DateTimeOffset.UtcNow.AddDays(30.1));

        string code = (await Coord.JsonAsync(vera.Args("group", "invite", group.ToString()))).GetProperty("code").GetString()!;
        JsonElement joined = await Coord.JsonAsync(boris.Args("group", "join", code));
        Assert.Equal(("admitted", "group", "Film club"), (joined.GetProperty("status").GetString(), joined.GetProperty("kind").GetString(), joined.GetProperty("name").GetString()));

        await Coord.JsonAsync(vera.Args("send", "--to", group.ToString(), "--text", "Screening moved to Friday"));
        Assert.Equal(["Screening moved to Friday"], await TextsAsync(boris, group));

        Assert.Equal(group, Assert.Single((await Coord.JsonAsync(boris.Args("group", "list"))).GetProperty("groups").EnumerateArray()).GetProperty("cellId").GetGuid());
        Assert.Equal(0, (await Coord.JsonAsync(boris.Args("cell", "list"))).GetProperty("cells").GetArrayLength());
        Assert.Equal(2, (await Coord.JsonAsync(boris.Args("group", "members", group.ToString()))).GetProperty("members").GetArrayLength());
        Assert.Equal("Thursdays", (await Coord.JsonAsync(boris.Args("group", "show", group.ToString()))).GetProperty("description").GetString());

        Assert.Equal("left", (await Coord.JsonAsync(boris.Args("group", "leave", group.ToString()))).GetProperty("change").GetString());
        JsonElement gone = await FailsAsync(ExitCodes.Failure, boris, "group", "show", group.ToString());
        Assert.Equal(404, gone.GetProperty("status").GetInt32());
        Assert.Contains("No such group", gone.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Single((await Coord.JsonAsync(vera.Args("group", "members", group.ToString()))).GetProperty("members").EnumerateArray());
    }

    [Fact]
    public async Task A_burned_member_can_no_longer_use_their_device()
    {
        Person olga = await CreateAsync("olga");
        Person mark = await CreateAsync("mark");
        Guid cell = await CellWithAsync(olga, mark);
        Guid markMembership = await MembershipAsync(mark, cell);

        // Standard input is not a terminal here, so there is nothing to confirm.
        CoordResult burned = await Coord.RunAsync(olga.Args("cell", "burn", cell.ToString(), markMembership.ToString()));
        Assert.True(burned.ExitCode == 0, burned.ToString());
        Assert.Contains("Burned", burned.Stdout, StringComparison.Ordinal);

        JsonElement next = await FailsAsync(ExitCodes.Failure, mark, "cell", "list");
        Assert.Contains("revoked", next.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Single((await Coord.JsonAsync(olga.Args("cell", "members", cell.ToString()))).GetProperty("members").EnumerateArray());
    }

    [Fact]
    public async Task Roles_change_step_by_step_and_a_newcomer_can_leave()
    {
        Person olga = await CreateAsync("olga");
        Person mark = await CreateAsync("mark");
        Person nadia = await CreateAsync("nadia");
        Guid cell = await CellWithAsync(olga, mark);
        Guid markMembership = await MembershipAsync(mark, cell);
        Guid olgaMembership = await MembershipAsync(olga, cell);

        Assert.Equal("organizer", (await Coord.JsonAsync(olga.Args("cell", "promote", cell.ToString(), markMembership.ToString()))).GetProperty("role").GetString());
        JsonElement again = await FailsAsync(ExitCodes.Failure, olga, "cell", "promote", cell.ToString(), markMembership.ToString());
        Assert.Contains("already an organizer", again.GetProperty("error").GetString(), StringComparison.Ordinal);

        // Mark, now an organizer, steps Olga down twice and sets her ceiling.
        Assert.Equal("member", (await Coord.JsonAsync(mark.Args("cell", "demote", cell.ToString(), olgaMembership.ToString()))).GetProperty("role").GetString());
        Assert.Equal("newcomer", (await Coord.JsonAsync(mark.Args("cell", "demote", cell.ToString(), olgaMembership.ToString()))).GetProperty("role").GetString());
        JsonElement ceiling = await Coord.JsonAsync(mark.Args("cell", "ceiling", cell.ToString(), olgaMembership.ToString(), "critical"));
        Assert.Equal(("ceiling", "newcomer", "critical"), (ceiling.GetProperty("change").GetString(), ceiling.GetProperty("role").GetString(), ceiling.GetProperty("ceiling").GetString()));
        Assert.Equal("organizer", (await Coord.JsonAsync(mark.Args("cell", "promote", cell.ToString(), olgaMembership.ToString(), "--role", "organizer"))).GetProperty("role").GetString());

        // A newcomer cannot read the log the SDK builds changes on, and still leaves.
        string code = (await Coord.JsonAsync(olga.Args("cell", "invite", cell.ToString(), "--role", "newcomer"))).GetProperty("code").GetString()!;
        await Coord.JsonAsync(nadia.Args("cell", "join", code));
        Assert.Equal("left", (await Coord.JsonAsync(nadia.Args("cell", "leave", cell.ToString()))).GetProperty("change").GetString());
        Assert.Equal(2, (await Coord.JsonAsync(olga.Args("cell", "members", cell.ToString()))).GetProperty("members").GetArrayLength());

        // A member is not allowed to change someone else's role; the relay's reason is shown.
        await Coord.JsonAsync(olga.Args("cell", "demote", cell.ToString(), markMembership.ToString()));
        JsonElement notAllowed = await FailsAsync(ExitCodes.Failure, mark, "cell", "promote", cell.ToString(), markMembership.ToString());
        Assert.Contains("organizer", notAllowed.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_and_unknown_cells_are_clear_errors()
    {
        Person olga = await CreateAsync("olga");
        Guid cell = await CellWithAsync(olga);

        JsonElement badCode = await FailsAsync(ExitCodes.Usage, olga, "cell", "join", "NOT-A-CODE");
        Assert.Contains("invite code", badCode.GetProperty("error").GetString(), StringComparison.Ordinal);

        foreach (string[] args in new[]
        {
            new[] { "cell", "invite", cell.ToString(), "--role", "king" },
            ["cell", "invite", cell.ToString(), "--ceiling", "extreme"],
            ["cell", "invite", cell.ToString(), "--expires", "31d"],
            ["cell", "invite", cell.ToString(), "--uses", "0"],
            ["cell", "invite", cell.ToString(), "--vouches", "21"],
            ["cell", "invite", "not-a-guid"],
            ["cell", "create", "--name", "  "],
            ["group", "create", "--name", "Picnic", "--ends", "400d"],
            ["cell", "promote", cell.ToString(), Guid.NewGuid().ToString(), "--role", "newcomer"],
            ["cell", "ceiling", cell.ToString(), Guid.NewGuid().ToString(), "sky-high"],
        })
        {
            await FailsAsync(ExitCodes.Usage, olga, args);
        }

        JsonElement unknown = await FailsAsync(ExitCodes.Failure, olga, "cell", "show", Guid.NewGuid().ToString());
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Contains("No such cell", unknown.GetProperty("error").GetString(), StringComparison.Ordinal);

        JsonElement noSuchMember = await FailsAsync(ExitCodes.Failure, olga, "cell", "remove", cell.ToString(), Guid.NewGuid().ToString());
        Assert.Contains("not a current member", noSuchMember.GetProperty("error").GetString(), StringComparison.Ordinal);

        JsonElement lastOrganizer = await FailsAsync(ExitCodes.Failure, olga, "cell", "leave", cell.ToString());
        Assert.Equal(400, lastOrganizer.GetProperty("status").GetInt32());
        Assert.Contains("last organizer", lastOrganizer.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Human_output_shows_tables_and_the_code()
    {
        Person olga = await CreateAsync("olga");
        CoordResult created = await Coord.RunAsync(olga.Args("cell", "create", "--name", "Tbilisi \u001b[2J night shift"));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("Cell created", created.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', created.Stdout);
        Guid cell = (await Coord.JsonAsync(olga.Args("cell", "list"))).GetProperty("cells")[0].GetProperty("cellId").GetGuid();
        Assert.Contains(cell.ToString(), created.Stdout, StringComparison.Ordinal);

        CoordResult invite = await Coord.RunAsync(olga.Args("cell", "invite", cell.ToString()));
        Assert.True(invite.ExitCode == 0, invite.ToString());
        Assert.Matches("[A-Z2-9]{4}(-[A-Z2-9]{4}){12}", invite.Stdout);

        CoordResult members = await Coord.RunAsync(olga.Args("cell", "members", cell.ToString()));
        Assert.True(members.ExitCode == 0, members.ToString());
        Assert.Contains("organizer", members.Stdout, StringComparison.Ordinal);
        Assert.Contains("(you)", members.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relay_that_tampers_with_the_membership_is_reported_and_not_trusted()
    {
        Person olga = await CreateAsync("olga");
        Person mark = await CreateAsync("mark");
        Person ghost = await CreateAsync("ghost");
        Person nina = await CreateAsync("nina");
        Guid cell = await CellWithAsync(olga, mark, nina);

        // A member inserted straight into the database, with no signed entry: left out and reported.
        relay.Tamper("INSERT INTO Memberships (Id, CellId, AccountId, Role, Ceiling) VALUES ($0, $1, $2, 2, 3)", Guid.NewGuid(), cell, ghost.AccountId);
        JsonElement members = await Coord.JsonAsync(mark.Args("cell", "members", cell.ToString()));
        Assert.DoesNotContain(members.GetProperty("members").EnumerateArray(), m => m.GetProperty("accountId").GetGuid() == ghost.AccountId);
        JsonElement alert = Assert.Single(members.GetProperty("alerts").EnumerateArray());
        Assert.Equal(("ghostMember", ghost.AccountId), (alert.GetProperty("kind").GetString(), alert.GetProperty("accountId").GetGuid()));
        CoordResult human = await Coord.RunAsync(mark.Args("cell", "members", cell.ToString()));
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains(ghost.AccountId.ToString(), human.Stderr, StringComparison.Ordinal);
        relay.Tamper("DELETE FROM Memberships WHERE CellId = $0 AND AccountId = $1", cell, ghost.AccountId);

        // Nina's removal is dropped from the end of the log after Olga saw it: Olga's client refuses to send.
        Guid ninaMembership = await MembershipAsync(nina, cell);
        long before = relay.Count($"SELECT LogLength FROM Cells WHERE Id = '{cell.ToString().ToUpperInvariant()}'");
        await Coord.JsonAsync(olga.Args("cell", "remove", cell.ToString(), ninaMembership.ToString()));
        relay.Tamper("DELETE FROM MembershipLog WHERE CellId = $0 AND \"Index\" = $1", cell, before);
        relay.Tamper("INSERT INTO Memberships (Id, CellId, AccountId, Role, Ceiling) VALUES ($0, $1, $2, 2, 0)", ninaMembership, cell, nina.AccountId);
        relay.Tamper("INSERT INTO ConversationParticipants (ConversationId, AccountId) VALUES ($0, $1)", cell, nina.AccountId);
        relay.Services.GetRequiredService<ConversationDirectory>().Invalidate(cell);

        JsonElement send = await FailsAsync(ExitCodes.Failure, olga, "send", "--to", cell.ToString(), "--text", "for the remaining members");
        Assert.Contains($"membership list for cell {cell} could not be verified", send.GetProperty("error").GetString(), StringComparison.Ordinal);
        JsonElement roster = await FailsAsync(ExitCodes.Failure, olga, "cell", "members", cell.ToString());
        Assert.Contains("no longer contains entry", roster.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A cell created by <paramref name="organizer"/> that each of <paramref name="members"/> joined as a member.</summary>
    private async Task<Guid> CellWithAsync(Person organizer, params Person[] members)
    {
        Guid cell = (await Coord.JsonAsync(organizer.Args("cell", "create", "--name", "Cell " + Guid.NewGuid().ToString("N")[..6]))).GetProperty("cellId").GetGuid();
        foreach (Person member in members)
        {
            string code = (await Coord.JsonAsync(organizer.Args("cell", "invite", cell.ToString()))).GetProperty("code").GetString()!;
            Assert.Equal("admitted", (await Coord.JsonAsync(member.Args("cell", "join", code))).GetProperty("status").GetString());
        }

        return cell;
    }

    /// <summary>Runs with <c>--json</c> and expects it to fail with <paramref name="exitCode"/>, printing only the error object, which it returns.</summary>
    private async Task<JsonElement> FailsAsync(int exitCode, Person person, params string[] command)
    {
        CoordResult result = await Coord.RunAsync([.. person.Args(command), "--json"]);
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Equal(string.Empty, result.Stdout);
        return result.Error;
    }

    /// <summary><paramref name="person"/>'s own membership id in <paramref name="cell"/>, as <c>cell show</c> prints it.</summary>
    private async Task<Guid> MembershipAsync(Person person, Guid cell) =>
        (await Coord.JsonAsync(person.Args("cell", "show", cell.ToString()))).GetProperty("membershipId").GetGuid();

    /// <summary>What <paramref name="reader"/> has received in <paramref name="conversation"/>, after a <c>read</c>.</summary>
    private async Task<List<string>> TextsAsync(Person reader, Guid conversation)
    {
        JsonElement read = await Coord.JsonAsync(reader.Args("read", "--from", conversation.ToString()));
        Assert.Equal(conversation, read.GetProperty("conversationId").GetGuid());
        return [.. read.GetProperty("messages").EnumerateArray()
            .Where(m => !m.GetProperty("outgoing").GetBoolean())
            .Select(m => m.GetProperty("text").GetString() ?? "could not be read: " + m.GetProperty("failure").GetString())];
    }

    private async Task<Person> CreateAsync(string name)
    {
        string profile = Path.Combine(relay.DataDirectory, "profiles", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        JsonElement created = await Coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--name", name);
        return new Person(profile, created.GetProperty("accountId").GetGuid());
    }

    private sealed record Person(string Profile, Guid AccountId)
    {
        public string[] Args(params string[] command) => ["--profile", Profile, .. command];
    }
}
