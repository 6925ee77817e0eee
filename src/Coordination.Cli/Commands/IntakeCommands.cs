using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Intake;
using Coordination.Client.Tasks;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Spectre.Console;

namespace Coordination.Cli.Commands;

/// <summary>An intake as <c>intake open</c> prints it: its id and its web page.</summary>
public sealed record IntakeOpenedResult(Guid IntakeId, Guid CellId, string Page, string PageUrl, int RetentionDays, int PowDifficulty, string PublicKey);

/// <summary>What <c>intake submit</c> prints: the receipt, and which answers it filled in itself.</summary>
public sealed record IntakeSubmittedResult(Guid IntakeId, string Flow, string Language, string Receipt, DateTimeOffset ExpiresAt, IReadOnlyList<string> Filled);

public sealed record IntakeReplyRow(Guid ReplyId, string? Text, DateOnly? SentOn, DateTimeOffset ExpiresAt, string? Failure);

public sealed record IntakeCheckResult(IReadOnlyList<IntakeReplyRow> Replies);

/// <summary>A report as the intake team sees it after opening it on this device; <see cref="Failure"/> if it did not open.</summary>
public sealed record IntakeReportRow(
    Guid ReportId,
    Guid IntakeId,
    DateOnly ReceivedOn,
    DateTimeOffset ExpiresAt,
    string State,
    int Replies,
    string? Flow,
    string? Language,
    DateOnly? SubmittedOn,
    IReadOnlyDictionary<string, string>? Answers,
    string? Failure)
{
    internal static IntakeReportRow Of(IntakeReportView view) => new(
        view.ReportId,
        view.IntakeId,
        view.ReceivedOn,
        view.ExpiresAt,
        IntakeNames.Of(view.State),
        view.Replies,
        view.Content?.Flow,
        view.Content?.Language,
        view.Content?.SubmittedOn,
        view.Content?.Answers,
        view.Failure);
}

public sealed record IntakeInboxResult(Guid CellId, IReadOnlyList<IntakeReportRow> Reports);

public sealed record IntakeListResult(Guid CellId, IReadOnlyList<IntakeOpenedResult> Intakes);

/// <summary>A change to a report: replied, triaged or deleted.</summary>
public sealed record IntakeReportChangedResult(Guid ReportId, string Change, string? State);

