using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Protocol;
using Spectre.Console;

namespace Coordination.Cli.Commands;

/// <summary>A cell or group as <c>create</c>, <c>show</c> and <c>list</c> print it, with your own membership in it.</summary>
/// <param name="Kind"><c>cell</c> or <c>group</c>.</param>
/// <param name="AnnouncementsId">Cells only: the conversation organizers post to and newcomers read.</param>
/// <param name="EndsAt">Groups only: when the relay deletes the group.</param>
public sealed record CellSummary(
    Guid CellId,
    string Kind,
    string Name,
    string? Description,
    Guid? AnnouncementsId,
    int Epoch,
    DateTimeOffset? EndsAt,
    Guid MembershipId,
    string Role,
    string Ceiling)
{
    internal static CellSummary Of(CellView view) => new(
        view.CellId,
        CellNames.Of(view.Kind),
        view.Name,
        view.Description,
        view.AnnouncementsId,
        view.Epoch,
        view.EndsAt,
        view.Membership.MembershipId,
        CellNames.Of(view.Membership.Role),
        CellNames.Of(view.Membership.Ceiling));
}

/// <summary>What <c>cell list</c> prints.</summary>
public sealed record CellListResult(IReadOnlyList<CellSummary> Cells);

/// <summary>What <c>group list</c> prints.</summary>
public sealed record GroupListResult(IReadOnlyList<CellSummary> Groups);

/// <summary>What <c>invite</c> prints: the code, for the invitee alone, and what it grants.</summary>
public sealed record InviteResult(Guid CellId, string Code, string Role, string Ceiling, int Uses, DateTimeOffset ExpiresAt, int RequiredVouches);

/// <summary>What <c>join</c> prints. <see cref="Status"/> is <c>admitted</c> (the membership is set) or <c>pending</c> (waiting for vouches).</summary>
public sealed record CellJoinResult(
    string Status,
    Guid CellId,
    int Vouches,
    int RequiredVouches,
    Guid? MembershipId,
    string? Role,
    string? Ceiling,
    string? Kind,
    string? Name,
    Guid? AnnouncementsId);

/// <summary>One member as the verified membership log lists them.</summary>
/// <param name="You">True for this account's own membership.</param>
public sealed record MemberRow(Guid MembershipId, Guid AccountId, string Role, string Ceiling, string? DisplayName, bool You);

/// <summary>Tampering the SDK detected (a member the relay lists that the signed log does not, say).</summary>
public sealed record AlertRow(string Kind, string Detail, Guid? AccountId);

/// <summary>What <c>members</c> prints: the verified members, and any alerts raised while verifying.</summary>
public sealed record MembersResult(Guid CellId, IReadOnlyList<MemberRow> Members, IReadOnlyList<AlertRow> Alerts);

/// <summary>What <c>promote</c>, <c>demote</c>, <c>ceiling</c>, <c>remove</c>, <c>burn</c> and <c>leave</c> print.</summary>
/// <param name="Change"><c>promoted</c>, <c>demoted</c>, <c>ceiling</c>, <c>removed</c>, <c>burned</c> or <c>left</c>.</param>
/// <param name="Role">The role after the change (before it, for removals).</param>
/// <param name="Epoch">The cell's epoch after the change; group messages carry it.</param>
public sealed record MembershipChangeResult(Guid CellId, Guid MembershipId, Guid AccountId, string Change, string Role, string Ceiling, int Epoch);

/// <summary>An invitee waiting for vouches.</summary>
public sealed record AdmissionRow(Guid AccountId, int Vouches, int RequiredVouches);

/// <summary>What <c>cell admissions</c> prints.</summary>
public sealed record AdmissionsResult(Guid CellId, IReadOnlyList<AdmissionRow> Candidates);

/// <summary>What <c>cell vouch</c> prints: the candidate's vouches after this one (null if they are no longer waiting).</summary>
public sealed record VouchResult(Guid CellId, Guid AccountId, int? Vouches, int? RequiredVouches);

/// <summary>What differs between the cell and group commands that share their code.</summary>
internal sealed record CellKind(ConversationKind Kind, string Noun, string Placeholder)
{
    public static CellKind Cell { get; } = new(ConversationKind.Cell, "cell", "CELL");

    public static CellKind Group { get; } = new(ConversationKind.GrasGroup, "group", "GROUP");

    public bool IsGroup => Kind == ConversationKind.GrasGroup;
}

