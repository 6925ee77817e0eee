using System.Globalization;
using System.Text;
using System.Text.Json;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Hub;

/// <summary>Two accounts with a direct conversation holding envelopes; the fuzzed connection is one of them.</summary>
public sealed class HubWorld : RelayWorld
{
    public Person Alice { get; private set; } = null!;

    public Person Bob { get; private set; } = null!;

    public Guid Conversation { get; private set; }

    protected override async Task BuildAsync()
    {
        Alice = await PersonAsync();
        Bob = await PersonAsync();
        Conversation = (await Alice.Api.OpenDirectConversationAsync(Bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await Bob.Api.SendAsync(new SendEnvelope(Conversation, Guid.NewGuid(), SecureRandom.Bytes(256))).WaitAsync(TestTimeouts.Default);
    }
}

/// <summary>
/// Raw frames on a hub connection of a logged-in device. After every case the connection has
/// either answered a well-formed invocation or been closed by the server; a bad invocation gets a
/// completion with an error (or the connection is closed), never a result; no envelope is stored
/// but by a well-formed Send; after the batch another connection works, /healthz is 200, and the
/// server logged no error.
/// </summary>
public sealed class HubFrameFuzzTests(HubWorld world) : IClassFixture<HubWorld>
{
    private static readonly TimeSpan s_answer = TimeSpan.FromSeconds(10);

    /// <summary>How long a probe is waited for after a message of an unknown type, which stops the connection (a known failure).</summary>
    private static readonly TimeSpan s_wedged = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task ArbitraryFrames_NeverCrashTheRelayOrStoreAnything()
    {
        int logs = world.Relay.Logs.Count;
        Guid[] known = [world.Conversation, world.Alice.AccountId, world.Bob.AccountId];
        RawHub? hub = null;
        int probes = 0;
        int closed = 0;
        try
        {
            await Fuzzer.CheckAsync(150, Fuzzer.Cases(Gens.Seeds.Select(seed => HubFrames.Case(new System.Random(seed), known))), async c =>
            {
                hub ??= await RawHub.ConnectAsync(world.Relay.ServerAddress, world.Alice.Token);
                long lastSeq = world.Relay.Count("SELECT COALESCE(MAX(Seq), 0) FROM Envelopes");
                long stored = world.Relay.Count("SELECT COUNT(*) FROM Envelopes");
                foreach (Frame frame in c.Frames)
                {
                    await hub.SendAsync(frame.Data, frame.Binary);
                }

                // A separator first ends a record the case left open; then the probe, a record of its own.
                string probe = "probe-" + (++probes).ToString(CultureInfo.InvariantCulture);
                await hub.SendAsync([(byte)RawHub.Separator], binary: false);
                await hub.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"{probe}\",\"target\":\"Fetch\",\"arguments\":[1]}}{RawHub.Separator}"), binary: false);
                bool answered = await ReadUntilProbeAsync(hub, probe, c, UnknownMessageType(c) ? s_wedged : s_answer);
                if (!answered)
                {
                    closed++;
                    await hub.DisposeAsync();
                    hub = null;
                }

                // Nothing stored or deleted except by a well-formed Send of this case.
                Assert.Equal(stored, world.Relay.Count("SELECT COUNT(*) FROM Envelopes WHERE Seq <= $0", lastSeq));
                foreach (object?[] row in world.Relay.Query("SELECT MessageId, length(Ciphertext) FROM Envelopes WHERE Seq > $0", lastSeq))
                {
                    string messageId = Convert.ToString(row[0], CultureInfo.InvariantCulture)!;
                    Assert.True(c.Frames.Any(f => f.Text.Contains(messageId, StringComparison.OrdinalIgnoreCase)), $"an envelope ({messageId}) was stored that no frame sent: {c}");
                    Assert.True(Limits.IsEnvelopeBucket(Convert.ToInt32(row[1], CultureInfo.InvariantCulture)), $"an envelope of {row[1]} bytes was stored: {c}");
                }
            });
        }
        finally
        {
            if (hub is not null)
            {
                await hub.DisposeAsync();
            }
        }

        await AssertRelayHealthyAsync();
        world.AssertNoErrorsSince(logs);
        Assert.True(closed < probes, "every case closed the connection: nothing reached the hub methods");
    }

