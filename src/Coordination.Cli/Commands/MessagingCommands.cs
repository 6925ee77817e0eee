using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Messaging;
using Coordination.Protocol;
using Spectre.Console;

namespace Coordination.Cli.Commands;

/// <summary>What <c>send</c> prints: where the message went and until when the relay keeps it.</summary>
public sealed record SendCommandResult(Guid ConversationId, Guid MessageId, long Seq, DateTimeOffset ExpiresAt, bool Duplicate);

/// <summary>One message as <c>read</c> prints it. <see cref="Failure"/> is set (and the rest empty) when it could not be read.</summary>
public sealed record MessageRow(
    Guid ConversationId,
    Guid MessageId,
    long Seq,
    Guid? From,
    Guid? FromDevice,
    DateTimeOffset? SentAt,
    string? Text,
    bool Outgoing,
    string? Failure)
{
    public static MessageRow Of(StoredMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        bool failed = message.Failure is not null;
        return new MessageRow(
            message.ConversationId,
            message.MessageId,
            message.Seq,
            failed ? null : message.SenderAccountId,
            failed ? null : message.SenderDeviceId,
            failed || message.SentAt == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(message.SentAt),
            message.Text,
            message.Outgoing,
            message.Failure);
    }

    public static MessageRow Of(DecryptionFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return new MessageRow(failure.ConversationId, failure.MessageId, failure.Seq, null, null, null, null, false, failure.Reason);
    }
}

/// <summary>What <c>read</c> (without <c>--follow</c>) prints.</summary>
/// <param name="ConversationId">The conversation read, or null for all of them.</param>
/// <param name="Received">How many messages arrived from the relay during this run.</param>
/// <param name="Messages">The latest messages of the local history, oldest first.</param>
public sealed record ReadResult(Guid? ConversationId, int Received, IReadOnlyList<MessageRow> Messages);