/// <summary>
/// <c>coord intake open | list | submit | check | inbox | show | reply | triage | to-task | delete</c>:
/// the anonymous intake. <c>submit</c> and <c>check</c> act as an anonymous reporter (no profile,
/// no account: only <c>--server</c>); the report is sealed on this machine to the intake's key.
/// The others act as a member of the intake's cell and open every report on this device.
/// </summary>
public sealed class IntakeCommands : ICommandGroup
{
    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Command intake = new("intake", "The anonymous intake: reports sealed to the intake team, read only by them; replies through a receipt phrase.");
        intake.Subcommands.Add(Open(context));
        intake.Subcommands.Add(List(context));
        intake.Subcommands.Add(Submit(context));
        intake.Subcommands.Add(Check(context));
        intake.Subcommands.Add(Inbox(context));
        intake.Subcommands.Add(Show(context));
        intake.Subcommands.Add(Reply(context));
        intake.Subcommands.Add(Triage(context));
        intake.Subcommands.Add(ToTask(context));
        intake.Subcommands.Add(Delete(context));
        yield return intake;
    }

    private static Command Open(CliContext context)
    {
        Option<Guid> cell = CellOption();
        Option<int> retention = new("--retention-days")
        {
            Description = $"How long reports and replies are kept ({IntakeTeamClient.MinRetentionDays} to {IntakeTeamClient.MaxRetentionDays})",
            HelpName = "N",
            DefaultValueFactory = _ => 30,
        };
        Option<int> difficulty = new("--difficulty")
        {
            Description = $"Proof-of-work a submission needs, in leading zero bits ({IntakeTeamClient.MinPowDifficulty} to {IntakeTeamClient.MaxPowDifficulty}; each bit doubles the work)",
            HelpName = "BITS",
            DefaultValueFactory = _ => 18,
        };
        Command command = new("open", "Open an intake for a cell (organizers). Its key pair is made here; prints the intake id and its web page.") { cell, retention, difficulty };
        context.SetAction(command, async run =>
        {
            int days = run.GetValue(retention);
            int bits = run.GetValue(difficulty);
            if (days is < IntakeTeamClient.MinRetentionDays or > IntakeTeamClient.MaxRetentionDays)
            {
                throw CliException.Usage($"--retention-days must be between {IntakeTeamClient.MinRetentionDays} and {IntakeTeamClient.MaxRetentionDays}.");
            }

            if (bits is < IntakeTeamClient.MinPowDifficulty or > IntakeTeamClient.MaxPowDifficulty)
            {
                throw CliException.Usage($"--difficulty must be between {IntakeTeamClient.MinPowDifficulty} and {IntakeTeamClient.MaxPowDifficulty}.");
            }

            IntakeOpenedResult result = await ClientSession.RunAsync(
                run,
                "Making the intake's keys and opening it...",
                async session => Opened(await new IntakeTeamClient(session.Cells).OpenAsync(run.GetValue(cell), days, bits, session.CancellationToken).ConfigureAwait(false), session.Api),
                Translate).ConfigureAwait(false);
            run.Output.Result(result, console =>
            {
                console.MarkupLine("[green]Intake opened.[/]");
                PrintIntakes(console, [result]);
            });
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        Option<Guid> cell = CellOption();
        Command command = new("list", "The cell's intakes and their web pages.") { cell };
        context.SetAction(command, async run =>
        {
            Guid cellId = run.GetValue(cell);
            IntakeListResult result = await ClientSession.RunAsync(
                run,
                "Fetching the intakes...",
                async session => new IntakeListResult(cellId, [.. (await new IntakeTeamClient(session.Cells).ListIntakesAsync(cellId, session.CancellationToken).ConfigureAwait(false)).Select(i => Opened(i, session.Api))]),
                Translate).ConfigureAwait(false);
            run.Output.Result(result, console =>
            {
                if (result.Intakes.Count == 0)
                {
                    console.MarkupLine("[grey]No intakes.[/]");
                    return;
                }

                PrintIntakes(console, result.Intakes);
            });
        });
        return command;
    }

    private static Command Submit(CliContext context)
    {
        Argument<Guid> intake = new("INTAKE") { Description = "The intake id (the last part of its web page address)" };
        Option<string?> text = new("--text") { Description = "The report: the answer to the flow's main question (\"What happened?\")", HelpName = "T" };
        Option<string?> flow = new("--flow") { Description = "Which flow to answer (detention-report, rally-statement, ...; default: the intake's first)", HelpName = "KEY" };
        Option<string> language = new("--lang") { Description = "The language of the questions and the report (ru, en, ...)", HelpName = "LANG", DefaultValueFactory = _ => "en" };
        Option<string[]> answer = new("--answer")
        {
            Description = "An answer to a step of the flow (repeatable), e.g. --answer where=Tverskaya --answer how-many=one",
            HelpName = "STEP=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        Command command = new(
            "submit",
            "Send a report as an anonymous reporter: no profile or account is used, only --server. The report is sealed here to the intake team's key; "
            + "required questions not answered with --text or --answer are filled with neutral answers (today, 'not given', the default choice), "
            + "and sending it is your consent. Prints the receipt phrase: the only way to read replies.")
        {
            intake, text, flow, language, answer,
        };
        context.SetAction(command, async run =>
        {
            Guid intakeId = run.GetValue(intake);
            string lang = run.GetValue(language)!.Trim().ToLowerInvariant();
            Dictionary<string, string> given = ParseAnswers(run.GetValue(answer) ?? []);
            string? report = run.GetValue(text);
            if (report is not null && string.IsNullOrWhiteSpace(report))
            {
                throw CliException.Usage("--text is empty.");
            }

            if (report is null && given.Count == 0)
            {
                throw CliException.Usage("Give the report with --text T (or answers with --answer STEP=VALUE).");
            }

            Uri server = run.ResolveServer(null);
            using ReporterClient reporter = new(run.CreateApi(server));
            IntakeSubmittedResult result = await run.Output.StatusAsync("Sealing the report and doing the proof-of-work...", async () =>
            {
                IntakeFlowsDocument flows = await reporter.GetFlowsAsync(intakeId, run.CancellationToken).ConfigureAwait(false);
                if (!flows.Languages.Contains(lang, StringComparer.Ordinal))
                {
                    throw CliException.Usage($"This intake speaks {string.Join(", ", flows.Languages)}, not '{lang}'.");
                }

                string? key = run.GetValue(flow);
                IntakeFlow chosen = (key is null ? (flows.Flows.Count > 0 ? flows.Flows[0] : null) : flows.Find(key))
                    ?? throw CliException.Usage(key is null ? "This intake has no flows." : $"This intake has no flow '{key}'; it has {string.Join(", ", flows.Flows.Select(f => f.Key))}.");
                (Dictionary<string, string> answers, List<string> filled) = Fill(chosen, lang, report, given);
                IReadOnlyList<string> problems = chosen.Check(answers);
                if (problems.Count > 0)
                {
                    throw CliException.Usage($"The answers do not fit the flow {chosen.Key}: {string.Join("; ", problems)}.");
                }

                SubmittedReport submitted = await reporter.SubmitSealedAsync(intakeId, chosen.Key, lang, answers, run.CancellationToken).ConfigureAwait(false);
                return new IntakeSubmittedResult(intakeId, chosen.Key, lang, submitted.Receipt, submitted.ExpiresAt, filled);
            }).ConfigureAwait(false);
            run.Output.Result(result, console =>
            {
                console.MarkupLine("[green]Report sealed and sent.[/] Only the intake team can read it.");
                if (result.Filled.Count > 0)
                {
                    console.MarkupLineInterpolated($"[grey]Filled in for you: {string.Join(", ", result.Filled)}.[/]");
                }

                console.MarkupLine("Your receipt phrase (write it down; it is the only way to read a reply, and nobody can recover it):");
                console.Write(new Panel(new Text(result.Receipt, new Style(Color.Yellow))).Border(BoxBorder.Rounded));
                console.MarkupLineInterpolated($"[grey]The report is deleted on {result.ExpiresAt.ToLocalTime():yyyy-MM-dd}. Check for replies with: coord intake check \"RECEIPT\"[/]");
            });
        });
        return command;
    }

    private static Command Check(CliContext context)
    {
        Argument<string[]> words = new("RECEIPT")
        {
            Description = $"The receipt phrase ({ReceiptPhrase.Words} words; quoted or not). None: read it from standard input",
            Arity = ArgumentArity.ZeroOrMore,
        };
        Command command = new("check", "Read the intake team's replies to your report, as an anonymous reporter (no profile; only --server).") { words };
        context.SetAction(command, async run =>
        {
            string[] given = run.GetValue(words) ?? [];
            if (given.Length == 0 && run.Environment.InputIsTerminal && !run.Output.Json)
            {
                run.Output.ErrorConsole.MarkupLine("[grey]Type your receipt phrase and press Enter.[/]");
            }

            string phrase = given.Length > 0 ? string.Join(' ', given) : await run.Environment.In.ReadLineAsync(run.CancellationToken).ConfigureAwait(false) ?? string.Empty;
            if (ReceiptPhrase.Normalize(phrase) is null)
            {
                throw CliException.Usage($"A receipt phrase is {ReceiptPhrase.Words} words from the receipt word list, separated by spaces.");
            }

            Uri server = run.ResolveServer(null);
            using ReporterClient reporter = new(run.CreateApi(server));
            List<ReceivedReply> replies;
            try
            {
                replies = await run.Output.StatusAsync("Checking for replies...", () => reporter.CheckRepliesAsync(phrase, run.CancellationToken)).ConfigureAwait(false);
            }
            catch (RelayApiException ex) when (ex.Status == HttpStatusCode.NotFound)
            {
                throw new CliException("No report has this receipt: the phrase is mistyped, or the report has expired or was deleted.", ExitCodes.Failure, (int)ex.Status);
            }

            IntakeCheckResult result = new([.. replies.Select(r => new IntakeReplyRow(r.ReplyId, r.Text, r.SentOn, r.ExpiresAt, r.Failure))]);
            run.Output.Result(result, console =>
            {
                if (result.Replies.Count == 0)
                {
                    console.MarkupLine("[grey]No reply yet.[/]");
                    return;
                }

                Table table = new Table().Border(TableBorder.Rounded).AddColumn("Sent").AddColumn("Reply");
                foreach (IntakeReplyRow row in result.Replies)
                {
                    table.AddRow(
                        new Text(row.SentOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-"),
                        row.Failure is null ? new Text(MessagingCommands.ForTerminal(row.Text ?? string.Empty)) : new Text($"could not be read: {row.Failure}", new Style(Color.Red)));
                }

                console.Write(table);
            });
        });
        return command;
    }

    private static Command Inbox(CliContext context)
    {
        Option<Guid> cell = CellOption();
        Command command = new("inbox", "The cell's intake reports, opened on this device (members and organizers).") { cell };
        context.SetAction(command, async run =>
        {
            Guid cellId = run.GetValue(cell);
            IntakeInboxResult result = await ClientSession.RunAsync(
                run,
                "Fetching and opening the reports...",
                async session => new IntakeInboxResult(cellId, [.. (await new IntakeTeamClient(session.Cells).InboxAsync(cellId, session.CancellationToken).ConfigureAwait(false)).Select(IntakeReportRow.Of)]),
                Translate).ConfigureAwait(false);
            run.Output.Result(result, console =>
            {
                if (result.Reports.Count == 0)
                {
                    console.MarkupLine("[grey]No reports.[/]");
                    return;
                }

                Table table = new Table().Border(TableBorder.Rounded).AddColumn("Report").AddColumn("Received").AddColumn("State").AddColumn("Replies").AddColumn("Flow").AddColumn("Report says");
                foreach (IntakeReportRow row in result.Reports)
                {
                    table.AddRow(
                        new Text(row.ReportId.ToString()),
                        new Text(row.ReceivedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                        new Text(row.State),
                        new Text(row.Replies.ToString(CultureInfo.InvariantCulture)),
                        new Text(MessagingCommands.ForTerminal(row.Flow ?? "-")),
                        row.Failure is null ? new Text(Summary(row)) : new Text($"could not be read: {row.Failure}", new Style(Color.Red)));
                }

                console.Write(table);
            });
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        Argument<Guid> report = ReportArgument();
        Option<Guid> cell = CellOption();
        Command command = new("show", "One report, opened on this device, with the flow's questions.") { report, cell };
        context.SetAction(command, async run =>
        {
            (IntakeReportRow row, IntakeFlow? flow) = await ClientSession.RunAsync(
                run,
                "Fetching and opening the report...",
                async session =>
                {
                    IntakeReportView view = await new IntakeTeamClient(session.Cells).GetAsync(run.GetValue(cell), run.GetValue(report), session.CancellationToken).ConfigureAwait(false);
                    return (IntakeReportRow.Of(view), view.Content is null ? null : await FlowAsync(session.Api, view.IntakeId, view.Content.Flow, session.CancellationToken).ConfigureAwait(false));
                },
                Translate).ConfigureAwait(false);
            run.Output.Result(row, console => PrintReport(console, row, flow));
        });
        return command;
    }

    private static Command Reply(CliContext context)
    {
        Argument<Guid> report = ReportArgument();
        Option<Guid> cell = CellOption();
        Option<string> text = new("--text") { Description = "The reply; sealed under the key derived from the reporter's receipt", HelpName = "T", Required = true };
        Command command = new("reply", "Reply to a report's sender; they read it with their receipt phrase.") { report, cell, text };
        context.SetAction(command, async run =>
        {
            string reply = run.GetValue(text)!;
            if (string.IsNullOrWhiteSpace(reply))
            {
                throw CliException.Usage("--text is empty.");
            }

            IntakeReportChangedResult result = await ClientSession.RunAsync(
                run,
                "Sealing and sending the reply...",
                async session =>
                {
                    IntakeTeamClient team = new(session.Cells);
                    IntakeReportView view = await team.GetAsync(run.GetValue(cell), run.GetValue(report), session.CancellationToken).ConfigureAwait(false);
                    await team.ReplyAsync(view, reply, session.CancellationToken).ConfigureAwait(false);
                    return new IntakeReportChangedResult(view.ReportId, "replied", IntakeNames.Of(view.State));
                },
                Translate).ConfigureAwait(false);
            run.Output.Result(result, console => console.MarkupLine("[green]Reply sealed and sent.[/] The reporter reads it with their receipt phrase."));
        });
        return command;
    }

    private static Command Triage(CliContext context)
    {
        Argument<Guid> report = ReportArgument();
        Option<Guid> cell = CellOption(required: false);
        Option<ReportState> state = new("--state") { Description = $"The report's state: {IntakeNames.StateChoices}", HelpName = "STATE", Required = true, CustomParser = IntakeNames.ParseState };
        Command command = new("triage", "Set a report's triage state (the report id is enough; --cell is accepted for symmetry).") { report, cell, state };
        context.SetAction(command, async run =>
        {
            ReportState to = run.GetValue(state);
            IntakeReportChangedResult result = await ClientSession.RunAsync(
                run,
                "Updating the report...",
                async session =>
                {
                    await new IntakeTeamClient(session.Cells).TriageAsync(run.GetValue(report), to, session.CancellationToken).ConfigureAwait(false);
                    return new IntakeReportChangedResult(run.GetValue(report), "triaged", IntakeNames.Of(to));
                },
                Translate).ConfigureAwait(false);
            run.Output.Result(result, console => console.MarkupLineInterpolated($"[green]Report {result.ReportId} is now {result.State}.[/]"));
        });
        return command;
    }

    private static Command ToTask(CliContext context)
    {
        Argument<Guid> report = ReportArgument();
        Option<Guid> cell = CellOption();
        Option<RiskLevel> risk = new("--risk") { Description = $"The task's risk: {CellNames.LevelChoices}", HelpName = "LEVEL", Required = true, CustomParser = r => CellNames.ParseLevel(r) };
        Option<string[]> needs = new("--needs") { Description = "A capability tag every assignee must have (repeatable)", HelpName = "TAG", AllowMultipleArgumentsPerToken = false };
        Option<int> people = new("--people") { Description = "How many people it takes", HelpName = "N", DefaultValueFactory = _ => 1 };
        Option<string?> due = new("--due") { Description = "A deadline: a duration from now (7d) or a date (2026-12-01)", HelpName = "WHEN" };
        Command command = new(
            "to-task",
            "Turn a report into a task of the cell (organizers): its title and description are made here from the report and sealed under the cell key.")
        {
            report, cell, risk, needs, people, due,
        };
        context.SetAction(command, async run =>
        {
            int count = run.GetValue(people);
            if (count is < 1 or > 100)
            {
                throw CliException.Usage("--people must be between 1 and 100.");
            }

            DateTimeOffset? deadline = run.GetValue(due) is { } when ? Durations.ParseDue(when) : null;
            TaskRow row = await ClientSession.RunAsync(
                run,
                "Sealing and creating the task...",
                async session =>
                {
                    IntakeTeamClient team = new(session.Cells);
                    IntakeReportView view = await team.GetAsync(run.GetValue(cell), run.GetValue(report), session.CancellationToken).ConfigureAwait(false);
                    TaskView task = await team.ToTaskAsync(view, run.GetValue(risk), run.GetValue(needs) ?? [], count, deadline, session.CancellationToken).ConfigureAwait(false);
                    return TaskRow.Of(task);
                },
                Translate).ConfigureAwait(false);
            run.Output.Result(row, console =>
            {
                console.MarkupLine("[green]Task created from the report.[/]");
                Table table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("What").AddColumn("Value");
                table.AddRow("Task", row.TaskId.ToString());
                table.AddRow(new Text("Title"), new Text(MessagingCommands.ForTerminal(row.Title)));
                table.AddRow("Risk", row.Risk);
                table.AddRow("State", row.State);
                console.Write(table);
            });
        });
        return command;
    }

    private static Command Delete(CliContext context)
    {
        Argument<Guid> report = ReportArgument();
        Option<Guid> cell = CellOption(required: false);
        Command command = new("delete", "Delete a report and its replies from the relay (the report id is enough; --cell is accepted for symmetry).") { report, cell };
        context.SetAction(command, async run =>
        {
            IntakeReportChangedResult result = await ClientSession.RunAsync(
                run,
                "Deleting the report...",
                async session =>
                {
                    await new IntakeTeamClient(session.Cells).DeleteAsync(run.GetValue(report), session.CancellationToken).ConfigureAwait(false);
                    return new IntakeReportChangedResult(run.GetValue(report), "deleted", null);
                },
                Translate).ConfigureAwait(false);
            run.Output.Result(result, console => console.MarkupLineInterpolated($"[green]Report {result.ReportId} deleted.[/]"));
        });
        return command;
    }

    private static Option<Guid> CellOption(bool required = true) => new("--cell") { Description = required ? "The intake's cell" : "The intake's cell (optional here)", HelpName = "CELL", Required = required };

    private static Argument<Guid> ReportArgument() => new("REPORT") { Description = "The report id (from 'coord intake inbox')" };

    private static IntakeOpenedResult Opened(IntakeInfo info, RelayApi api) => new(
        info.IntakeId,
        info.CellId,
        $"/intake/{info.IntakeId}",
        new Uri(api.Http.BaseAddress!, $"intake/{info.IntakeId}").AbsoluteUri,
        info.RetentionDays,
        info.PowDifficulty,
        Convert.ToBase64String(info.PublicKey));

    private static void PrintIntakes(IAnsiConsole console, IReadOnlyList<IntakeOpenedResult> intakes)
    {
        Table table = new Table().Border(TableBorder.Rounded).AddColumn("Intake").AddColumn("Web page").AddColumn("Kept").AddColumn("Proof-of-work");
        foreach (IntakeOpenedResult intake in intakes)
        {
            table.AddRow(
                new Text(intake.IntakeId.ToString()),
                new Text(intake.PageUrl),
                new Text($"{intake.RetentionDays} days"),
                new Text($"{intake.PowDifficulty} bits"));
        }

        console.Write(table);
    }

    private static void PrintReport(IAnsiConsole console, IntakeReportRow row, IntakeFlow? flow)
    {
        Table table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("What").AddColumn("Value");
        table.AddRow("Report", row.ReportId.ToString());
        table.AddRow("Intake", row.IntakeId.ToString());
        table.AddRow("Received", row.ReceivedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        table.AddRow("Deleted on", row.ExpiresAt.ToLocalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        table.AddRow("State", row.State);
        table.AddRow("Replies", row.Replies.ToString(CultureInfo.InvariantCulture));
        if (row.Failure is not null)
        {
            table.AddRow(new Text("Content"), new Text($"could not be read: {row.Failure}", new Style(Color.Red)));
            console.Write(table);
            return;
        }

        table.AddRow(new Text("Flow"), new Text(MessagingCommands.ForTerminal(flow is null ? row.Flow ?? "-" : $"{IntakeText.In(flow.Title, "en") ?? flow.Key} ({flow.Key})")));
        table.AddRow(new Text("Language"), new Text(MessagingCommands.ForTerminal(row.Language ?? "-")));
        table.AddRow("Submitted", row.SubmittedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-");
        foreach ((string step, string value) in row.Answers ?? new Dictionary<string, string>())
        {
            IntakeStep? known = flow?.Step(step);
            string question = known?.Answer.Kind == IntakeStep.Consent ? "Consent" : IntakeText.In(known?.Question, "en") ?? step;
            table.AddRow(new Text(MessagingCommands.ForTerminal(question)), new Text(MessagingCommands.ForTerminal(known?.Describe(value, "en") ?? value)));
        }

        console.Write(table);
    }

    private static string Summary(IntakeReportRow row)
    {
        string first = row.Answers?.Values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) ?? string.Empty;
        first = first.ReplaceLineEndings(" ");
        return MessagingCommands.ForTerminal(first.Length > 60 ? first[..60] + "…" : first);
    }

    private static async Task<IntakeFlow?> FlowAsync(RelayApi api, Guid intakeId, string key, CancellationToken ct)
    {
        try
        {
            return IntakeFlowsDocument.Parse(await api.GetIntakeFlowsAsync(intakeId, ct).ConfigureAwait(false)).Find(key);
        }
        catch (Exception ex) when (ex is RelayApiException or JsonException or InvalidDataException)
        {
            // The answers are still shown, under their step ids.
            return null;
        }
    }

    /// <summary>
    /// The answers to send: the --answer values, the --text as the main question's answer, and a
    /// neutral answer for every other required question that is asked: today for a date, the
    /// default (else the first) option for a choice, "not given" for a text, "yes" for consent
    /// (sending is consenting). Returned in the flow's order, with the steps it filled in.
    /// </summary>
    internal static (Dictionary<string, string> Answers, List<string> Filled) Fill(IntakeFlow flow, string language, string? text, IReadOnlyDictionary<string, string> given)
    {
        Dictionary<string, string> all = new(given, StringComparer.Ordinal);
        if (text is not null)
        {
            IntakeStep main = flow.MainTextStep ?? throw CliException.Usage($"The flow {flow.Key} has no free-text question for --text; use --answer STEP=VALUE.");
            if (given.ContainsKey(main.Id))
            {
                throw CliException.Usage($"--text answers '{main.Id}'; do not also give --answer {main.Id}=...");
            }

            all[main.Id] = text.Trim();
        }

        Dictionary<string, string> answers = new(StringComparer.Ordinal);
        List<string> filled = [];
        foreach (IntakeStep step in flow.Steps)
        {
            if (all.TryGetValue(step.Id, out string? value) && !string.IsNullOrEmpty(value))
            {
                answers[step.Id] = value;
                continue;
            }

            if (step.Optional || !IntakeFlow.IsAsked(step, answers))
            {
                continue;
            }

            string? neutral = step.Answer.Kind switch
            {
                IntakeStep.Date => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                IntakeStep.Choice => step.Answer.Default ?? (step.Answer.Options is { Count: > 0 } options ? options[0].Value : null),
                IntakeStep.Consent => IntakeStep.ConsentYes,
                IntakeStep.Text => language == "ru" ? "не указано" : "not given",
                _ => null,
            };
            if (neutral is not null)
            {
                answers[step.Id] = neutral;
                filled.Add(step.Id);
            }
        }

        // Answers to steps the flow does not have stay, so the check names them.
        foreach ((string step, string value) in all.Where(a => !answers.ContainsKey(a.Key) && !string.IsNullOrEmpty(a.Value)))
        {
            answers[step] = value;
        }

        return (answers, filled);
    }

    private static Dictionary<string, string> ParseAnswers(string[] values)
    {
        Dictionary<string, string> answers = new(StringComparer.Ordinal);
        foreach (string value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CliException.Usage($"--answer takes STEP=VALUE, not '{value}'.");
            }

            string step = value[..equals].Trim();
            if (!answers.TryAdd(step, value[(equals + 1)..].Trim()))
            {
                throw CliException.Usage($"--answer {step}=... is given twice.");
            }
        }

        return answers;
    }


    /// <summary>The SDK's refusals that are the user's situation, not a bug: said plainly.</summary>
    private static CliException? Translate(Exception ex) => ex switch
    {
        InvalidOperationException invalid => new CliException(invalid.Message),
        RelayApiException { Status: HttpStatusCode.NotFound } notFound => new CliException(
            $"Not found ({notFound.Detail ?? "no detail given"}): the cell, intake or report does not exist, or this account is not a member of the cell.", ExitCodes.Failure, 404),
        _ => null,
    };
}

/// <summary>Report states as the CLI prints and parses them.</summary>
internal static class IntakeNames
{
    public const string StateChoices = "new|in-progress|closed";

    private static readonly ReportState[] s_states = [ReportState.New, ReportState.InProgress, ReportState.Closed];

    public static string Of(ReportState state) => state switch
    {
        ReportState.New => "new",
        ReportState.InProgress => "in-progress",
        ReportState.Closed => "closed",
        _ => ((int)state).ToString(CultureInfo.InvariantCulture),
    };

    public static ReportState ParseState(ArgumentResult result)
    {
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        foreach (ReportState state in s_states)
        {
            if (string.Equals(Of(state), token, StringComparison.OrdinalIgnoreCase))
            {
                return state;
            }
        }

        result.AddError($"'{token}' is not a report state: use {string.Join(", ", s_states.Select(Of))}.");
        return default;
    }
}
