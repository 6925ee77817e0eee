using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Durability;

/// <summary>
/// Kill -9 the real server process in the middle of a burst of sends, restart it on the same data
/// directory, and check the promise the relay makes to a sender: once <c>SendAsync</c> returned,
/// the envelope is delivered, exactly once per device, byte for byte, and a retry with the same
/// message id is answered as a duplicate with the same sequence number.
/// SIGKILL ends the process but not the machine: the operating system still writes out what the
/// process had written. So this proves the relay acknowledges only after its commit and recovers
/// from a torn batch; it does not prove the fsync (<c>synchronous=FULL</c>) against power loss.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private const int Cycles = 4;
    private const int Senders = 16;
    private const int MinAcknowledgedBeforeKill = 20;
    private const int AcknowledgedRetries = 5;

    /// <summary>Set to an integer to replay a run's kill delays and message sizes.</summary>
    private const string SeedVariable = "COORDINATION_DURABILITY_SEED";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly string _dataDirectory;

    public CrashRecoveryTests(ITestOutputHelper output)
    {
        _output = output;
        _dataDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", "durability-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDirectory);
    }

    [Fact]
    public async Task KillDuringSendBurst_EveryAcknowledgedSendIsDeliveredExactlyOncePerDevice()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        Random random = new(seed);
        Log(string.Create(CultureInfo.InvariantCulture, $"seed {seed} (set {SeedVariable}={seed} to replay kill delays and message sizes)"));
        Log($"server: dotnet {ServerProcess.LocateServerDll()}");
        Stopwatch total = Stopwatch.StartNew();

        using DeviceIdentity alice = DeviceIdentity.CreateAccount();
        using DeviceIdentity bob = DeviceIdentity.CreateAccount();
        ServerProcess server = await ServerProcess.StartAsync(_dataDirectory, s_startTimeout);
        Clients? clients = null;
        try
        {
            (clients, DeviceIdentity bobSecond, Guid conversation) = await SetUpAsync(server, alice, bob);
            using (bobSecond)
            {
                Dictionary<Guid, HashSet<Guid>> deliveredEver = clients.All.ToDictionary(d => d.Identity.DeviceId, _ => new HashSet<Guid>());
                for (int cycle = 1; cycle <= Cycles; cycle++)
                {
                    string context = string.Create(CultureInfo.InvariantCulture, $"seed {seed}, cycle {cycle}");
                    Stopwatch watch = Stopwatch.StartNew();

                    Burst burst = await SendUntilKilledAsync(server, clients.Alice.Api, conversation, random, cycle, context);
                    clients.Dispose();
                    clients = null;
                    server.Dispose();

                    Stopwatch restart = Stopwatch.StartNew();
                    server = await ServerProcess.StartAsync(_dataDirectory, s_startTimeout);
                    clients = await Clients.LogInAsync(server, alice, bob, bobSecond);
                    TimeSpan restartTime = restart.Elapsed;

                    Dictionary<Guid, long> expectedSeq = await RetryAfterRestartAsync(clients.Alice.Api, burst, random, context);
                    foreach (Device device in clients.All)
                    {
                        List<EnvelopeDelivery> delivered = await DrainAsync(device, context);
                        VerifyDeliveries(device, delivered, burst, expectedSeq, deliveredEver[device.Identity.DeviceId], conversation, server, context);
                    }

                    Log(string.Create(CultureInfo.InvariantCulture,
                        $"cycle {cycle}: killed {burst.KillAfter.TotalMilliseconds:0} ms into the burst; {burst.Acknowledged.Count} acknowledged, " +
                        $"{burst.Attempted.Count - burst.Acknowledged.Count} unanswered ({burst.InDoubtCommitted} of them had been committed: duplicates on retry), " +
                        $"{burst.ErrorsAfterKill} sender errors after the kill; restart {restartTime.TotalMilliseconds:0} ms; " +
                        $"cycle {watch.Elapsed.TotalMilliseconds:0} ms"));
                }
            }
        }
        finally
        {
            clients?.Dispose();
            server.Dispose();
        }

        Log(string.Create(CultureInfo.InvariantCulture, $"{Cycles} kill/restart cycles in {total.Elapsed.TotalSeconds:0.0} s"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Alice (one device) and Bob (two devices, the second linked by code) in a direct conversation.</summary>
    private static async Task<(Clients Clients, DeviceIdentity BobSecond, Guid Conversation)> SetUpAsync(ServerProcess server, DeviceIdentity alice, DeviceIdentity bob)
    {
        RelayApi aliceApi = server.CreateApi();
        RelayApi bobApi = server.CreateApi();
        RelayApi bobSecondApi = server.CreateApi();
        await aliceApi.RegisterAccountAsync(alice).WaitAsync(s_timeout);
        await aliceApi.LoginAsync(alice).WaitAsync(s_timeout);
        await bobApi.RegisterAccountAsync(bob).WaitAsync(s_timeout);
        await bobApi.LoginAsync(bob).WaitAsync(s_timeout);

        using DeviceLinkCode code = DeviceLinkCode.Create();
        byte[] accountSeed = new byte[32];
        bob.AccountKey.ExportSeed(accountSeed);
        await bobApi.CreateLinkCodeAsync(code, accountSeed).WaitAsync(s_timeout);
        LinkCodeOffer offer = await bobSecondApi.GetLinkCodeAsync(code).WaitAsync(s_timeout);
        Assert.True(code.TryOpen(offer.Payload, out byte[]? transferredSeed));
        DeviceIdentity bobSecond = DeviceIdentity.ForExistingAccount(transferredSeed);
        await bobSecondApi.LinkDeviceAsync(code, bobSecond).WaitAsync(s_timeout);
        await bobSecondApi.LoginAsync(bobSecond).WaitAsync(s_timeout);

        Guid conversation = (await aliceApi.OpenDirectConversationAsync(bob.AccountId).WaitAsync(s_timeout)).ConversationId;
        List<RecipientDevice> devices = await aliceApi.ListRecipientDevicesAsync(conversation).WaitAsync(s_timeout);
        Assert.Equal(
            new[] { alice.DeviceId, bob.DeviceId, bobSecond.DeviceId }.Order(),
            devices.Select(d => d.Device.DeviceId).Order());

        Clients clients = new(new Device("alice", alice, aliceApi), new Device("bob", bob, bobApi), new Device("bob's second device", bobSecond, bobSecondApi));
        return (clients, bobSecond, conversation);
    }

    /// <summary>
    /// <see cref="Senders"/> concurrent senders send distinct envelopes; after a random 200–800 ms
    /// (and at least <see cref="MinAcknowledgedBeforeKill"/> acknowledgements) the server gets
    /// SIGKILL. Only sends whose <c>SendAsync</c> returned count as acknowledged.
    /// </summary>
    private static async Task<Burst> SendUntilKilledAsync(ServerProcess server, RelayApi api, Guid conversation, Random random, int cycle, string context)
    {
        Burst burst = new();
        int[] senderSeeds = [.. Enumerable.Range(0, Senders).Select(_ => random.Next())];
        TimeSpan killAfter = TimeSpan.FromMilliseconds(random.Next(200, 801));
        Stopwatch elapsed = Stopwatch.StartNew();
        Task[] senders = [.. senderSeeds.Select((senderSeed, sender) => Task.Run(() => SendLoopAsync(api, conversation, burst, new Random(senderSeed), cycle, sender)))];

        await Task.Delay(killAfter);
        Stopwatch waitForAcks = Stopwatch.StartNew();
        while (burst.Acknowledged.Count < MinAcknowledgedBeforeKill && waitForAcks.Elapsed < s_timeout && !senders.Any(t => t.IsCompleted))
        {
            await Task.Delay(10);
        }

        // A sender that stopped before the kill either failed an assertion (rethrown here) or saw an error.
        await Task.WhenAll(senders.Where(t => t.IsCompleted));
        Assert.True(burst.ErrorsBeforeKill.IsEmpty && senders.All(t => !t.IsCompleted), string.Create(CultureInfo.InvariantCulture,
            $"{context}: sends failed before the server was killed: {Describe(burst.ErrorsBeforeKill)}{Environment.NewLine}{server.Output}"));
        Assert.True(burst.Acknowledged.Count >= MinAcknowledgedBeforeKill, string.Create(CultureInfo.InvariantCulture,
            $"{context}: only {burst.Acknowledged.Count} sends acknowledged {elapsed.Elapsed.TotalSeconds:0.0} s into the burst.{Environment.NewLine}{server.Output}"));

        burst.KillAfter = elapsed.Elapsed;
        Volatile.Write(ref burst.Killed, 1);
        int exitCode = await server.KillAsync(s_timeout);
        await Task.WhenAll(senders).WaitAsync(s_timeout);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(exitCode == 128 + 9, string.Create(CultureInfo.InvariantCulture, $"{context}: the server exited with {exitCode}, not by SIGKILL (137)."));
        }

        Assert.True(burst.ErrorsBeforeKill.IsEmpty, string.Create(CultureInfo.InvariantCulture,
            $"{context}: sends failed before the server was killed: {Describe(burst.ErrorsBeforeKill)}{Environment.NewLine}{server.Output}"));
        Assert.True(burst.ErrorsAfterKill == Senders, string.Create(CultureInfo.InvariantCulture, $"{context}: {burst.ErrorsAfterKill} of {Senders} senders saw the kill."));
        return burst;
    }

    private static async Task SendLoopAsync(RelayApi api, Guid conversation, Burst burst, Random random, int cycle, int sender)
    {
        // Sends until a send fails: the kill, whenever it comes, finds every sender mid-send.
        for (int i = 0; ; i++)
        {
            SendEnvelope envelope = TestDevice.Envelope(conversation, MessageText(random, cycle, sender, i));
            Assert.True(burst.Attempted.TryAdd(envelope.MessageId, envelope));
            try
            {
                SendResult result = await api.SendAsync(envelope).WaitAsync(s_timeout);
                Assert.Equal(envelope.MessageId, result.MessageId);
                Assert.False(result.Duplicate, $"A first send of {envelope.MessageId} was answered as a duplicate.");
                Assert.True(burst.Acknowledged.TryAdd(envelope.MessageId, result));
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or TimeoutException or RelayApiException or JsonException)
            {
                if (Volatile.Read(ref burst.Killed) == 0)
                {
                    burst.ErrorsBeforeKill.Enqueue(ex);
                }
                else
                {
                    Interlocked.Increment(ref burst.ErrorsAfterKill);
                }

                return;
            }
        }
    }

    /// <summary>Mostly short messages, some that need the 1 KiB and 4 KiB buckets.</summary>
    private static string MessageText(Random random, int cycle, int sender, int index)
    {
        int roll = random.Next(100);
        int length = roll < 80 ? random.Next(1, 200) : roll < 95 ? random.Next(300, 950) : random.Next(1200, 4000);
        string label = string.Create(CultureInfo.InvariantCulture, $"cycle {cycle} sender {sender} message {index} ");
        return label.Length >= length ? label : label + new string('.', length - label.Length);
    }

    /// <summary>
    /// What a client does after reconnecting: it retries every send it has no answer for, and (to
    /// prove idempotency survived the crash) a few it does. Returns the seq each message must have.
    /// </summary>
    private static async Task<Dictionary<Guid, long>> RetryAfterRestartAsync(RelayApi api, Burst burst, Random random, string context)
    {
        Dictionary<Guid, long> expectedSeq = burst.Acknowledged.ToDictionary(p => p.Key, p => p.Value.Seq);
        Guid[] acknowledged = [.. burst.Acknowledged.Keys.Order()];
        random.Shuffle(acknowledged);
        foreach (Guid id in acknowledged.Take(AcknowledgedRetries))
        {
            SendResult retry = await api.SendAsync(burst.Attempted[id]).WaitAsync(s_timeout);
            Assert.True(retry.Duplicate, string.Create(CultureInfo.InvariantCulture,
                $"{context}: the retry of acknowledged {id} (seq {expectedSeq[id]}) after the restart was stored again as seq {retry.Seq}."));
            Assert.True(expectedSeq[id] == retry.Seq, string.Create(CultureInfo.InvariantCulture,
                $"{context}: the retry of acknowledged {id} after the restart answered seq {retry.Seq}; the first send got {expectedSeq[id]}."));
        }

        foreach (Guid id in burst.Attempted.Keys.Where(id => !burst.Acknowledged.ContainsKey(id)).Order())
        {
            SendResult retry = await api.SendAsync(burst.Attempted[id]).WaitAsync(s_timeout);
            Assert.Equal(id, retry.MessageId);
            if (retry.Duplicate)
            {
                burst.InDoubtCommitted++;
            }

            expectedSeq[id] = retry.Seq;
        }

        return expectedSeq;
    }

    /// <summary>Fetches and acknowledges page by page until the device's inbox is empty.</summary>
    private static async Task<List<EnvelopeDelivery>> DrainAsync(Device device, string context)
    {
        List<EnvelopeDelivery> delivered = [];
        for (int page = 0; page < 1000; page++)
        {
            InboxPage inbox = await device.Api.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(s_timeout);
            if (inbox.Envelopes.Count == 0)
            {
                Assert.False(inbox.More, $"{context}: {device.Name}'s inbox page is empty but says there is more.");
                return delivered;
            }

            delivered.AddRange(inbox.Envelopes);
            List<Ack> acks = [.. inbox.Envelopes.GroupBy(e => e.ConversationId).Select(g => new Ack(g.Key, g.Max(e => e.Seq)))];
            await device.Api.AckAsync(acks).WaitAsync(s_timeout);
        }

        Assert.Fail($"{context}: {device.Name}'s inbox did not drain in 1000 pages.");
        return delivered;
    }

    private static void VerifyDeliveries(
        Device device,
        List<EnvelopeDelivery> delivered,
        Burst burst,
        Dictionary<Guid, long> expectedSeq,
        HashSet<Guid> deliveredEver,
        Guid conversation,
        ServerProcess server,
        string context)
    {
        string where = $"{context}, {device.Name}";
        HashSet<Guid> seen = [];
        foreach (EnvelopeDelivery envelope in delivered)
        {
            Assert.True(conversation == envelope.ConversationId, $"{where}: an envelope of another conversation {envelope.ConversationId} was delivered.");
            Assert.True(deliveredEver.Add(envelope.MessageId) && seen.Add(envelope.MessageId),
                string.Create(CultureInfo.InvariantCulture, $"{where}: {envelope.MessageId} (seq {envelope.Seq}) was delivered to this device a second time."));
            Assert.True(burst.Attempted.TryGetValue(envelope.MessageId, out SendEnvelope? sent),
                string.Create(CultureInfo.InvariantCulture, $"{where}: {envelope.MessageId} (seq {envelope.Seq}) was delivered but never sent in this cycle."));
            Assert.True(sent.Ciphertext.AsSpan().SequenceEqual(envelope.Ciphertext),
                string.Create(CultureInfo.InvariantCulture,
                    $"{where}: the ciphertext delivered for {envelope.MessageId} (seq {envelope.Seq}, {envelope.Ciphertext.Length} bytes) differs from the {sent.Ciphertext.Length} bytes sent."));
            Assert.True(expectedSeq[envelope.MessageId] == envelope.Seq,
                string.Create(CultureInfo.InvariantCulture,
                    $"{where}: {envelope.MessageId} was delivered as seq {envelope.Seq}; the relay acknowledged it as seq {expectedSeq[envelope.MessageId]}."));
        }

        List<KeyValuePair<Guid, SendResult>> lost = [.. burst.Acknowledged.Where(p => !seen.Contains(p.Key)).OrderBy(p => p.Value.Seq)];
        Assert.True(lost.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{where}: {lost.Count} of {burst.Acknowledged.Count} acknowledged sends were not delivered after the crash, e.g. " +
            $"{string.Join(", ", lost.Take(10).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} (seq {p.Value.Seq})")))}.{Environment.NewLine}{server.Output}"));

        List<Guid> missing = [.. burst.Attempted.Keys.Where(id => !seen.Contains(id))];
        Assert.True(missing.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{where}: {missing.Count} sends retried after the restart were not delivered, e.g. {string.Join(", ", missing.Take(10))}."));
    }

    private static string Describe(IEnumerable<Exception> errors) =>
        string.Join("; ", errors.Take(5).Select(e => $"{e.GetType().Name}: {e.Message}"));

    private void Log(string line) => _output.WriteLine(line);

    private sealed class Burst
    {
        public int Killed;
        public int ErrorsAfterKill;

        public ConcurrentDictionary<Guid, SendEnvelope> Attempted { get; } = new();

        public ConcurrentDictionary<Guid, SendResult> Acknowledged { get; } = new();

        public ConcurrentQueue<Exception> ErrorsBeforeKill { get; } = new();

        public TimeSpan KillAfter { get; set; }

        public int InDoubtCommitted { get; set; }
    }

    private sealed record Device(string Name, DeviceIdentity Identity, RelayApi Api);

    /// <summary>One logged-in client per device, for one server process.</summary>
    private sealed class Clients(Device alice, Device bob, Device bobSecond) : IDisposable
    {
        public Device Alice { get; } = alice;

        public IReadOnlyList<Device> All { get; } = [alice, bob, bobSecond];

        public static async Task<Clients> LogInAsync(ServerProcess server, DeviceIdentity alice, DeviceIdentity bob, DeviceIdentity bobSecond)
        {
            Device[] devices = [new("alice", alice, server.CreateApi()), new("bob", bob, server.CreateApi()), new("bob's second device", bobSecond, server.CreateApi())];
            Clients clients = new(devices[0], devices[1], devices[2]);
            try
            {
                foreach (Device device in devices)
                {
                    await device.Api.LoginAsync(device.Identity).WaitAsync(s_timeout);
                }

                return clients;
            }
            catch
            {
                clients.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (Device device in All)
            {
                device.Api.Dispose();
            }
        }
    }
}