/// <summary>
/// <c>coord send --to CONVERSATION_OR_MEMBER [--text TEXT]</c> and
/// <c>coord read [--from CONVERSATION_OR_MEMBER] [--follow]</c>: end-to-end encrypted messages
/// through the SDK's <see cref="MessagingClient"/>. A conversation is a direct one, or a cell,
/// its announcements or a GRAS group, whose messages are encrypted only to the members its
/// verified membership log lists. The history is kept on this device only, encrypted under the
/// profile's local storage key.
/// </summary>
public sealed class MessagingCommands : ICommandGroup
{

    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        yield return Send(context);
        yield return Read(context);
    }

    private static Command Send(CliContext context)
    {
        Option<string> to = new("--to")
        {
            Description = "A conversation id, or the account id of the member to write to directly",
            HelpName = "CONVERSATION_OR_MEMBER",
            Required = true,
        };
        Option<string?> text = new("--text") { Description = "The message. Without it, standard input is read to its end", HelpName = "TEXT" };
        Option<TimeSpan?> ttl = new("--ttl")
        {
            Description = "Let the relay delete the message after this long even if not everyone fetched it (1s to 30d; default 7d)",
            HelpName = "DURATION",
            CustomParser = Durations.ParseOption,
        };
        Command command = new("send", "Encrypt a message on this device and send it through the relay.") { to, text, ttl };
        context.SetAction(command, async run =>
        {
            TimeSpan? lifetime = run.GetValue(ttl);
            if (lifetime is { } l && (l < Limits.MinEnvelopeTtl || l > Limits.MaxEnvelopeTtl))
            {
                throw CliException.Usage("--ttl must be between 1s and 30d.");
            }

            string message = run.GetValue(text) ?? await ReadStandardInputAsync(run).ConfigureAwait(false);
            if (message.Length == 0)
            {
                throw CliException.Usage("There is nothing to send: give --text TEXT or write the message to standard input.");
            }

            SendCommandResult result = await ClientSession.RunAsync(run, "Encrypting and sending...", async session =>
            {
                Guid conversation = await session.ResolveConversationAsync(run.GetValue(to)!).ConfigureAwait(false);
                SendResult sent;
                try
                {
                    sent = await session.Messages.SendTextAsync(conversation, message, lifetime is { } t ? (int)t.TotalSeconds : null, run.CancellationToken).ConfigureAwait(false);
                }
                catch (ArgumentException ex)
                {
                    throw CliException.Usage(ex.Message);
                }
                catch (InvalidOperationException ex)
                {
                    throw new CliException(ex.Message);
                }

                // Fetch what waits for this device, its own message included: the relay deletes an
                // envelope once every device of the conversation has it, this one too. What arrives
                // is decrypted into the local history for 'coord read'.
                try
                {
                    await session.Messages.SyncAsync(run.CancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RelayApiException or HttpRequestException or InvalidDataException)
                {
                    // The message is sent; fetching can wait for the next 'coord read'.
                }

                return new SendCommandResult(conversation, sent.MessageId, sent.Seq, DateTimeOffset.FromUnixTimeMilliseconds(sent.ExpiresAt), sent.Duplicate);
            }, Unverifiable).ConfigureAwait(false);

            run.Output.Result(result, console =>
            {
                string expires = result.ExpiresAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
                console.MarkupLineInterpolated($"[green]Sent[/] to conversation {result.ConversationId.ToString()}.");
                console.MarkupLineInterpolated($"[grey]The relay holds it encrypted until every device of the conversation has it, and deletes it by {expires} at the latest.[/]");
            });
        });
        return command;
    }

    private static Command Read(CliContext context)
    {
        Option<string?> from = new("--from")
        {
            Description = "A conversation id, or a member's account id for your direct conversation. Default: every conversation",
            HelpName = "CONVERSATION_OR_MEMBER",
        };
        Option<bool> follow = new("--follow", "-f") { Description = "Stay connected and print messages as they arrive, until Ctrl+C (with --json: one JSON object per line)" };
        Option<int> limit = new("--limit") { Description = "Without --follow: how many of the latest messages to print", DefaultValueFactory = _ => 50, HelpName = "N" };
        Option<int?> count = new("--count") { Description = "With --follow: stop after this many new messages", HelpName = "N" };
        Command command = new("read", "Fetch, decrypt and print messages. The relay deletes what every device has fetched; the history stays on this device, encrypted.")
        {
            from, follow, limit, count,
        };
        context.SetAction(command, async run =>
        {
            int latest = run.GetValue(limit);
            int? stopAfter = run.GetValue(count);
            bool following = run.GetValue(follow);
            if (latest is < 1 or > 10_000)
            {
                throw CliException.Usage("--limit must be between 1 and 10000.");
            }

            if (stopAfter is not null && (!following || stopAfter < 1))
            {
                throw CliException.Usage("--count goes with --follow and must be at least 1.");
            }

            if (following)
            {
                await ClientSession.RunAsync(run, null, session => FollowAsync(run, session, run.GetValue(from), stopAfter), Unverifiable).ConfigureAwait(false);
                return;
            }

            (ReadResult result, Guid self) = await ClientSession.RunAsync(run, "Fetching and decrypting...", async session =>
            {
                Guid? conversation = run.GetValue(from) is { } target ? await session.ResolveConversationAsync(target).ConfigureAwait(false) : null;
                int received = 0;
                session.Messages.MessageReceived += m => received += m.Text is not null && (conversation is null || m.ConversationId == conversation) ? 1 : 0;
                session.Messages.DecryptionFailed += f => received += conversation is null || f.ConversationId == conversation ? 1 : 0;
                await session.Messages.SyncAsync(run.CancellationToken).ConfigureAwait(false);
                List<MessageRow> rows = [.. session.Messages.Store.Messages
                    .Where(m => (m.Text is not null || m.Failure is not null) && (conversation is null || m.ConversationId == conversation))
                    .OrderBy(m => m.Seq == 0 ? long.MaxValue : m.Seq)
                    .TakeLast(latest)
                    .Select(MessageRow.Of)];
                return (new ReadResult(conversation, received, rows), session.AccountId);
            }, Unverifiable).ConfigureAwait(false);

            run.Output.Result(result, console => PrintTable(console, result, self));
        });
        return command;
    }

    /// <summary>
    /// A cell's membership that does not verify: nothing is encrypted to it, and the person is told
    /// plainly rather than shown the SDK's exception.
    /// </summary>
    private static CliException? Unverifiable(Exception exception) => exception is MembershipTamperingException tampering
        ? new CliException(
            $"The relay's membership list for {(tampering.Alert is { } alert ? $"cell {alert.CellId}" : "that cell")} could not be verified, so nothing was encrypted to it: {tampering.Message} "
            + "The relay, or whoever controls it, may be adding or hiding members; check with the cell's organizers in person.")
        : null;

    /// <summary>Prints messages as they arrive; returns how many were printed.</summary>
    private static async Task<int> FollowAsync(CommandRun run, ClientSession session, string? target, int? stopAfter)
    {
        Guid? conversation = target is null ? null : await session.ResolveConversationAsync(target).ConfigureAwait(false);
        Channel<MessageRow> arrivals = Channel.CreateUnbounded<MessageRow>(new UnboundedChannelOptions { SingleReader = true });
        session.Messages.MessageReceived += message =>
        {
            if (message.Text is not null && (conversation is null || message.ConversationId == conversation))
            {
                arrivals.Writer.TryWrite(MessageRow.Of(message));
            }
        };
        session.Messages.DecryptionFailed += failure =>
        {
            if (conversation is null || failure.ConversationId == conversation)
            {
                arrivals.Writer.TryWrite(MessageRow.Of(failure));
            }
        };
        session.Messages.ConnectionLost += reason => arrivals.Writer.TryComplete(new CliException(
            $"The live connection to the relay ended: {Describe(reason)} (The device may have been revoked.)"));

        Guid self = session.AccountId;
        int printed = 0;
        try
        {
            await session.Messages.ConnectAsync(run.CancellationToken).ConfigureAwait(false);
            if (!run.Output.Json)
            {
                string where = conversation is { } c ? $"conversation {c}" : "every conversation";
                run.Output.ErrorConsole.MarkupLineInterpolated($"[grey]Waiting for messages in {where}. Ctrl+C to stop.[/]");
            }

            await foreach (MessageRow row in arrivals.Reader.ReadAllAsync(run.CancellationToken).ConfigureAwait(false))
            {
                run.Output.Result(row, console => PrintLine(console, row, self));
                if (++printed == stopAfter)
                {
                    return printed;
                }
            }
        }
        catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
        {
            // Ctrl+C is how --follow ends: everything printed was stored and acknowledged.
        }

        return printed;
    }

    private static string Describe(Exception reason) => reason switch
    {
        RelayApiException { Status: not 0 } api => $"the relay refused to log this device in again ({(int)api.Status} {api.Status}).",
        _ => reason.Message,
    };

    private static void PrintTable(IAnsiConsole console, ReadResult result, Guid self)
    {
        if (result.Messages.Count == 0)
        {
            console.MarkupLine("[grey]No messages.[/]");
            return;
        }

        Table table = new Table().Border(TableBorder.Rounded).AddColumn("Sent").AddColumn("From");
        if (result.ConversationId is null)
        {
            table.AddColumn("Conversation");
        }

        table.AddColumn("Message");
        foreach (MessageRow row in result.Messages)
        {
            List<Spectre.Console.Rendering.IRenderable> cells = [new Text(SentLabel(row)), new Text(SenderLabel(row, self))];
            if (result.ConversationId is null)
            {
                cells.Add(new Text(row.ConversationId.ToString()));
            }

            cells.Add(row.Failure is null ? new Text(ForTerminal(row.Text ?? string.Empty)) : new Text($"could not be read: {row.Failure}", new Style(Color.Red)));
            table.AddRow(cells);
        }

        console.Write(table);
        if (result.Received > 0)
        {
            console.MarkupLineInterpolated($"[grey]{result.Received} new from the relay.[/]");
        }
    }

    private static void PrintLine(IAnsiConsole console, MessageRow row, Guid self)
    {
        string head = $"{SentLabel(row)}  {SenderLabel(row, self)}: ";
        if (row.Failure is null)
        {
            console.Write(new Text(head + ForTerminal(row.Text ?? string.Empty) + "\n"));
        }
        else
        {
            console.Write(new Text($"{head}could not be read: {row.Failure}\n", new Style(Color.Red)));
        }
    }

    private static string SentLabel(MessageRow row) =>
        row.SentAt?.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";

    private static string SenderLabel(MessageRow row, Guid self) =>
        row.From is not { } from ? "?" : from == self ? "you" : from.ToString();

    /// <summary>
    /// Another person's text, made safe to print on a terminal: control characters (escape
    /// sequences that could rewrite the screen) and bidirectional overrides (that could disguise
    /// what is shown) become U+FFFD. Line breaks and tabs stay.
    /// </summary>
    internal static string ForTerminal(string text)
    {
        StringBuilder safe = new(text.Length);
        foreach (char c in text)
        {
            bool control = char.IsControl(c) && c is not '\n' and not '\t';
            bool bidi = c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F' or '\u061C';
            safe.Append(control || bidi ? '\uFFFD' : c);
        }

        return safe.ToString();
    }

    private static async Task<string> ReadStandardInputAsync(CommandRun run)
    {
        if (run.Environment.InputIsTerminal)
        {
            run.Output.ErrorConsole.MarkupLine("[grey]Type the message; end it with Ctrl+D on a line of its own.[/]");
        }

        // A bound above the largest envelope: a larger text is refused without reading gigabytes.
        char[] buffer = new char[Limits.MaxEnvelopeBytes + 1];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await run.Environment.In.ReadAsync(buffer.AsMemory(length), run.CancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        if (length == buffer.Length)
        {
            throw CliException.Usage($"The message on standard input is longer than the largest envelope ({Limits.MaxEnvelopeBytes} bytes).");
        }

        // "echo text | coord send" ends with one line break that is not part of the message.
        string text = new(buffer, 0, length);
        Array.Clear(buffer);
        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
    }
}