/// <summary>
/// <c>coord cell create | invite | join | show | list | members | promote | demote | ceiling |
/// remove | leave | burn | admissions | vouch</c>, through the SDK's <see cref="CellClient"/>:
/// every change is an entry signed with the account key, and the membership log is verified
/// before anyone in it is trusted. The commands cells share with GRAS groups are built here for
/// both (see <see cref="GroupCommands"/>).
/// </summary>
public sealed class CellCommands : ICommandGroup
{
    /// <summary>The relay keeps a group for at most a year; a day less leaves room for clocks.</summary>
    private static readonly TimeSpan s_maxGroupLifetime = TimeSpan.FromDays(365);

    private static readonly TimeSpan s_defaultInviteLifetime = TimeSpan.FromDays(7);

    /// <summary>The sealed name and description are padded to 256 bytes and must fit the relay's limit once sealed.</summary>
    private const int MaxProfileBytes = 1700;

    private const int MaxDisplayNameLength = 64;

    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        CellKind cell = CellKind.Cell;
        yield return Parent("cell", "Cells: small groups of people who trust each other, with a signed membership log the relay cannot forge.",
            Create(context, cell), Invite(context, cell), Join(context, cell), Show(context, cell), List(context, cell), Members(context, cell),
            Promote(context), Demote(context), Ceiling(context), Remove(context), Leave(context, cell), Burn(context), Admissions(context), Vouch(context));
    }

    /// <summary>A command that only groups <paramref name="subcommands"/> (<c>cell</c>, <c>group</c>).</summary>
    internal static Command Parent(string name, string description, params Command[] subcommands)
    {
        Command parent = new(name, description);
        foreach (Command subcommand in subcommands)
        {
            parent.Subcommands.Add(subcommand);
        }

        return parent;
    }

    internal static Command Create(CliContext context, CellKind kind)
    {
        Option<string> name = new("--name") { Description = $"The {kind.Noun}'s name; sealed under its key, the relay never sees it", HelpName = "NAME", Required = true };
        Option<string?> description = new("--description") { Description = "What it is for; sealed like the name", HelpName = "TEXT" };
        Option<string?> displayName = new("--display-name") { Description = $"The name the other members see for you in this {kind.Noun} (sealed too)", HelpName = "NAME" };
        Option<TimeSpan?> ends = new("--ends")
        {
            Description = "When the relay deletes the group, its messages and events, from now (up to 365d). Default: never",
            HelpName = "DURATION",
            CustomParser = Durations.ParseOption,
        };
        Command command = kind.IsGroup
            ? new("create", "Create a GRAS group, with you as its organizer.") { name, description, displayName, ends }
            : new("create", "Create a cell (and its announcements conversation), with you as its organizer.") { name, description, displayName };
        context.SetAction(command, async run =>
        {
            string title = run.GetValue(name)!.Trim();
            string? about = run.GetValue(description);
            string? self = run.GetValue(displayName);
            TimeSpan? lifetime = kind.IsGroup ? run.GetValue(ends) : null;
            if (title.Length == 0)
            {
                throw CliException.Usage("--name must not be empty.");
            }

            if (JsonSerializer.SerializeToUtf8Bytes(new CellProfile(title, about), JsonSerializerOptions.Web).Length > MaxProfileBytes)
            {
                throw CliException.Usage($"--name and --description are too long together (at most about {MaxProfileBytes} bytes once encoded).");
            }

            CheckDisplayName(self);
            if (lifetime > s_maxGroupLifetime)
            {
                throw CliException.Usage("--ends must be at most 365d.");
            }

            CellView view = await RunAsync(run, kind, null, $"Creating the {kind.Noun}...", session => session.Cells.CreateAsync(
                kind.Kind, title, about, self, lifetime is { } l ? DateTimeOffset.UtcNow.Add(l) : null, run.CancellationToken)).ConfigureAwait(false);
            CellSummary result = CellSummary.Of(view);
            run.Output.Result(result, console =>
            {
                console.MarkupLineInterpolated($"[green]{(kind.IsGroup ? "Group" : "Cell")} created.[/] You are its organizer.");
                PrintSummary(console, result);
                console.MarkupLineInterpolated($"Invite people with [bold]coord {kind.Noun} invite {result.CellId.ToString()}[/].");
            });
        });
        return command;
    }

    internal static Command Invite(CliContext context, CellKind kind)
    {
        Option<MemberRole?> role = CellNames.RoleOption("The role the invitee gets. Default: member", MemberRole.Organizer, MemberRole.Member, MemberRole.Newcomer);
        Option<RiskLevel?> ceiling = new("--ceiling")
        {
            Description = "The most risk the invitee may be asked to take. Default: low",
            HelpName = CellNames.LevelChoices,
            CustomParser = result => CellNames.ParseLevel(result),
        };
        Option<int> uses = new("--uses") { Description = $"How many people the code admits (1 to {InviteGrant.MaxUses})", HelpName = "N", DefaultValueFactory = _ => 1 };
        Option<TimeSpan?> expires = new("--expires")
        {
            Description = "How long the code works (up to 30d). Default: 7d",
            HelpName = "DURATION",
            CustomParser = Durations.ParseOption,
        };
        Option<int> vouches = new("--vouches")
        {
            Description = $"How many members must vouch for an invitee before they are admitted (0 to {InviteGrant.MaxVouches})",
            HelpName = "K",
            DefaultValueFactory = _ => 0,
        };
        Command command = new("invite", $"Create an invite code for the {kind.Noun} (organizers only). The relay never sees the code.") { role, ceiling, uses, expires, vouches };
        return OnCell(context, kind, command, "Creating the invite...", async (run, session, cellId) =>
        {
            MemberRole granted = run.GetValue(role) ?? MemberRole.Member;
            RiskLevel level = run.GetValue(ceiling) ?? RiskLevel.Low;
            TimeSpan lifetime = run.GetValue(expires) ?? s_defaultInviteLifetime;
            (int count, int required) = (run.GetValue(uses), run.GetValue(vouches));
            string code;
            try
            {
                code = await session.Cells.InviteAsync(cellId, granted, level, count, lifetime, required, run.CancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                throw new CliException(
                    $"This device does not hold the {kind.Noun}'s key: the {kind.Noun} was created or joined on another device of this account. Invite from that device.");
            }

            return new InviteResult(cellId, code, CellNames.Of(granted), CellNames.Of(level), count, DateTimeOffset.UtcNow.Add(lifetime), required);
        }, (console, result) =>
        {
            string until = result.ExpiresAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            string people = result.Uses == 1 ? "one person" : $"up to {result.Uses} people";
            string vouching = result.RequiredVouches == 0 ? string.Empty : $", each once {result.RequiredVouches} member(s) vouched for them";
            console.MarkupLine("Invite code:");
            console.WriteLine();
            console.MarkupLineInterpolated($"  [bold]{result.Code}[/]");
            console.WriteLine();
            console.MarkupLineInterpolated($"It admits {people} as {result.Role} with risk ceiling {result.Ceiling}{vouching}, until {until}.");
            console.MarkupLineInterpolated($"They join with [bold]coord {kind.Noun} join CODE[/]. Whoever holds the code can join: hand it over in person or through a channel only they read.");
        }, run =>
        {
            // Checked before the passphrase is asked for.
            if (run.GetValue(uses) is < 1 or > InviteGrant.MaxUses)
            {
                throw CliException.Usage($"--uses must be between 1 and {InviteGrant.MaxUses}.");
            }

            if (run.GetValue(vouches) is < 0 or > InviteGrant.MaxVouches)
            {
                throw CliException.Usage($"--vouches must be between 0 and {InviteGrant.MaxVouches}.");
            }

            return run.GetValue(expires) > Limits.MaxInviteLifetime ? throw CliException.Usage("--expires must be at most 30d.") : Task.CompletedTask;
        });
    }

    internal static Command Join(CliContext context, CellKind kind)
    {
        Argument<string> code = new("CODE") { Description = "The invite code you were given" };
        Option<string?> displayName = new("--display-name") { Description = $"The name the other members see for you (sealed under the {kind.Noun}'s key)", HelpName = "NAME" };
        Command command = new("join", $"Join a {kind.Noun} with an invite code. If the invite needs vouches, run it again once members have vouched.") { code, displayName };
        context.SetAction(command, async run =>
        {
            string typed = run.GetValue(code)!;
            string? self = run.GetValue(displayName);
            try
            {
                // Refuse a mistyped code before the passphrase is asked for.
                InviteCode.Parse(typed).Dispose();
            }
            catch (FormatException ex)
            {
                throw CliException.Usage(ex.Message);
            }

            CheckDisplayName(self);
            (JoinResult joined, Guid account) = await RunAsync(run, kind, null, $"Joining the {kind.Noun}...", async session =>
                (await session.Cells.JoinAsync(typed, self, run.CancellationToken).ConfigureAwait(false), session.AccountId)).ConfigureAwait(false);
            CellView? view = joined.Cell;
            CellJoinResult result = new(
                view is null ? "pending" : "admitted",
                joined.CellId,
                joined.Vouches,
                joined.RequiredVouches,
                view?.Membership.MembershipId,
                view is null ? null : CellNames.Of(view.Membership.Role),
                view is null ? null : CellNames.Of(view.Membership.Ceiling),
                view is null ? null : CellNames.Of(view.Kind),
                view?.Name,
                view?.AnnouncementsId);
            run.Output.Result(result, console =>
            {
                if (view is null)
                {
                    console.MarkupLineInterpolated($"[yellow]Waiting for vouches:[/] {result.Vouches} of {result.RequiredVouches} so far.");
                    console.MarkupLineInterpolated($"Members see you with [bold]coord {kind.Noun} admissions {result.CellId.ToString()}[/] and vouch with [bold]coord {kind.Noun} vouch {result.CellId.ToString()} {account.ToString()}[/].");
                    console.MarkupLine("Run this command again once vouched.");
                    return;
                }

                CellSummary summary = CellSummary.Of(view);
                console.MarkupLineInterpolated($"[green]Joined[/] {MessagingCommands.ForTerminal(summary.Name)} as {summary.Role}.");
                PrintSummary(console, summary);
                if (view.Membership.Role == MemberRole.Newcomer && view.AnnouncementsId is { } announcements)
                {
                    console.MarkupLineInterpolated($"As a newcomer you read the announcements ([bold]coord read --from {announcements.ToString()}[/]) until an organizer makes you a member.");
                }
                else
                {
                    console.MarkupLineInterpolated($"Read and write with [bold]coord read --from {summary.CellId.ToString()}[/] and [bold]coord send --to {summary.CellId.ToString()}[/].");
                }
            });
        });
        return command;
    }

    internal static Command Show(CliContext context, CellKind kind) => OnCell(
        context,
        kind,
        new Command("show", $"Show a {kind.Noun}: its name and description, your membership, its epoch."),
        $"Fetching the {kind.Noun}...",
        async (run, session, cellId) => CellSummary.Of(await session.Cells.GetAsync(cellId, run.CancellationToken).ConfigureAwait(false)),
        PrintSummary);

    internal static Command List(CliContext context, CellKind kind)
    {
        Command command = new("list", kind.IsGroup ? "List the GRAS groups you belong to." : "List the cells you belong to.");
        context.SetAction(command, async run =>
        {
            List<CellView> views = await RunAsync(run, kind, null, "Fetching...", session => session.Cells.ListAsync(run.CancellationToken)).ConfigureAwait(false);
            List<CellSummary> rows = [.. views.Where(v => v.Kind == kind.Kind).Select(CellSummary.Of)];
            object result = kind.IsGroup ? new GroupListResult(rows) : new CellListResult(rows);
            run.Output.Result(result, console =>
            {
                if (rows.Count == 0)
                {
                    console.MarkupLineInterpolated($"[grey]You are in no {kind.Noun}. Create one with 'coord {kind.Noun} create --name NAME', or join with 'coord {kind.Noun} join CODE'.[/]");
                    return;
                }

                Table table = new Table().Border(TableBorder.Rounded).AddColumn(kind.IsGroup ? "Group" : "Cell").AddColumn("Name").AddColumn("Role").AddColumn("Ceiling");
                table.AddColumn(kind.IsGroup ? "Ends" : "Announcements");
                foreach (CellSummary row in rows)
                {
                    string last = kind.IsGroup ? Date(row.EndsAt) : row.AnnouncementsId?.ToString() ?? "-";
                    table.AddRow(new Text(row.CellId.ToString()), new Text(MessagingCommands.ForTerminal(row.Name)), new Text(row.Role), new Text(row.Ceiling), new Text(last));
                }

                console.Write(table);
            });
        });
        return command;
    }

    internal static Command Members(CliContext context, CellKind kind) => OnCell(
        context,
        kind,
        new Command("members", $"List the {kind.Noun}'s members, as the signed membership log says (members and organizers only)."),
        "Verifying the membership log...",
        async (run, session, cellId) =>
        {
            List<VerifiedMember> members = await session.Cells.MembersAsync(cellId, run.CancellationToken).ConfigureAwait(false);
            return new MembersResult(
                cellId,
                [.. members.Select(m => new MemberRow(m.MembershipId, m.AccountId, CellNames.Of(m.Role), CellNames.Of(m.Ceiling), m.DisplayName, m.AccountId == session.AccountId))],
                [.. session.Alerts.Select(a => new AlertRow(CellNames.Of(a.Kind), a.Detail, a.AccountId))]);
        },
        (console, result) =>
        {
            // The alerts themselves were shown as warnings (human output) by the session.
            Table table = new Table().Border(TableBorder.Rounded)
                .AddColumn("Membership").AddColumn("Account").AddColumn("Role").AddColumn("Ceiling").AddColumn("Name");
            foreach (MemberRow row in result.Members)
            {
                string name = MessagingCommands.ForTerminal(row.DisplayName ?? "-") + (row.You ? " (you)" : string.Empty);
                table.AddRow(new Text(row.MembershipId.ToString()), new Text(row.AccountId.ToString()), new Text(row.Role), new Text(row.Ceiling), new Text(name));
            }

            console.Write(table);
        });

    internal static Command Leave(CliContext context, CellKind kind) => OnCell(
        context,
        kind,
        new Command("leave", $"Leave the {kind.Noun} (an entry you sign yourself). The last organizer cannot leave."),
        $"Leaving the {kind.Noun}...",
        async (run, session, cellId) =>
        {
            CellMembershipInfo own = (await session.Cells.GetAsync(cellId, run.CancellationToken).ConfigureAwait(false)).Membership;
            AppendEntryResponse left = await session.Cells.LeaveAsync(cellId, run.CancellationToken).ConfigureAwait(false);
            return new MembershipChangeResult(cellId, own.MembershipId, session.AccountId, "left", CellNames.Of(own.Role), CellNames.Of(own.Ceiling), left.Epoch);
        },
        (console, result) => console.MarkupLineInterpolated($"[green]You left[/] {kind.Noun} {result.CellId.ToString()}. Nothing sent there from now on is encrypted to you."));

    private static Command Promote(CliContext context)
    {
        Option<MemberRole?> role = CellNames.RoleOption("The new role. Default: one step up (newcomer to member, member to organizer)", MemberRole.Organizer, MemberRole.Member);
        return OnMembership(context, new Command("promote", "Give a member a higher role (organizers only).") { role }, "promoted", (run, subject) =>
        {
            MemberRole next = run.GetValue(role) ?? subject.Role switch
            {
                MemberRole.Newcomer => MemberRole.Member,
                MemberRole.Member => MemberRole.Organizer,
                _ => throw new CliException($"Membership {subject.MembershipId} is already {CellNames.WithArticle(MemberRole.Organizer)}."),
            };

            // Roles are numbered from the top: organizer 1, member 2, newcomer 3.
            return next < subject.Role ? subject with { Role = next }
                : next == subject.Role ? throw new CliException($"Membership {subject.MembershipId} is already {CellNames.WithArticle(next)}.")
                : throw new CliException($"Membership {subject.MembershipId} is {CellNames.WithArticle(subject.Role)}: promote gives a higher role, demote a lower one.");
        }, (cells, cellId, target, ct) => cells.SetRoleAsync(cellId, target.MembershipId, target.Role, ct));
    }

    private static Command Demote(CliContext context) => OnMembership(
        context,
        new Command("demote", "Lower a member's role one step: organizer to member, member to newcomer (organizers only)."),
        "demoted",
        (_, subject) => subject with
        {
            Role = subject.Role switch
            {
                MemberRole.Organizer => MemberRole.Member,
                MemberRole.Member => MemberRole.Newcomer,
                _ => throw new CliException($"Membership {subject.MembershipId} is already a newcomer; 'coord cell remove' removes it."),
            },
        },
        (cells, cellId, target, ct) => cells.SetRoleAsync(cellId, target.MembershipId, target.Role, ct));

    private static Command Ceiling(CliContext context)
    {
        Argument<RiskLevel> level = new("LEVEL") { Description = $"The new risk ceiling: {CellNames.LevelChoices}", HelpName = "LEVEL", CustomParser = CellNames.ParseLevel };
        return OnMembership(context, new Command("ceiling", "Set the most risk a member may be asked to take (organizers only).") { level }, "ceiling",
            (run, subject) => subject with { Ceiling = run.GetValue(level) },
            (cells, cellId, target, ct) => cells.SetCeilingAsync(cellId, target.MembershipId, target.Ceiling, ct));
    }

    private static Command Remove(CliContext context) => OnMembership(
        context,
        new Command("remove", "Remove a member from the cell (organizers only). Nothing sent from then on is encrypted to them."),
        "removed",
        (_, subject) => subject,
        (cells, cellId, target, ct) => cells.RemoveAsync(cellId, target.MembershipId, ct));

    private static Command Burn(CliContext context)
    {
        Option<bool> yes = new("--yes", "-y") { Description = "Do not ask for confirmation" };
        Command command = new("burn", "Burn a compromised member (organizers only): removed from every cell and group, every device of their account revoked.") { yes };
        return OnMembership(context, command, "burned", (_, subject) => subject, (cells, cellId, target, ct) => cells.BurnAsync(cellId, target.MembershipId, ct), async run =>
        {
            // Asked only of a person at a terminal; a script says what it means by running the command.
            if (!run.GetValue(yes) && !run.Output.Json && run.Environment.InputIsTerminal)
            {
                bool confirmed = await new ConfirmationPrompt(
                    "Burn this member? Their account leaves every cell and group and all its devices are revoked. This cannot be undone.")
                {
                    DefaultValue = false,
                }.ShowAsync(run.Output.ErrorConsole, run.CancellationToken).ConfigureAwait(false);
                if (!confirmed)
                {
                    throw new CliException("Nothing was burned.");
                }
            }
        });
    }

    private static Command Admissions(CliContext context) => OnCell(
        context,
        CellKind.Cell,
        new Command("admissions", "List invitees waiting for vouches (members and organizers)."),
        "Fetching...",
        async (run, session, cellId) => new AdmissionsResult(
            cellId,
            [.. (await session.Cells.AdmissionsAsync(cellId, run.CancellationToken).ConfigureAwait(false)).Select(p => new AdmissionRow(p.AccountId, p.Vouches, p.RequiredVouches))]),
        (console, result) =>
        {
            if (result.Candidates.Count == 0)
            {
                console.MarkupLine("[grey]Nobody is waiting for vouches.[/]");
                return;
            }

            Table table = new Table().Border(TableBorder.Rounded).AddColumn("Account").AddColumn("Vouches");
            foreach (AdmissionRow row in result.Candidates)
            {
                table.AddRow(new Text(row.AccountId.ToString()), new Text($"{row.Vouches} of {row.RequiredVouches}"));
            }

            console.Write(table);
            console.MarkupLineInterpolated($"Vouch only for people you know, with [bold]coord cell vouch {result.CellId.ToString()} ACCOUNT[/].");
        });

    private static Command Vouch(CliContext context)
    {
        Argument<Guid> account = new("ACCOUNT") { Description = "The invitee's account id (from 'coord cell admissions')" };
        Command command = new("vouch", "Vouch for an invitee waiting to join (members and organizers): your signature goes into their admission.") { account };
        return OnCell(context, CellKind.Cell, command, "Vouching...", async (run, session, cellId) =>
        {
            Guid candidate = run.GetValue(account);
            await session.Cells.VouchAsync(cellId, candidate, run.CancellationToken).ConfigureAwait(false);
            PendingAdmission? after = (await session.Cells.AdmissionsAsync(cellId, run.CancellationToken).ConfigureAwait(false)).FirstOrDefault(a => a.AccountId == candidate);
            return new VouchResult(cellId, candidate, after?.Vouches, after?.RequiredVouches);
        }, (console, result) =>
        {
            string progress = result.Vouches is { } given ? $" ({given} of {result.RequiredVouches})" : string.Empty;
            console.MarkupLineInterpolated($"[green]Vouched[/] for account {result.AccountId.ToString()}{progress}. They are admitted when they run 'coord cell join' again with enough vouches.");
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a session, turning the SDK's failures into plain errors:
    /// a 404 is a cell that does not exist or that you are not in, a 403 is the relay's reason,
    /// a membership that does not verify is said as such.
    /// </summary>
    private static Task<T> RunAsync<T>(CommandRun run, CellKind kind, Guid? cellId, string status, Func<ClientSession, Task<T>> work) =>
        ClientSession.RunAsync(run, status, work, exception => Describe(exception, kind, cellId));

    internal static CliException? Describe(Exception exception, CellKind kind, Guid? cellId)
    {
        string which = cellId is { } id ? $"{kind.Noun} {id}" : kind.Noun;
        return exception switch
        {
            // The relay answers 404 for a cell that does not exist and for one you are not in alike.
            RelayApiException { Status: HttpStatusCode.NotFound } api when api.Detail is null || api.Detail.StartsWith("No such cell", StringComparison.Ordinal) =>
                new CliException($"No such {which} (or you are not a member of it).", ExitCodes.Failure, (int)HttpStatusCode.NotFound),
            RelayApiException { Status: HttpStatusCode.NotFound } api => new CliException(api.Detail!, ExitCodes.Failure, (int)HttpStatusCode.NotFound),
            RelayApiException { Status: HttpStatusCode.Forbidden } api =>
                new CliException(api.Detail ?? $"Your role in the {kind.Noun} does not allow this.", ExitCodes.Failure, (int)HttpStatusCode.Forbidden),
            FormatException format => CliException.Usage(format.Message),
            MembershipTamperingException tampering => new CliException($"{tampering.Message} Nothing was changed or encrypted on the strength of it.", ExitCodes.Failure),
            _ => null,
        };
    }

    /// <summary>
    /// <paramref name="command"/>, given a <c>CELL</c> argument first: it runs
    /// <paramref name="work"/> in a session (after <paramref name="before"/>, for checks and
    /// questions that come before the passphrase) and prints its result.
    /// </summary>
    private static Command OnCell<T>(
        CliContext context,
        CellKind kind,
        Command command,
        string status,
        Func<CommandRun, ClientSession, Guid, Task<T>> work,
        Action<IAnsiConsole, T> human,
        Func<CommandRun, Task>? before = null)
    {
        Argument<Guid> cell = new(kind.Placeholder)
        {
            Description = kind.IsGroup ? "The group id (from 'coord group list')" : "The cell id (from 'coord cell list')",
        };
        command.Arguments.Insert(0, cell);
        context.SetAction(command, async run =>
        {
            if (before is not null)
            {
                await before(run).ConfigureAwait(false);
            }

            Guid cellId = run.GetValue(cell);
            T result = await RunAsync(run, kind, cellId, status, session => work(run, session, cellId)).ConfigureAwait(false);
            run.Output.Result(result, console => human(console, result));
        });
        return command;
    }

    /// <summary>
    /// <paramref name="command"/>, given <c>CELL MEMBERSHIP</c> arguments first: a change to
    /// someone's membership. The subject is looked up in the verified log, <paramref name="plan"/>
    /// says what they become (or refuses), <paramref name="apply"/> signs and appends the entry.
    /// </summary>
    private static Command OnMembership(
        CliContext context,
        Command command,
        string change,
        Func<CommandRun, MemberState, MemberState> plan,
        Func<CellClient, Guid, MemberState, CancellationToken, Task<AppendEntryResponse>> apply,
        Func<CommandRun, Task>? before = null)
    {
        Argument<Guid> membership = new("MEMBERSHIP") { Description = "The membership id (from 'coord cell members')" };
        command.Arguments.Insert(0, membership);
        return OnCell(context, CellKind.Cell, command, "Signing the change...", async (run, session, cellId) =>
        {
            Guid membershipId = run.GetValue(membership);
            MembershipLog log = await session.Cells.VerifiedLogAsync(cellId, run.CancellationToken).ConfigureAwait(false);
            MemberState subject = log.Members.GetValueOrDefault(membershipId) ?? throw new CliException(
                $"Membership {membershipId} is not a current member of cell {cellId}; 'coord cell members {cellId}' lists them.", ExitCodes.Failure, (int)HttpStatusCode.NotFound);
            MemberState target = plan(run, subject);
            AppendEntryResponse appended = await apply(session.Cells, cellId, target, run.CancellationToken).ConfigureAwait(false);
            return new MembershipChangeResult(cellId, membershipId, subject.AccountId, change, CellNames.Of(target.Role), CellNames.Of(target.Ceiling), appended.Epoch);
        }, (console, result) =>
        {
            string who = $"membership {result.MembershipId} (account {result.AccountId})";
            string said = result.Change switch
            {
                "removed" => $"Removed {who} from the cell. Nothing sent from now on is encrypted to them.",
                "burned" => $"Burned {who}: removed from every cell and group, every device of the account revoked.",
                "ceiling" => $"The risk ceiling of {who} is now {result.Ceiling}.",
                _ => $"The role of {who} is now {result.Role}.",
            };
            console.MarkupLineInterpolated($"[green]Done.[/] {said}");
        }, before);
    }


    private static void CheckDisplayName(string? displayName)
    {
        if (displayName is { } name && name.Trim().Length > MaxDisplayNameLength)
        {
            throw CliException.Usage($"--display-name must be at most {MaxDisplayNameLength} characters.");
        }
    }

    private static void PrintSummary(IAnsiConsole console, CellSummary cell)
    {
        Table table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("What").AddColumn("Value");
        table.AddRow(new Text(cell.Kind == "group" ? "Group" : "Cell"), new Text(cell.CellId.ToString()));
        table.AddRow(new Text("Name"), new Text(MessagingCommands.ForTerminal(cell.Name)));
        if (cell.Description is { } description)
        {
            table.AddRow(new Text("Description"), new Text(MessagingCommands.ForTerminal(description)));
        }

        if (cell.AnnouncementsId is { } announcements)
        {
            table.AddRow(new Text("Announcements"), new Text(announcements.ToString()));
        }

        if (cell.EndsAt is not null)
        {
            table.AddRow(new Text("Ends"), new Text(Date(cell.EndsAt)));
        }

        table.AddRow(new Text("Your membership"), new Text(cell.MembershipId.ToString()));
        table.AddRow(new Text("Your role"), new Text(cell.Role));
        table.AddRow(new Text("Your ceiling"), new Text(cell.Ceiling));
        table.AddRow(new Text("Epoch"), new Text(cell.Epoch.ToString(CultureInfo.InvariantCulture)));
        console.Write(table);
    }

    private static string Date(DateTimeOffset? at) => at?.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "never";
}

/// <summary>Roles, risk levels and kinds as the CLI reads and prints them: lower-case words, never numbers.</summary>
internal static class CellNames
{
    public const string LevelChoices = "low|elevated|high|critical";

    private static readonly RiskLevel[] s_levels = [RiskLevel.Low, RiskLevel.Elevated, RiskLevel.High, RiskLevel.Critical];

    public static string Of(MemberRole role) => role switch
    {
        MemberRole.Organizer => "organizer",
        MemberRole.Member => "member",
        MemberRole.Newcomer => "newcomer",
        _ => ((int)role).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>"an organizer", "a member", "a newcomer".</summary>
    public static string WithArticle(MemberRole role) => (role == MemberRole.Organizer ? "an " : "a ") + Of(role);

    public static string Of(RiskLevel level) => level switch
    {
        RiskLevel.Low => "low",
        RiskLevel.Elevated => "elevated",
        RiskLevel.High => "high",
        RiskLevel.Critical => "critical",
        _ => ((int)level).ToString(CultureInfo.InvariantCulture),
    };

    public static string Of(ConversationKind kind) => kind switch
    {
        ConversationKind.Cell => "cell",
        ConversationKind.GrasGroup => "group",
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };

    public static string Of(MembershipAlertKind kind) => kind switch
    {
        MembershipAlertKind.GhostMember => "ghostMember",
        MembershipAlertKind.BrokenLog => "brokenLog",
        MembershipAlertKind.RolledBackLog => "rolledBackLog",
        MembershipAlertKind.ForeignLog => "foreignLog",
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A <c>--role</c> option that takes one of <paramref name="allowed"/>, by name; null when it is not given.</summary>
    public static Option<MemberRole?> RoleOption(string description, params MemberRole[] allowed) => new("--role")
    {
        Description = description,
        HelpName = string.Join('|', allowed.Select(Of)),
        CustomParser = result => Parse(result, allowed, Of, "role"),
    };

    public static RiskLevel ParseLevel(ArgumentResult result) => Parse(result, s_levels, Of, "risk level");

    private static T Parse<T>(ArgumentResult result, IReadOnlyList<T> allowed, Func<T, string> nameOf, string what)
        where T : struct
    {
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        foreach (T value in allowed)
        {
            if (string.Equals(nameOf(value), token, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        result.AddError($"'{token}' is not a {what}: use {string.Join(", ", allowed.Select(nameOf))}.");
        return default;
    }
}