    [Fact]
    public async Task Invocations_WithWrongArguments_GetAHubErrorOrAClose()
    {
        int logs = world.Relay.Logs.Count;
        Gen<(string Target, string Arguments)> cases =
            from target in Gen.Elements("Send", "Ack", "Fetch")
            from count in Gen.Choose(0, 3)
            from seed in Gens.Seeds
            let random = new System.Random(seed)
            select (target, string.Join(",", Enumerable.Range(0, count).Select(_ => JsonFuzz.BadValue(random, [world.Conversation]))));
        RawHub? hub = null;
        try
        {
            await Fuzzer.CheckAsync(100, Fuzzer.Cases(cases.Where(c => !Fits(c.Target, c.Arguments))), async c =>
            {
                hub ??= await RawHub.ConnectAsync(world.Relay.ServerAddress, world.Alice.Token);
                long stored = world.Relay.Count("SELECT COUNT(*) FROM Envelopes");
                await hub.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"bad\",\"target\":\"{c.Target}\",\"arguments\":[{c.Arguments}]}}{RawHub.Separator}"), binary: false);
                string? record = await hub.ReceiveAsync(s_answer);
                while (record is not null && Type(record) == 6)
                {
                    record = await hub.ReceiveAsync(s_answer);
                }

                if (record is null || Type(record) == 7)
                {
                    await hub.DisposeAsync();
                    hub = null;
                }
                else
                {
                    using JsonDocument completion = JsonDocument.Parse(record);
                    Assert.Equal(3, completion.RootElement.GetProperty("type").GetInt32());
                    Assert.True(completion.RootElement.TryGetProperty("error", out JsonElement error) && error.GetString() is { Length: > 0 },
                        $"{c.Target}({c.Arguments}) completed without an error: {record}");
                }

                Assert.Equal(stored, world.Relay.Count("SELECT COUNT(*) FROM Envelopes"));
            });
        }
        finally
        {
            if (hub is not null)
            {
                await hub.DisposeAsync();
            }
        }

        await AssertRelayHealthyAsync();
        world.AssertNoErrorsSince(logs);
    }

    [Fact]
    public async Task Handshakes_Arbitrary_AnsweredOrClosed()
    {
        int logs = world.Relay.Logs.Count;
        Gen<string> handshakes = Gen.OneOf(
            Gen.Elements(
                "{\"protocol\":\"messagepack\",\"version\":1}\u001e",
                "{\"protocol\":\"json\",\"version\":2}\u001e",
                "{\"protocol\":\"json\",\"version\":-1}\u001e",
                "{\"protocol\":\"json\"}\u001e",
                "{\"version\":1}\u001e",
                "{\"protocol\":null,\"version\":1}\u001e",
                "{\"protocol\":\"json\",\"version\":\"1\"}\u001e",
                "[]\u001e",
                "{}\u001e",
                "\u001e",
                "{\"protocol\":\"json\",\"version\":1}{\"type\":6}\u001e"),
            JsonFuzz.Documents(["protocol", "version", "type"]).Select(j => j.Text + RawHub.Separator),
            Gens.Strings(200).Select(s => s + RawHub.Separator));
        await Fuzzer.CheckAsync(50, Fuzzer.Cases(handshakes), async handshake =>
        {
            (RawHub hub, string? answer) = await RawHub.OpenAsync(world.Relay.ServerAddress, world.Alice.Token, handshake);
            await using (hub)
            {
                if (answer is not null)
                {
                    using JsonDocument document = JsonDocument.Parse(answer);
                    Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
                }
            }
        });
        await AssertRelayHealthyAsync();
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// The hub's HTTP side: negotiation, plain requests without an upgrade, odd methods, ids and
    /// query strings, with and without a session. Never a 5xx. (SignalR writes some refusals as plain
    /// text, so only the status is checked here.)
    /// </summary>
    [Fact]
    public async Task HubHttpRequests_NeverServerError()
    {
        int logs = world.Relay.Logs.Count;
        HttpMethod[] methods = [HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Options, HttpMethod.Patch];
        Gen<(HttpMethod Method, string Path, bool Token, Bytes Body)> cases =
            from method in Gen.Elements(methods)
            from suffix in Gen.Elements("", "/", "/negotiate", "/negotiate?negotiateVersion=1", "/negotiate?negotiateVersion=99", "/negotiate?negotiateVersion=x", "?id=", "/x")
            from query in Gen.OneOf(Gen.Constant(""), Gens.PathText(40).Select(t => (suffix.Contains('?', StringComparison.Ordinal) ? "&id=" : "?id=") + Uri.EscapeDataString(t)))
            from token in Gen.Elements(false, true)
            from body in Gens.Bytes(0, 300)
            select (method, RelayHubContract.Path + suffix + query, token, body);
        await Fuzzer.CheckAsync(60, Fuzzer.Cases(cases), async c =>
        {
            Answer answer = await world.SendAsync(c.Method, c.Path, c.Token ? world.Alice.Token : null, c.Method == HttpMethod.Get ? null : c.Body.Value);
            Assert.True(answer.Status < 500, $"server error for {c.Method} {c.Path}: {answer}");
        });
        await AssertRelayHealthyAsync();
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// A refused invocation is answered with a hub error and is not logged as an error: the
    /// refusal describes what the caller sent (for example "...; got 300"), and nothing a client
    /// sent is logged; nor can a signed-in device fill the error log this way.
    /// </summary>
    [Fact]
    public async Task RefusedInvocation_IsNotLoggedAsAnError()
    {
        int logs = world.Relay.Logs.Count;
        await using RawHub hub = await RawHub.ConnectAsync(world.Relay.ServerAddress, world.Alice.Token);
        await hub.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"refused\",\"target\":\"Send\",\"arguments\":[null]}}{RawHub.Separator}"), binary: false);
        string? record;
        do
        {
            record = await hub.ReceiveAsync(s_answer);
        }
        while (record is not null && Type(record) != 3);

        Assert.Contains("\"error\"", record, StringComparison.Ordinal);
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// A device that drops its connection right after the handshake (a phone going out of range)
    /// cancels the relay's OnConnectedAsync while it reads the device's conversations; that is not
    /// an error of the relay, and nothing is logged at Error level.
    /// </summary>
    [Fact]
    public async Task ConnectionDroppedAfterTheHandshake_IsNotLoggedAsAnError()
    {
        int logs = world.Relay.Logs.Count;
        for (int i = 0; i < 50; i++)
        {
            (RawHub hub, _) = await RawHub.OpenAsync(world.Relay.ServerAddress, world.Alice.Token, handshake: null);
            await hub.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), binary: false);
            await Task.Delay(i % 5);
            hub.Abort();
            await hub.DisposeAsync();
        }

        await AssertRelayHealthyAsync();
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// The SignalR protocol says a message of an unknown type is ignored. On the relay (which sets
    /// a maximum message size), a record such as <c>{"type":99}</c> is neither ignored nor refused:
    /// the connection stops processing everything that follows, answers nothing, and is never closed
    /// (the server keeps sending pings; the client timeout does not end it). Only that client's
    /// connection is affected, but the relay holds it, and what it buffers, for as long as the socket lives.
    /// </summary>
    [Theory(Skip = "ASP.NET Core SignalR stops reading a connection after a record of an unknown message type when MaximumReceiveMessageSize is set (dotnet/aspnetcore#69285, open); only the sender's own connection is affected.")]
    [InlineData("{\"type\":99}")]
    [InlineData("{\"type\":0}")]
    [InlineData("{\"type\":-1,\"target\":\"Fetch\",\"arguments\":[1],\"invocationId\":\"x\"}")]
    public async Task UnknownMessageType_ThenAnInvocation_IsAnsweredOrClosed(string unknown)
    {
        await using RawHub hub = await RawHub.ConnectAsync(world.Relay.ServerAddress, world.Alice.Token);
        await hub.SendAsync(Encoding.UTF8.GetBytes(unknown + RawHub.Separator), binary: false);
        await hub.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"after\",\"target\":\"Fetch\",\"arguments\":[1]}}{RawHub.Separator}"), binary: false);
        Assert.True(await ReadUntilProbeAsync(hub, "after", new HubCase([]), s_answer) || hub.Closed);
    }

    /// <summary>Whether a record of the case (as the server splits them) is a message of a type the protocol does not have.</summary>
    private static bool UnknownMessageType(HubCase c)
    {
        foreach (string record in string.Concat(c.Frames.Select(f => f.Text)).Split(RawHub.Separator))
        {
            try
            {
                using JsonDocument message = JsonDocument.Parse(record);
                if (message.RootElement.ValueKind == JsonValueKind.Object && message.RootElement.TryGetProperty("type", out JsonElement type)
                    && type.ValueKind == JsonValueKind.Number && (!type.TryGetInt32(out int value) || value is < 1 or > 9))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                // Not JSON, or a property name with a lone surrogate: not a message of any type.
            }
        }

        return false;
    }

    /// <summary>Reads records until the probe's completion (true) or the end of the connection (false); checks every other completion on the way.</summary>
    private static async Task<bool> ReadUntilProbeAsync(RawHub hub, string probe, HubCase c, TimeSpan wait)
    {
        while (true)
        {
            string? record;
            try
            {
                record = await hub.ReceiveAsync(wait);
            }
            catch (TimeoutException) when (wait == s_wedged)
            {
                // The known hang after a message of an unknown type (see UnknownMessageType_ThenAnInvocation_IsAnsweredOrClosed).
                return false;
            }

            if (record is null)
            {
                return false;
            }

            using JsonDocument message = JsonDocument.Parse(record);
            JsonElement root = message.RootElement;
            int type = root.GetProperty("type").GetInt32();
            if (type == 7)
            {
                // The server closes the connection after a Close message.
                return false;
            }

            if (type != 3)
            {
                continue;
            }

            string? id = root.TryGetProperty("invocationId", out JsonElement value) ? value.GetString() : null;
            if (id == probe)
            {
                Assert.False(root.TryGetProperty("error", out JsonElement error), $"the probe failed ({error}) after: {c}");
                return true;
            }
        }
    }

    /// <summary>
    /// Whether the arguments could be what the method takes: one number that binds to an int for
    /// Fetch; one object for Send and Ack (a random object may happen to be a valid envelope or
    /// acknowledgement, which is not an error). Those are left out; everything else must be refused.
    /// </summary>
    private static bool Fits(string target, string arguments)
    {
        try
        {
            using JsonDocument parsed = JsonDocument.Parse($"[{arguments}]");
            JsonElement array = parsed.RootElement;
            if (array.GetArrayLength() != 1)
            {
                return false;
            }

            if (target != "Fetch")
            {
                return array[0].ValueKind == JsonValueKind.Object;
            }

            _ = array[0].Deserialize<int>(RelayWorld.Json);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    private static int Type(string record)
    {
        using JsonDocument message = JsonDocument.Parse(record);
        return message.RootElement.GetProperty("type").GetInt32();
    }

    /// <summary>Another device's connection works and answers a Fetch; /healthz is 200.</summary>
    private async Task AssertRelayHealthyAsync()
    {
        await using RawHub other = await RawHub.ConnectAsync(world.Relay.ServerAddress, world.Bob.Token);
        await other.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"healthy\",\"target\":\"Fetch\",\"arguments\":[10]}}{RawHub.Separator}"), binary: false);
        string? record;
        do
        {
            record = await other.ReceiveAsync(s_answer);
            Assert.NotNull(record);
        }
        while (Type(record) != 3);

        using JsonDocument completion = JsonDocument.Parse(record);
        Assert.Equal("healthy", completion.RootElement.GetProperty("invocationId").GetString());
        Assert.True(completion.RootElement.TryGetProperty("result", out JsonElement result), record);
        Assert.Equal(JsonValueKind.Array, result.GetProperty("envelopes").ValueKind);

        Answer health = await world.SendAsync(HttpMethod.Get, "/healthz", null, null);
        Assert.Equal(200, health.Status);
    }
}
