using System.CommandLine;
using System.Globalization;
using Coordination.Client.Tasks;
using Coordination.Protocol;
using Spectre.Console;

namespace Coordination.Cli.Commands;

/// <summary>One person's part in a task as the CLI prints it.</summary>
public sealed record TaskPartRow(Guid MembershipId, string State, DateTimeOffset? OfferExpiresAt);

/// <summary>A task as <c>task create | show | list</c> and every task change print it.</summary>
public sealed record TaskRow(
    Guid TaskId,
    Guid CellId,
    string Risk,
    string Title,
    string? Body,
    int RequiredTags,
    int PeopleNeeded,
    DateTimeOffset? Due,
    string State,
    Guid ThreadId,
    IReadOnlyList<TaskPartRow> Assignments)
{
    internal static TaskRow Of(TaskView view) => new(
        view.TaskId,
        view.CellId,
        CellNames.Of(view.Risk),
        view.Title,
        view.Body,
        view.RequiredTags,
        view.PeopleNeeded,
        view.Deadline,
        TaskNames.Of(view.State),
        view.ThreadId,
        [.. view.Assignments.Select(a => new TaskPartRow(a.MembershipId, TaskNames.Of(a.State), a.OfferExpiresAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null))]);
}

public sealed record TaskListResult(Guid CellId, IReadOnlyList<TaskRow> Tasks);

public sealed record TaskSuggestionsResult(Guid TaskId, IReadOnlyList<TaskSuggestion> Suggestions);

public sealed record TagsResult(Guid CellId, Guid MembershipId, IReadOnlyList<string> Tags);

/// <summary>
/// <c>coord task create | offer | accept | decline | withdraw | done | cancel | handover | list |
/// show | suggest | tags</c>: tasks routed by risk. The title and description are sealed under the
/// cell key on this device; tags are sent as keyed hashes of their names.
/// </summary>
public sealed class TaskCommands : ICommandGroup
{
    /// <summary>Where <c>--template</c> looks by default (or <c>$COORD_TEMPLATES</c>).</summary>
    public const string DefaultTemplates = "seeds/task-templates.json";

    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Command task = new("task", "Tasks in a cell, offered only to members whose risk ceiling and tags allow them.");
        task.Subcommands.Add(Create(context));
        task.Subcommands.Add(Offer(context));
        foreach ((string name, string step, string description) in new[]
        {
            ("accept", "accept", "Accept a task offered to you (or take an open place in it)."),
            ("decline", "decline", "Decline a task offered to you."),
            ("withdraw", "withdraw", "Give back your part in a task."),
            ("done", "done", "Mark your part done (an organizer: the whole task)."),
            ("cancel", "cancel", "Cancel a task (organizers)."),
        })
        {
            task.Subcommands.Add(Step(context, name, step, description));
        }

