using System.Text;
using System.Text.Json;
using Coordination.Cli.Tests.Infrastructure;
using Coordination.Client.Api;
using Coordination.Client.Profiles;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Relay;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Cli.Tests;

/// <summary>
/// <c>coord send</c> and <c>coord read</c> between real profiles through the real relay on a real
/// port: both directions, live and after being offline, with the history kept encrypted on each
/// device and nothing readable at rest on the relay.
/// </summary>
public sealed class MessagingCliTests(RelayFactory relay) : IClassFixture<RelayFactory>, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "coordination-cli-tests", "messaging-" + Guid.NewGuid().ToString("N"));

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
    public async Task Two_profiles_exchange_messages_live_and_after_being_offline()
    {
        Member anna = await CreateAsync("anna");
        Member boris = await CreateAsync("boris");

        // Boris is offline: Anna writes twice, once with --text and once on standard input.
        JsonElement first = await Coord.JsonAsync(anna.Args("send", "--to", boris.AccountId.ToString(), "--text", "Court at ten, room 4"));
        Guid conversation = first.GetProperty("conversationId").GetGuid();
        Assert.False(first.GetProperty("duplicate").GetBoolean());
        CoordResult piped = await Coord.RunWithInputAsync("Bring the letters\nand stamps\n", [.. anna.Args("send", "--to", conversation.ToString()), "--json"]);
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal(conversation, piped.Json.GetProperty("conversationId").GetGuid());

        // Boris comes online and reads both, in order, from Anna (by her account id).
        JsonElement read = await Coord.JsonAsync(boris.Args("read", "--from", anna.AccountId.ToString()));
        Assert.Equal(conversation, read.GetProperty("conversationId").GetGuid());
        Assert.Equal(2, read.GetProperty("received").GetInt32());
        List<JsonElement> messages = [.. read.GetProperty("messages").EnumerateArray()];
        Assert.Equal(["Court at ten, room 4", "Bring the letters\nand stamps"], messages.Select(m => m.GetProperty("text").GetString()));
        Assert.All(messages, m =>
        {
            Assert.Equal(anna.AccountId, m.GetProperty("from").GetGuid());
            Assert.False(m.GetProperty("outgoing").GetBoolean());
            Assert.Equal(JsonValueKind.Null, m.GetProperty("failure").ValueKind);
        });

        // Acknowledged once stored: a second read gets nothing new from the relay but keeps the history.
        JsonElement again = await Coord.JsonAsync(boris.Args("read", "--from", conversation.ToString()));
        Assert.Equal(0, again.GetProperty("received").GetInt32());
        Assert.Equal(2, again.GetProperty("messages").GetArrayLength());

        // Live, both directions: the reader is connected before the message is sent.
        JsonElement toAnna = await LiveAsync(reader: anna, writer: boris, to: anna.AccountId, "Understood, I will be there");
        Assert.Equal(boris.AccountId, toAnna.GetProperty("from").GetGuid());
        Assert.Equal(conversation, toAnna.GetProperty("conversationId").GetGuid());
        JsonElement toBoris = await LiveAsync(reader: boris, writer: anna, to: boris.AccountId, "Thank you — А.");
        Assert.Equal(anna.AccountId, toBoris.GetProperty("from").GetGuid());

        // Anna's own history: what she sent is marked outgoing, what Boris sent is not.
        JsonElement annaHistory = await Coord.JsonAsync(anna.Args("read", "--from", boris.AccountId.ToString()));
        Assert.Equal(
            [("Court at ten, room 4", true), ("Bring the letters\nand stamps", true), ("Understood, I will be there", false), ("Thank you — А.", true)],
            annaHistory.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("text").GetString(), m.GetProperty("outgoing").GetBoolean())));
    }

    [Fact]
    public async Task Read_reports_an_envelope_that_does_not_decrypt_and_acknowledges_it()
    {
        Member anna = await CreateAsync("anna");
        Member boris = await CreateAsync("boris");
        Guid conversation = (await Coord.JsonAsync(anna.Args("send", "--to", boris.AccountId.ToString(), "--text", "a real one"))).GetProperty("conversationId").GetGuid();

        // A forged envelope of a valid size, pushed straight through the API by a member.
        await using (RelaySessionForTest forger = await RelaySessionForTest.OpenAsync(anna.Profile))
        {
            byte[] noise = SecureRandom.Bytes(1024);
            noise[1] = 0x01;
            await forger.Api.SendAsync(new SendEnvelope(conversation, Guid.NewGuid(), noise)).WaitAsync(Coord.Timeout);
        }

        JsonElement read = await Coord.JsonAsync(boris.Args("read", "--from", conversation.ToString()));
        List<JsonElement> messages = [.. read.GetProperty("messages").EnumerateArray()];
        Assert.Equal(2, messages.Count);
        Assert.Equal("a real one", messages[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, messages[1].GetProperty("text").ValueKind);
        Assert.Contains("not addressed to this device", messages[1].GetProperty("failure").GetString(), StringComparison.Ordinal);

        // Reported once, then acknowledged: the relay does not offer it again.
        Assert.Equal(0, (await Coord.JsonAsync(boris.Args("read"))).GetProperty("received").GetInt32());

        CoordResult human = await Coord.RunAsync(boris.Args("read", "--from", conversation.ToString()));
        Assert.Equal(0, human.ExitCode);
        Assert.Contains("could not be read", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminal_output_neutralises_escape_sequences()
    {
        Member anna = await CreateAsync("anna");
        Member boris = await CreateAsync("boris");
        string hostile = "hello \u001b]0;owned\u0007\u001b[2J and \u202Etxt.exe\ttab";
        await Coord.JsonAsync(anna.Args("send", "--to", boris.AccountId.ToString(), "--text", hostile));

        CoordResult human = await Coord.RunAsync(boris.Args("read"));
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.DoesNotContain('\u001b', human.Stdout);
        Assert.DoesNotContain('\u0007', human.Stdout);
        Assert.DoesNotContain('\u202E', human.Stdout);
        Assert.Contains("hello \uFFFD]0;owned", human.Stdout, StringComparison.Ordinal);

        // JSON keeps the text exactly (escaped by the serializer): programs decide for themselves.
        JsonElement json = await Coord.JsonAsync(boris.Args("read"));
        Assert.Equal(hostile, json.GetProperty("messages")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Send_and_read_refuse_bad_input_with_clear_errors()
    {
        Member anna = await CreateAsync("anna");

        CoordResult notAnId = await Coord.RunAsync([.. anna.Args("send", "--to", "boris", "--text", "hi"), "--json"]);
        Assert.Equal(ExitCodes.Usage, notAnId.ExitCode);
        Assert.Contains("not a conversation id or an account id", notAnId.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        CoordResult stranger = await Coord.RunAsync([.. anna.Args("send", "--to", Guid.NewGuid().ToString(), "--text", "hi"), "--json"]);
        Assert.Equal(ExitCodes.Failure, stranger.ExitCode);
        Assert.Equal(404, stranger.Error.GetProperty("status").GetInt32());
        Assert.Equal(string.Empty, stranger.Stdout);

        CoordResult empty = await Coord.RunWithInputAsync(string.Empty, [.. anna.Args("send", "--to", anna.AccountId.ToString()), "--json"]);
        Assert.Equal(ExitCodes.Usage, empty.ExitCode);
        Assert.Contains("nothing to send", empty.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        CoordResult tooLong = await Coord.RunWithInputAsync(new string('x', Limits.MaxEnvelopeBytes + 10), [.. anna.Args("send", "--to", Guid.NewGuid().ToString()), "--json"]);
        Assert.Equal(ExitCodes.Usage, tooLong.ExitCode);
        Assert.Contains("longer than the largest envelope", tooLong.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        foreach (string ttl in new[] { "0s", "31d", "soon", "5x" })
        {
            CoordResult badTtl = await Coord.RunAsync([.. anna.Args("send", "--to", Guid.NewGuid().ToString(), "--text", "hi", "--ttl", ttl), "--json"]);
            Assert.True(badTtl.ExitCode == ExitCodes.Usage, $"--ttl {ttl}: {badTtl}");
        }

        CoordResult countWithoutFollow = await Coord.RunAsync([.. anna.Args("read", "--count", "1"), "--json"]);
        Assert.Equal(ExitCodes.Usage, countWithoutFollow.ExitCode);
        Assert.Contains("--count goes with --follow", countWithoutFollow.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_too_large_for_any_envelope_is_refused_before_anything_is_sent()
    {
        Member anna = await CreateAsync("anna");
        Member boris = await CreateAsync("boris");
        CoordResult result = await Coord.RunAsync([.. anna.Args("send", "--to", boris.AccountId.ToString(), "--text", new string('я', 40_000)), "--json"]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("too large", result.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        // Nothing reached Boris, and nothing phantom sits in Anna's history.
        Assert.Equal(0, (await Coord.JsonAsync(boris.Args("read"))).GetProperty("received").GetInt32());
        Assert.Equal(0, (await Coord.JsonAsync(anna.Args("read"))).GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public async Task Follow_ends_with_an_error_when_the_device_is_revoked()
    {
        Member anna = await CreateAsync("anna");
        Task<CoordResult> following = Coord.RunAsync([.. anna.Args("read", "--follow"), "--json"]);
        await WaitUntilConnectedAsync(anna.AccountId, following);

        await Coord.JsonAsync(anna.Args("device", "revoke", anna.DeviceId.ToString()));
        CoordResult result = await following.WaitAsync(Coord.Timeout);
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("live connection to the relay ended", result.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Canary_scan_through_the_cli_finds_no_plaintext_at_rest()
    {
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        Member anna = await CreateAsync("anna");
        Member boris = await CreateAsync("boris");
        Guid conversation = Guid.Empty;
        for (int i = 0; i < 3; i++)
        {
            JsonElement sent = await Coord.JsonAsync(anna.Args("send", "--to", boris.AccountId.ToString(), "--text", $"{canary} {i}: the samizdat is at the usual place"));
            conversation = sent.GetProperty("conversationId").GetGuid();
        }

        await Coord.JsonAsync(boris.Args("send", "--to", anna.AccountId.ToString(), "--text", $"{canary} reply"));

        // Stored and undelivered: the relay holds envelopes, none of them readable.
        Assert.Equal(4, CountEnvelopes(conversation));
        AssertNowhere(canary, "while stored", anna, boris);

        // Read on both sides (stored in each device's history, acknowledged), then swept by the relay.
        JsonElement borisRead = await Coord.JsonAsync(boris.Args("read"));
        Assert.Equal(4, borisRead.GetProperty("messages").GetArrayLength());
        Assert.All(borisRead.GetProperty("messages").EnumerateArray(), m => Assert.StartsWith(canary, m.GetProperty("text").GetString(), StringComparison.Ordinal));
        await Coord.JsonAsync(anna.Args("read"));
        await relay.Services.GetRequiredService<RelayWriter>().SweepAsync().WaitAsync(Coord.Timeout);

        Assert.Equal(0, CountEnvelopes(conversation));
        AssertNowhere(canary, "after delivery", anna, boris);
    }

    /// <summary>Starts <c>read --follow --count 1</c> for <paramref name="reader"/>, sends once it is connected, returns the printed line.</summary>
    private async Task<JsonElement> LiveAsync(Member reader, Member writer, Guid to, string text)
    {
        Task<CoordResult> following = Coord.RunAsync([.. reader.Args("read", "--from", writer.AccountId.ToString(), "--follow", "--count", "1"), "--json"]);
        await WaitUntilConnectedAsync(reader.AccountId, following);
        await Coord.JsonAsync(writer.Args("send", "--to", to.ToString(), "--text", text));
        CoordResult result = await following.WaitAsync(Coord.Timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement line = result.Json;
        Assert.Equal(text, line.GetProperty("text").GetString());
        return line;
    }

    private async Task WaitUntilConnectedAsync(Guid accountId, Task<CoordResult> running)
    {
        ConnectionRegistry connections = relay.Services.GetRequiredService<ConnectionRegistry>();
        using CancellationTokenSource deadline = new(Coord.Timeout);
        while (connections.OfAccounts([accountId]).Count == 0)
        {
            Assert.False(running.IsCompleted, running.IsCompleted ? $"read --follow ended early: {await running}" : null);
            await Task.Delay(25, deadline.Token);
        }
    }

    private void AssertNowhere(string canary, string when, params Member[] members)
    {
        byte[] needle = Encoding.UTF8.GetBytes(canary);
        List<string> files = [.. Directory.EnumerateFiles(relay.DataDirectory, "*", SearchOption.AllDirectories)];
        foreach (Member member in members)
        {
            files.AddRange(Directory.EnumerateFiles(member.Profile, "*", SearchOption.AllDirectories));
        }

        Assert.Contains(files, f => f.EndsWith("history.enc", StringComparison.Ordinal) || when == "while stored");
        foreach (string file in files)
        {
            byte[] content = RelayFactory.ReadShared(file);
            Assert.True(content.AsSpan().IndexOf(needle) < 0, $"{when}: the plaintext is in {file}");
        }

        Assert.DoesNotContain(relay.Logs, line => line.Contains(canary, StringComparison.Ordinal));
    }


    // Guids are stored as upper-case text.
    private long CountEnvelopes(Guid conversation) =>
        relay.Count($"SELECT COUNT(*) FROM Envelopes WHERE ConversationId = '{conversation.ToString().ToUpperInvariant()}'");

    private async Task<Member> CreateAsync(string name)
    {
        string profile = Path.Combine(_root, "profiles", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        JsonElement created = await Coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--name", name);
        return new Member(profile, created.GetProperty("accountId").GetGuid(), created.GetProperty("deviceId").GetGuid());
    }

    private sealed record Member(string Profile, Guid AccountId, Guid DeviceId)
    {
        public string[] Args(params string[] command) => ["--profile", Profile, .. command];
    }

    /// <summary>The member's own keys, logged in through the SDK, to put arbitrary bytes on the relay.</summary>
    private sealed class RelaySessionForTest : IAsyncDisposable
    {
        private readonly ProfileStore _store;
        private readonly Client.Identity.DeviceIdentity _identity;

        private RelaySessionForTest(ProfileStore store, Client.Identity.DeviceIdentity identity, RelayApi api)
        {
            _store = store;
            _identity = identity;
            Api = api;
        }

        public RelayApi Api { get; }

        public static async Task<RelaySessionForTest> OpenAsync(string profile)
        {
            ProfileStore store = await ProfileStore.OpenAsync(profile, Coord.DefaultPassphrase.ToCharArray()).WaitAsync(Coord.Timeout);
            Client.Identity.DeviceIdentity identity = store.ToIdentity();
            RelayApi api = RelayApi.Create(new Uri(store.Profile.ServerUrl));
            await api.LoginAsync(identity).WaitAsync(Coord.Timeout);
            return new RelaySessionForTest(store, identity, api);
        }

        public ValueTask DisposeAsync()
        {
            Api.Dispose();
            _identity.Dispose();
            _store.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
