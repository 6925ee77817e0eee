using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Coordination.Client.Api;
using Coordination.Client.Messaging;
using Coordination.Client.Profiles;
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
/// through the SDK's <see cref="MessagingClient"/>. The history is kept on this device only,
/// encrypted under the profile's local storage key.
/// </summary>
public sealed class MessagingCommands : ICommandGroup
{
    /// <summary>Where the encrypted history lives inside the profile directory.</summary>
    public const string HistoryDirectory = "messages";

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

            using ProfileStore profile = await run.OpenProfileAsync().ConfigureAwait(false);
            SendCommandResult result = await run.Output.StatusAsync("Encrypting and sending...", async () =>
            {
                await using MessagingSession session = await MessagingSession.OpenAsync(run, profile).ConfigureAwait(false);
                Guid conversation = await session.ResolveAsync(run.GetValue(to)!).ConfigureAwait(false);
                SendResult sent;
                try
                {
                    sent = await session.Client.SendTextAsync(conversation, message, lifetime is { } t ? (int)t.TotalSeconds : null, run.CancellationToken).ConfigureAwait(false);
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
                    await session.Client.SyncAsync(run.CancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RelayApiException or HttpRequestException or InvalidDataException)
                {
                    // The message is sent; fetching can wait for the next 'coord read'.
                }

                return new SendCommandResult(conversation, sent.MessageId, sent.Seq, DateTimeOffset.FromUnixTimeMilliseconds(sent.ExpiresAt), sent.Duplicate);
            }).ConfigureAwait(false);

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

            using ProfileStore profile = await run.OpenProfileAsync().ConfigureAwait(false);
            if (following)
            {
                await FollowAsync(run, profile, run.GetValue(from), stopAfter).ConfigureAwait(false);
                return;
            }

            ReadResult result = await run.Output.StatusAsync("Fetching and decrypting...", async () =>
            {
                await using MessagingSession session = await MessagingSession.OpenAsync(run, profile).ConfigureAwait(false);
                Guid? conversation = run.GetValue(from) is { } target ? await session.ResolveAsync(target).ConfigureAwait(false) : null;
                int received = 0;
                session.Client.MessageReceived += m => received += m.Text is not null && (conversation is null || m.ConversationId == conversation) ? 1 : 0;
                session.Client.DecryptionFailed += f => received += conversation is null || f.ConversationId == conversation ? 1 : 0;
                await session.Client.SyncAsync(run.CancellationToken).ConfigureAwait(false);
                List<MessageRow> rows = [.. session.Client.Store.Messages
                    .Where(m => (m.Text is not null || m.Failure is not null) && (conversation is null || m.ConversationId == conversation))
                    .OrderBy(m => m.Seq == 0 ? long.MaxValue : m.Seq)
                    .TakeLast(latest)
                    .Select(MessageRow.Of)];
                return new ReadResult(conversation, received, rows);
            }).ConfigureAwait(false);

            run.Output.Result(result, console => PrintTable(console, result, profile.Profile.AccountId));
        });
        return command;
    }

    private static async Task FollowAsync(CommandRun run, ProfileStore profile, string? target, int? stopAfter)
    {
        await using MessagingSession session = await MessagingSession.OpenAsync(run, profile).ConfigureAwait(false);
        Guid? conversation = target is null ? null : await session.ResolveAsync(target).ConfigureAwait(false);
        Channel<MessageRow> arrivals = Channel.CreateUnbounded<MessageRow>(new UnboundedChannelOptions { SingleReader = true });
        session.Client.MessageReceived += message =>
        {
            if (message.Text is not null && (conversation is null || message.ConversationId == conversation))
            {
                arrivals.Writer.TryWrite(MessageRow.Of(message));
            }
        };
        session.Client.DecryptionFailed += failure =>
        {
            if (conversation is null || failure.ConversationId == conversation)
            {
                arrivals.Writer.TryWrite(MessageRow.Of(failure));
            }
        };
        session.Client.ConnectionLost += reason => arrivals.Writer.TryComplete(new CliException(
            $"The live connection to the relay ended: {Describe(reason)} (The device may have been revoked.)"));

        Guid self = profile.Profile.AccountId;
        try
        {
            await session.Client.ConnectAsync(run.CancellationToken).ConfigureAwait(false);
            if (!run.Output.Json)
            {
                string where = conversation is { } c ? $"conversation {c}" : "every conversation";
                run.Output.ErrorConsole.MarkupLineInterpolated($"[grey]Waiting for messages in {where}. Ctrl+C to stop.[/]");
            }

            int printed = 0;
            await foreach (MessageRow row in arrivals.Reader.ReadAllAsync(run.CancellationToken).ConfigureAwait(false))
            {
                run.Output.Result(row, console => PrintLine(console, row, self));
                if (++printed == stopAfter)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
        {
            // Ctrl+C is how --follow ends: everything printed was stored and acknowledged.
        }
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

    /// <summary>A logged-in relay session, this device's encrypted history and the SDK's messaging client over them.</summary>
    private sealed class MessagingSession : IAsyncDisposable
    {
        private readonly RelaySession _relay;
        private readonly LocalMessageStore _history;

        private MessagingSession(RelaySession relay, LocalMessageStore history, MessagingClient client, CommandRun run)
        {
            _relay = relay;
            _history = history;
            Client = client;
            Run = run;
        }

        public MessagingClient Client { get; }

        private CommandRun Run { get; }

        public static async Task<MessagingSession> OpenAsync(CommandRun run, ProfileStore profile)
        {
            string directory = Path.Combine(profile.Directory, HistoryDirectory);
            if (!OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            LocalMessageStore history;
            try
            {
                history = LocalMessageStore.Open(directory, profile.Profile.LocalStorageKey);
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException)
            {
                throw new CliException($"The message history in {directory} does not open with this profile's key: it is damaged or belongs to another profile. ({ex.Message})");
            }

            try
            {
                RelaySession relay = await run.LoginAsync(profile).ConfigureAwait(false);
                return new MessagingSession(relay, history, new MessagingClient(relay.Identity, relay.Api, history), run);
            }
            catch
            {
                history.Dispose();
                throw;
            }
        }

        /// <summary>A conversation id, or a member's account id (which opens the direct conversation with them).</summary>
        public async Task<Guid> ResolveAsync(string target)
        {
            if (!Guid.TryParse(target, out _))
            {
                throw CliException.Usage($"'{target}' is not a conversation id or an account id (both look like 3f2504e0-4f89-11d3-9a0c-0305e82c3301).");
            }

            try
            {
                return await Client.ResolveConversationAsync(target, Run.CancellationToken).ConfigureAwait(false);
            }
            catch (RelayApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
            {
                throw new CliException(
                    $"{target} is neither a conversation of this account nor another member's account on this relay.", ExitCodes.Failure, (int)ex.Status);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync().ConfigureAwait(false);
            _history.Dispose();
            await _relay.DisposeAsync().ConfigureAwait(false);
        }
    }
}