        task.Subcommands.Add(HandOver(context));
        task.Subcommands.Add(List(context));
        task.Subcommands.Add(Show(context));
        task.Subcommands.Add(Suggest(context));
        task.Subcommands.Add(Tags(context));
        yield return task;
    }

    private static Command Create(CliContext context)
    {
        Option<Guid> cell = new("--cell") { Description = "The cell", HelpName = "CELL", Required = true };
        Option<RiskLevel?> risk = new("--risk") { Description = $"The task's risk: {CellNames.LevelChoices} (required unless --template gives it)", HelpName = "LEVEL", CustomParser = r => CellNames.ParseLevel(r) };
        Option<string?> title = new("--title") { Description = "What it is (sealed; the relay never reads it)", HelpName = "T" };
        Option<string?> body = new("--body") { Description = "Details (sealed)", HelpName = "B" };
        Option<string[]> needs = new("--needs") { Description = "A capability tag every assignee must have (repeatable), e.g. in-country", HelpName = "TAG", AllowMultipleArgumentsPerToken = false };
        Option<int?> people = new("--people") { Description = "How many people it takes (default 1)", HelpName = "N" };
        Option<string?> due = new("--due") { Description = "A deadline: a duration from now (7d) or a date (2026-12-01)", HelpName = "WHEN" };
        Option<string?> template = new("--template") { Description = $"Start from a template in {DefaultTemplates} (letter-writing, court-support, ...)", HelpName = "KEY" };
        Option<string> language = new("--lang") { Description = "The template's language (en, ru)", HelpName = "LANG", DefaultValueFactory = _ => "en" };
        Command command = new("create", "Create a task in a cell (organizers). Prints the task id.") { cell, risk, title, body, needs, people, due, template, language };
        context.SetAction(command, async run =>
        {
            TaskTemplate? from = run.GetValue(template) is { } key ? FindTemplate(run, key) : null;
            RiskLevel level = run.GetValue(risk) ?? from?.Risk ?? throw CliException.Usage("Give --risk LEVEL (or --template KEY).");
            string name = run.GetValue(title) ?? (from is null ? null : TaskTemplate.In(from.Title, run.GetValue(language)!)) ?? throw CliException.Usage("Give --title T (or --template KEY).");
            string? details = run.GetValue(body) ?? (from is null ? null : TaskTemplate.In(from.Description, run.GetValue(language)!));
            string[] tags = run.GetValue(needs) is { Length: > 0 } given ? given : [.. from?.RequiredTags ?? []];
            int count = run.GetValue(people) ?? from?.PeopleNeeded ?? 1;
            DateTimeOffset? deadline = run.GetValue(due) is { } when ? Durations.ParseDue(when) : from is { DefaultDeadlineDays: > 0 } ? DateTimeOffset.UtcNow.AddDays(from.DefaultDeadlineDays) : null;
            if (count is < 1 or > 100)
            {
                throw CliException.Usage("--people must be between 1 and 100.");
            }

            TaskRow created = await ClientSession.RunAsync(run, "Sealing and creating the task...", async session =>
                TaskRow.Of(await new TaskClient(session.Cells).CreateAsync(run.GetValue(cell), level, name, details, tags, count, deadline, session.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
            run.Output.Result(created, console => PrintTask(console, created, "Task created."));
        });
        return command;
    }

    private static Command Offer(CliContext context)
    {
        Argument<Guid> task = new("TASK") { Description = "The task id" };
        Option<Guid> to = new("--to") { Description = "The membership to offer it to (from 'coord cell members' or 'coord task suggest')", HelpName = "MEMBERSHIP", Required = true };
        Command command = new("offer", "Offer a task to a member (organizers). Refused if the task is above their ceiling or needs a tag they lack.") { task, to };
        context.SetAction(command, run => ChangeAsync(run, "Offering...", (client, ct) => client.OfferAsync(run.GetValue(task), run.GetValue(to), ct), "Offered."));
        return command;
    }

    private static Command Step(CliContext context, string name, string step, string description)
    {
        Argument<Guid> task = new("TASK") { Description = "The task id" };
        Command command = new(name, description) { task };
        context.SetAction(command, run => ChangeAsync(run, "Updating the task...", (client, ct) => step switch
        {
            "accept" => client.AcceptAsync(run.GetValue(task), ct),
            "decline" => client.DeclineAsync(run.GetValue(task), ct),
            "withdraw" => client.WithdrawAsync(run.GetValue(task), ct),
            "done" => client.DoneAsync(run.GetValue(task), ct),
            _ => client.CancelAsync(run.GetValue(task), ct),
        }, $"Task {name}: done."));
        return command;
    }

    private static Command HandOver(CliContext context)
    {
        Argument<Guid> task = new("TASK") { Description = "The task id" };
        Option<Guid> to = new("--to") { Description = "The membership to hand it to (they get it as an offer)", HelpName = "MEMBERSHIP", Required = true };
        Option<Guid?> from = new("--from") { Description = "Organizers: whose part to hand over (default: your own)", HelpName = "MEMBERSHIP" };
        Command command = new("handover", "Hand a part in a task to another member; the policy is checked for them.") { task, to, from };
        context.SetAction(command, run => ChangeAsync(run, "Handing over...", (client, ct) => client.HandOverAsync(run.GetValue(task), run.GetValue(to), run.GetValue(from), ct), "Handed over."));
        return command;
    }

    private static Command List(CliContext context)
    {
        Option<Guid> cell = new("--cell") { Description = "The cell", HelpName = "CELL", Required = true };
        Command command = new("list", "The cell's tasks (a newcomer sees only their own).") { cell };
        context.SetAction(command, async run =>
        {
            Guid cellId = run.GetValue(cell);
            TaskListResult result = await ClientSession.RunAsync(run, "Fetching tasks...", async session =>
                new TaskListResult(cellId, [.. (await new TaskClient(session.Cells).ListAsync(cellId, session.CancellationToken).ConfigureAwait(false)).Select(TaskRow.Of)])).ConfigureAwait(false);
            run.Output.Result(result, console =>
            {
                if (result.Tasks.Count == 0)
                {
                    console.MarkupLine("[grey]No tasks.[/]");
                    return;
                }

                Table table = new Table().Border(TableBorder.Rounded).AddColumn("Task").AddColumn("Risk").AddColumn("State").AddColumn("People").AddColumn("Title");
                foreach (TaskRow row in result.Tasks)
                {
                    table.AddRow(new Text(row.TaskId.ToString()), new Text(row.Risk), new Text(row.State),
                        new Text($"{row.Assignments.Count(a => a.State is "accepted" or "done")}/{row.PeopleNeeded}"), new Text(MessagingCommands.ForTerminal(row.Title)));
                }

                console.Write(table);
            });
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        Argument<Guid> task = new("TASK") { Description = "The task id" };
        Command command = new("show", "A task: its content (decrypted here), risk, state and who is on it.") { task };
        context.SetAction(command, run => ChangeAsync(run, "Fetching the task...", (client, ct) => client.GetAsync(run.GetValue(task), ct), null));
        return command;
    }

    private static Command Suggest(CliContext context)
    {
        Argument<Guid> task = new("TASK") { Description = "The task id" };
        Command command = new("suggest", "Memberships eligible for a task, safest first: widest margin under the ceiling, lightest load, fewest recent declines (organizers).") { task };
        context.SetAction(command, async run =>
        {
            Guid taskId = run.GetValue(task);
            TaskSuggestionsResult result = await ClientSession.RunAsync(run, "Asking the relay...", async session =>
                new TaskSuggestionsResult(taskId, await new TaskClient(session.Cells).SuggestAsync(taskId, session.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
            run.Output.Result(result, console =>
            {
                Table table = new Table().Border(TableBorder.Rounded).AddColumn("Membership").AddColumn("Margin").AddColumn("Open load").AddColumn("Recent declines");
                foreach (TaskSuggestion s in result.Suggestions)
                {
                    table.AddRow(s.MembershipId.ToString(), s.Margin.ToString(CultureInfo.InvariantCulture), s.OpenLoad.ToString(CultureInfo.InvariantCulture), s.RecentDeclines.ToString(CultureInfo.InvariantCulture));
                }

                console.Write(result.Suggestions.Count == 0 ? new Markup("[yellow]Nobody in the cell may take this task.[/]") : table);
                console.WriteLine();
            });
        });
        return command;
    }

    private static Command Tags(CliContext context)
    {
        Option<Guid> cell = new("--cell") { Description = "The cell", HelpName = "CELL", Required = true };
        Option<Guid> member = new("--member") { Description = "The membership (organizers set anyone's; a member their own)", HelpName = "MEMBERSHIP", Required = true };
        Argument<string[]> names = new("TAG") { Description = "The member's capability tags, replacing the old ones (none clears them)", Arity = ArgumentArity.ZeroOrMore };
        Command command = new("tags", "Set a membership's capability tags. Only keyed hashes of the names reach the relay.") { cell, member, names };
        context.SetAction(command, async run =>
        {
            string[] tags = run.GetValue(names) ?? [];
            await ClientSession.RunAsync(run, "Setting tags...", async session =>
            {
                await new TaskClient(session.Cells).SetTagsAsync(run.GetValue(cell), run.GetValue(member), tags, session.CancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
            TagsResult result = new(run.GetValue(cell), run.GetValue(member), tags);
            run.Output.Result(result, console => console.MarkupLineInterpolated($"[green]Tags set:[/] {(tags.Length == 0 ? "(none)" : string.Join(", ", tags))}"));
        });
        return command;
    }

    private static async Task ChangeAsync(CommandRun run, string status, Func<TaskClient, CancellationToken, Task<TaskView>> change, string? headline)
    {
        TaskRow row = await ClientSession.RunAsync(run, status, async session =>
            TaskRow.Of(await change(new TaskClient(session.Cells), session.CancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
        run.Output.Result(row, console => PrintTask(console, row, headline));
    }

    private static void PrintTask(IAnsiConsole console, TaskRow row, string? headline)
    {
        if (headline is not null)
        {
            console.MarkupLineInterpolated($"[green]{headline}[/]");
        }

        Table table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("What").AddColumn("Value");
        table.AddRow("Task", row.TaskId.ToString());
        table.AddRow(new Text("Title"), new Text(MessagingCommands.ForTerminal(row.Title)));
        if (row.Body is not null)
        {
            table.AddRow(new Text("Details"), new Text(MessagingCommands.ForTerminal(row.Body)));
        }

        table.AddRow("Risk", row.Risk);
        table.AddRow("State", row.State);
        table.AddRow("People", $"{row.Assignments.Count(a => a.State is "accepted" or "done")} of {row.PeopleNeeded}");
        table.AddRow("Required tags", row.RequiredTags.ToString(CultureInfo.InvariantCulture));
        table.AddRow("Due", row.Due?.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-");
        table.AddRow("Thread", row.ThreadId.ToString());
        foreach (TaskPartRow part in row.Assignments)
        {
            table.AddRow("Part", $"{part.MembershipId} {part.State}");
        }

        console.Write(table);
    }

    private static TaskTemplate FindTemplate(CommandRun run, string key)
    {
        string path = run.Environment.Variable("COORD_TEMPLATES") ?? DefaultTemplates;
        IReadOnlyList<TaskTemplate> templates;
        try
        {
            templates = TaskTemplates.Load(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new CliException($"The task templates could not be read from {path} (set COORD_TEMPLATES to the file): {ex.Message}");
        }

        return templates.FirstOrDefault(t => string.Equals(t.Key, key, StringComparison.OrdinalIgnoreCase))
            ?? throw CliException.Usage($"No template '{key}'. There are: {string.Join(", ", templates.Select(t => t.Key))}.");
    }

}

/// <summary>Task and assignment states as the CLI prints them.</summary>
internal static class TaskNames
{
    public static string Of(TaskState state) => state switch
    {
        TaskState.Open => "open",
        TaskState.Offered => "offered",
        TaskState.Accepted => "accepted",
        TaskState.Done => "done",
        TaskState.Cancelled => "cancelled",
        _ => ((int)state).ToString(CultureInfo.InvariantCulture),
    };

    public static string Of(AssignmentState state) => state switch
    {
        AssignmentState.Offered => "offered",
        AssignmentState.Accepted => "accepted",
        AssignmentState.Declined => "declined",
        AssignmentState.Expired => "expired",
        AssignmentState.Withdrawn => "withdrawn",
        AssignmentState.Released => "released",
        AssignmentState.Done => "done",
        _ => ((int)state).ToString(CultureInfo.InvariantCulture),
    };
}
