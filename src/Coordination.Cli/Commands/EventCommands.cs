using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Coordination.Client.Cells;
using Coordination.Protocol;
using Spectre.Console;

namespace Coordination.Cli.Commands;

/// <summary>What <c>event create</c> prints.</summary>
public sealed record EventCreatedResult(Guid GroupId, Guid EventId, string Place, DateTimeOffset StartsAt, string Topic);

/// <summary>One event as <c>event list</c> prints it. Place, time and topic are null when they do not open on this device.</summary>
/// <param name="Going">Answers this device could open, by answer; <paramref name="Unreadable"/> counts the rest.</param>
/// <param name="MyAnswer"><c>going</c>, <c>maybe</c>, <c>no</c>, or null if this account has not answered.</param>
public sealed record EventRow(
    Guid EventId,
    string? Place,
    DateTimeOffset? StartsAt,
    string? Topic,
    bool Cancelled,
    bool CreatedByMe,
    int Going,
    int Maybe,
    int No,
    int Unreadable,
    string? MyAnswer);

/// <summary>What <c>event list</c> prints: the group's events, soonest first.</summary>
public sealed record EventListResult(Guid GroupId, IReadOnlyList<EventRow> Events);

/// <summary>What <c>event rsvp</c> prints.</summary>
public sealed record EventAnsweredResult(Guid GroupId, Guid EventId, string Answer);

/// <summary>What <c>event cancel</c> prints.</summary>
public sealed record EventCancelledResult(Guid GroupId, Guid EventId, bool Cancelled);

/// <summary>
/// <c>coord event create GROUP --place P --at WHEN --topic T | list GROUP | rsvp EVENT --group GROUP
/// --answer going|maybe|no | cancel EVENT --group GROUP</c>: events in GRAS groups through the SDK's
/// <see cref="GroupEventClient"/>. Place, time, topic and every answer are sealed on this device under
/// the group's key, which the device got when it created or joined the group; the relay sees only
/// that an event exists and which memberships answered.
/// </summary>
public sealed partial class EventCommands : ICommandGroup
{
    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Command command = new("event", "Events in GRAS groups: where, when and what, sealed so only the group's members can read them.");
        command.Subcommands.Add(Create(context));
        command.Subcommands.Add(List(context));
        command.Subcommands.Add(Rsvp(context));
        command.Subcommands.Add(Cancel(context));
        yield return command;
    }

    /// <summary>
    /// A start time as people type it: an ISO 8601 date and time (<c>2026-12-05T18:30</c> or
    /// <c>2026-12-05 18:30</c>, in this computer's time zone unless an offset or <c>Z</c> follows),
    /// or <c>+DURATION</c> from now (<c>+2h</c>, <c>+3d</c>).
    /// </summary>
    public static bool TryParseWhen(string? text, DateTimeOffset now, out DateTimeOffset when)
    {
        when = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 40)
        {
            return false;
        }

        text = text.Trim();
        if (text.StartsWith('+'))
        {
            if (!Durations.TryParse(text[1..], out TimeSpan ahead))
            {
                return false;
            }

            when = now + ahead;
            return true;
        }

        return IsoDateTime().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AllowWhiteSpaces, out when);
    }

    private static Command Create(CliContext context)
    {
        Argument<Guid> group = GroupArgument();
        Option<string> place = new("--place") { Description = "Where it happens", HelpName = "PLACE", Required = true };
        Option<DateTimeOffset?> at = new("--at")
        {
            Description = "When it starts: 2026-12-05T18:30 (this computer's time zone), 2026-12-05T16:30Z, or +2h from now",
            HelpName = "WHEN",
            Required = true,
            CustomParser = ParseWhen,
        };
        Option<string> topic = new("--topic") { Description = "What it is about", HelpName = "TOPIC", Required = true };
        Command command = new("create", "Create an event in a GRAS group. Its place, time and topic are sealed on this device.") { group, place, at, topic };
        context.SetAction(command, async run =>
        {
            Guid groupId = run.GetValue(group);
            string placeText = run.GetValue(place)!.Trim();
            string topicText = run.GetValue(topic)!.Trim();
            if (placeText.Length == 0 || topicText.Length == 0)
            {
                throw CliException.Usage("--place and --topic must not be empty.");
            }

            EventDetails details = new(placeText, run.GetValue(at)!.Value, topicText);
            GroupEventView created = await ClientSession.RunAsync(run, "Sealing and creating the event...", async session =>
            {
                try
                {
                    return await Events(session).CreateAsync(groupId, details, run.CancellationToken).ConfigureAwait(false);
                }
                catch (ArgumentException ex)
                {
                    throw CliException.Usage(ex.Message.Split(" (Parameter", 2)[0]);
                }
            }, NoKey).ConfigureAwait(false);

            EventDetails sealedDetails = created.Details!;
            EventCreatedResult result = new(groupId, created.EventId, sealedDetails.Place, sealedDetails.StartsAt, sealedDetails.Topic);
            run.Output.Result(result, console => console.MarkupLineInterpolated(
                $"[green]Created[/] event {result.EventId.ToString()} on {Local(result.StartsAt)} at {MessagingCommands.ForTerminal(result.Place)}: {MessagingCommands.ForTerminal(result.Topic)}"));
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        Argument<Guid> group = GroupArgument();
        Command command = new("list", "List a GRAS group's events, soonest first, with how its members answered.") { group };
        context.SetAction(command, async run =>
        {
            Guid groupId = run.GetValue(group);
            List<GroupEventView> events = await ClientSession.RunAsync(
                run, "Fetching and decrypting events...", session => Events(session).ListAsync(groupId, run.CancellationToken), NoKey).ConfigureAwait(false);
            EventListResult result = new(groupId, [.. events.Select(e => new EventRow(
                e.EventId, e.Details?.Place, e.Details?.StartsAt, e.Details?.Topic, e.Cancelled, e.CreatedByMe,
                e.Tally.Going, e.Tally.Maybe, e.Tally.No, e.Tally.Unreadable, e.MyAnswer is { } mine ? AnswerName(mine) : null))]);
            run.Output.Result(result, console => PrintTable(console, result));
        });
        return command;
    }

    private static Command Rsvp(CliContext context)
    {
        Argument<Guid> eventId = EventArgument();
        Option<Guid> group = GroupOption();
        Option<RsvpAnswer?> answer = new("--answer")
        {
            Description = "going, maybe or no",
            HelpName = "going|maybe|no",
            Required = true,
            CustomParser = ParseAnswer,
        };
        Command command = new("rsvp", "Answer an event: going, maybe or no. The answer is sealed; the relay learns only that you answered.") { eventId, group, answer };
        context.SetAction(command, async run =>
        {
            Guid groupId = run.GetValue(group);
            Guid id = run.GetValue(eventId);
            RsvpAnswer given = run.GetValue(answer)!.Value;
            await ClientSession.RunAsync(run, "Sealing and sending the answer...", async session =>
            {
                await Events(session).RsvpAsync(groupId, id, given, run.CancellationToken).ConfigureAwait(false);
                return true;
            }, NoKey).ConfigureAwait(false);

            EventAnsweredResult result = new(groupId, id, AnswerName(given));
            run.Output.Result(result, console => console.MarkupLineInterpolated($"[green]Answered[/] {result.Answer} to event {id.ToString()}."));
        });
        return command;
    }

    private static Command Cancel(CliContext context)
    {
        Argument<Guid> eventId = EventArgument();
        Option<Guid> group = GroupOption();
        Command command = new("cancel", "Cancel an event you created, or any event of a group you organize.") { eventId, group };
        context.SetAction(command, async run =>
        {
            Guid groupId = run.GetValue(group);
            Guid id = run.GetValue(eventId);
            await ClientSession.RunAsync(run, "Cancelling the event...", async session =>
            {
                await Events(session).CancelAsync(groupId, id, run.CancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);

            EventCancelledResult result = new(groupId, id, Cancelled: true);
            run.Output.Result(result, console => console.MarkupLineInterpolated($"[green]Cancelled[/] event {id.ToString()}."));
        });
        return command;
    }

    private static GroupEventClient Events(ClientSession session) => new(session.Api, session.Messages.Store);

    /// <summary>This device lacks the group's key: said plainly rather than as the SDK's exception.</summary>
    private static CliException? NoKey(Exception exception) =>
        exception is InvalidOperationException { Message: var message } && message.Contains("does not hold the key", StringComparison.Ordinal) ? new CliException(message) : null;

    private static Argument<Guid> GroupArgument() => new("GROUP") { Description = "The GRAS group's id (from 'coord group list')" };

    private static Option<Guid> GroupOption() => new("--group") { Description = "The GRAS group's id (from 'coord group list')", HelpName = "GROUP", Required = true };

    private static Argument<Guid> EventArgument() => new("EVENT") { Description = "The event's id (from 'coord event list')" };

    private static DateTimeOffset? ParseWhen(ArgumentResult result)
    {
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (TryParseWhen(token, DateTimeOffset.Now, out DateTimeOffset when))
        {
            return when;
        }

        result.AddError($"'{token}' is not a time: write 2026-12-05T18:30 (this computer's time zone), 2026-12-05T16:30Z or 2026-12-05T18:30+02:00, or +2h for two hours from now.");
        return null;
    }

    private static RsvpAnswer? ParseAnswer(ArgumentResult result)
    {
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        RsvpAnswer? answer = token?.ToUpperInvariant() switch
        {
            "GOING" => RsvpAnswer.Going,
            "MAYBE" => RsvpAnswer.Maybe,
            "NO" => RsvpAnswer.No,
            _ => null,
        };
        if (answer is null)
        {
            result.AddError($"'{token}' is not an answer: write going, maybe or no.");
        }

        return answer;
    }

    private static string AnswerName(RsvpAnswer answer) => answer switch
    {
        RsvpAnswer.Going => "going",
        RsvpAnswer.Maybe => "maybe",
        RsvpAnswer.No => "no",
        _ => "unknown",
    };

    private static string Local(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static void PrintTable(IAnsiConsole console, EventListResult result)
    {
        if (result.Events.Count == 0)
        {
            console.MarkupLineInterpolated($"[grey]No events in group {result.GroupId.ToString()} yet.[/]");
            return;
        }

        Table table = new Table().Border(TableBorder.Rounded)
            .AddColumn("When").AddColumn("Place").AddColumn("Topic").AddColumn("Going / maybe / no").AddColumn("You").AddColumn("Event");
        foreach (EventRow row in result.Events)
        {
            Style style = row.Cancelled ? new Style(Color.Grey, decoration: Decoration.Strikethrough) : Style.Plain;
            string answers = $"{row.Going} / {row.Maybe} / {row.No}" + (row.Unreadable > 0 ? $" ({row.Unreadable} unreadable)" : string.Empty);
            string you = (row.CreatedByMe ? "created, " : string.Empty) + (row.Cancelled ? "cancelled" : row.MyAnswer ?? "not answered");
            table.AddRow(
                new Text(row.StartsAt is { } at ? Local(at) : "?", style),
                new Text(row.Place is { } place ? MessagingCommands.ForTerminal(place) : "(unreadable on this device)", style),
                new Text(row.Topic is { } topic ? MessagingCommands.ForTerminal(topic) : string.Empty, style),
                new Text(row.Cancelled ? "-" : answers),
                new Text(you),
                new Text(row.EventId.ToString()));
        }

        console.Write(table);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}
