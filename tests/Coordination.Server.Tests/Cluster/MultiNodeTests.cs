using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Hub;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Tests.Durability;
using Coordination.Server.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Cluster;

/// <summary>
/// Two real relay processes on two loopback ports share one real PostgreSQL database: people
/// connected to different nodes talk live, membership changes, revocations, ended sessions and
/// task releases reach the connections of the other node, the task policy holds whichever node is
/// asked, and a node killed in the middle of a burst loses nothing it acknowledged.
/// </summary>
public sealed class MultiNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly string _pepper = Convert.ToBase64String(SecureRandom.Bytes(32));
    private readonly List<string> _directories = [];
    private string? _database;
    private ServerProcess? _a;
    private ServerProcess? _b;

    private ServerProcess A => _a ?? throw new InvalidOperationException("Node A is not running.");

    private ServerProcess B => _b ?? throw new InvalidOperationException("Node B is not running.");

    public async Task InitializeAsync()
    {
        if (TestDatabase.PostgresAdmin is not { } admin)
        {
            return;
        }

        _database = "coord_nodes_" + Guid.NewGuid().ToString("N");
        await using (NpgsqlConnection connection = new(admin))
        {
            await connection.OpenAsync();
            await using NpgsqlCommand create = new($"CREATE DATABASE \"{_database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        _a = await StartNodeAsync();
        _b = await StartNodeAsync();
    }

    public async Task DisposeAsync()
    {
        _a?.Dispose();
        _b?.Dispose();
        if (_database is not null && TestDatabase.PostgresAdmin is { } admin)
        {
            await using NpgsqlConnection connection = new(admin);
            await connection.OpenAsync();
            await using NpgsqlCommand drop = new($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }

        foreach (string directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [PostgresFact]
    public async Task People_on_different_nodes_talk_live_and_a_revocation_or_logout_on_one_node_holds_on_the_other()
    {
        using DeviceIdentity alice = DeviceIdentity.CreateAccount();
        using DeviceIdentity bob = DeviceIdentity.CreateAccount();
        RelayApi aliceOnA = await SignUpAsync(A, alice);
        RelayApi bobOnB = await SignUpAsync(B, bob);

        // Bob listens on node B; Alice opens a conversation with him on node A.
        Listener bobHub = await Listener.ConnectAsync(B, bobOnB.Token!);
        await using (bobHub)
        {
            Guid conversation = (await aliceOnA.OpenDirectConversationAsync(bob.AccountId).WaitAsync(s_timeout)).ConversationId;
            ConversationInfo added = await bobHub.Added.Reader.ReadAsync().AsTask().WaitAsync(s_timeout);
            Assert.Equal(conversation, added.ConversationId);

            Listener aliceHub = await Listener.ConnectAsync(A, aliceOnA.Token!);
            await using (aliceHub)
            {
                // A to B over the hub, B to A over REST: each pushed live on the other node.
                SendEnvelope toBob = TestDevice.Envelope(conversation, "from node A");
                SendResult sent = await aliceHub.Connection.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [toBob], None).WaitAsync(s_timeout);
                EnvelopeDelivery atBob = await bobHub.Envelopes.Reader.ReadAsync().AsTask().WaitAsync(s_timeout);
                Assert.Equal((toBob.MessageId, sent.Seq), (atBob.MessageId, atBob.Seq));
                Assert.Equal(toBob.Ciphertext, atBob.Ciphertext);

                SendEnvelope toAlice = TestDevice.Envelope(conversation, "from node B");
                await bobOnB.SendAsync(toAlice).WaitAsync(s_timeout);
                EnvelopeDelivery atAlice = await aliceHub.Envelopes.Reader.ReadAsync().AsTask().WaitAsync(s_timeout);
                Assert.Equal(toAlice.MessageId, atAlice.MessageId);
            }
        }

        // Bob's second device signs in on node B and listens there; his first device revokes it on node A.
        using DeviceIdentity bobSecond = await LinkAsync(bobOnB, bob, B);
        RelayApi secondOnB = B.CreateApi();
        await secondOnB.LoginAsync(bobSecond).WaitAsync(s_timeout);
        Listener secondHub = await Listener.ConnectAsync(B, secondOnB.Token!);
        await using (secondHub)
        {
            await secondOnB.ListDevicesAsync().WaitAsync(s_timeout); // its session is now cached on node B
            RelayApi bobOnA = A.CreateApi();
            await bobOnA.LoginAsync(bob).WaitAsync(s_timeout);
            await bobOnA.RevokeDeviceAsync(bobSecond.DeviceId).WaitAsync(s_timeout);

            await secondHub.Connection.ConnectionClosed.WaitAsync(s_timeout);
            RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => secondOnB.ListDevicesAsync().WaitAsync(s_timeout));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        }

        // A session used on node A and ended on node B is refused on node A at once.
        RelayApi aliceOnB = B.CreateApi();
        await aliceOnB.LoginAsync(alice).WaitAsync(s_timeout);
        using HttpClient sameTokenOnA = new() { BaseAddress = A.Address, Timeout = s_timeout };
        sameTokenOnA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", aliceOnB.Token);
        Assert.Equal(HttpStatusCode.OK, (await sameTokenOnA.GetAsync(new Uri("api/v1/devices", UriKind.Relative))).StatusCode);
        await aliceOnB.LogoutAsync().WaitAsync(s_timeout);
        await Eventually(async () => (await sameTokenOnA.GetAsync(new Uri("api/v1/devices", UriKind.Relative))).StatusCode == HttpStatusCode.Unauthorized,
            "the session ended on node B is still accepted on node A");
    }

    [PostgresFact]
    public async Task The_task_policy_holds_on_every_node_and_a_release_reaches_the_organizer_on_the_other_node()
    {
        string stores = NewDirectory();
        using DeviceIdentity olgaIdentity = DeviceIdentity.CreateAccount();
        using DeviceIdentity annaIdentity = DeviceIdentity.CreateAccount();
        RelayApi olgaOnA = await SignUpAsync(A, olgaIdentity);
        RelayApi annaOnB = await SignUpAsync(B, annaIdentity);
        using LocalMessageStore olgaStore = LocalMessageStore.Open(Path.Combine(stores, "olga"), SecureRandom.Bytes(32));
        using LocalMessageStore annaStore = LocalMessageStore.Open(Path.Combine(stores, "anna"), SecureRandom.Bytes(32));
        CellClient olga = new(olgaIdentity, olgaOnA, olgaStore);
        CellClient anna = new(annaIdentity, annaOnB, annaStore);

        // The cell is founded on node A; Anna joins through node B and her connection there hears of it.
        CellView cell = await olga.CreateAsync(ConversationKind.Cell, "Border cell", null, "Olga", null, None).WaitAsync(s_timeout);
        Listener annaHub = await Listener.ConnectAsync(B, annaOnB.Token!);
        await using (annaHub)
        {
            string code = await olga.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.High, 1, TimeSpan.FromHours(1), 0, None).WaitAsync(s_timeout);
            JoinResult joined = await anna.JoinAsync(code, "Anna", None).WaitAsync(s_timeout);
            Assert.True(joined.Admitted);
            Guid annaMembership = joined.Cell!.Membership.MembershipId;
            // The cell's conversation and its announcements both reach her connection on node B.
            HashSet<Guid> added = [];
            while (!added.Contains(cell.CellId))
            {
                added.Add((await annaHub.Added.Reader.ReadAsync().AsTask().WaitAsync(s_timeout)).ConversationId);
            }

            // A task above her ceiling is refused whichever node is asked.
            TaskClient olgaTasks = new(olga);
            TaskView critical = await olgaTasks.CreateAsync(cell.CellId, RiskLevel.Critical, "Meet the lawyer", null, [], 1, null, None).WaitAsync(s_timeout);
            RelayApiException onA = await Assert.ThrowsAsync<RelayApiException>(() => olgaTasks.OfferAsync(critical.TaskId, annaMembership, None).WaitAsync(s_timeout));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, onA.Status);
            RelayApi olgaOnB = B.CreateApi();
            await olgaOnB.LoginAsync(olgaIdentity).WaitAsync(s_timeout);
            RelayApiException onB = await Assert.ThrowsAsync<RelayApiException>(() => olgaOnB.OfferTaskAsync(critical.TaskId, new OfferTaskRequest(annaMembership, null, null), None).WaitAsync(s_timeout));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, onB.Status);

            // A high-risk task offered on node A, accepted on node B; Olga also listens on node B.
            TaskView high = await olgaTasks.CreateAsync(cell.CellId, RiskLevel.High, "Hand out the newspaper", null, [], 1, null, None).WaitAsync(s_timeout);
            await olgaTasks.OfferAsync(high.TaskId, annaMembership, None).WaitAsync(s_timeout);
            await new TaskClient(anna).AcceptAsync(high.TaskId, None).WaitAsync(s_timeout);
            Listener olgaHubOnB = await Listener.ConnectAsync(B, olgaOnB.Token!);
            await using (olgaHubOnB)
            {
                // Lowering her ceiling on node A releases the task; the notice reaches Olga's connection on node B.
                await olga.SetCeilingAsync(cell.CellId, annaMembership, RiskLevel.Elevated, None).WaitAsync(s_timeout);
                TaskReleased notice = await olgaHubOnB.Released.Reader.ReadAsync().AsTask().WaitAsync(s_timeout);
                Assert.Equal((high.TaskId, annaMembership), (notice.TaskId, notice.MembershipId));
                Assert.Contains("ceiling is now elevated", notice.Reason, StringComparison.Ordinal);
                RelayApiException again = await Assert.ThrowsAsync<RelayApiException>(() => olgaOnB.OfferTaskAsync(high.TaskId, new OfferTaskRequest(annaMembership, null, null), None).WaitAsync(s_timeout));
                Assert.Equal(HttpStatusCode.UnprocessableEntity, again.Status);
            }
        }
    }

    [PostgresFact]
    public async Task A_node_killed_mid_stream_loses_nothing_it_acknowledged()
    {
        using DeviceIdentity alice = DeviceIdentity.CreateAccount();
        using DeviceIdentity bob = DeviceIdentity.CreateAccount();
        RelayApi aliceOnA = await SignUpAsync(A, alice);
        RelayApi bobOnB = await SignUpAsync(B, bob);
        Guid conversation = (await aliceOnA.OpenDirectConversationAsync(bob.AccountId).WaitAsync(s_timeout)).ConversationId;
        Listener bobHub = await Listener.ConnectAsync(B, bobOnB.Token!);
        await using (bobHub)
        {
            // Eight senders on node A until it is killed, at least 30 sends in.
            ConcurrentDictionary<Guid, SendEnvelope> attempted = new();
            ConcurrentDictionary<Guid, long> acknowledged = new();
            int killed = 0;
            Task[] senders = [.. Enumerable.Range(0, 8).Select(sender => Task.Run(async () =>
            {
                for (int i = 0; ; i++)
                {
                    SendEnvelope envelope = TestDevice.Envelope(conversation, string.Create(CultureInfo.InvariantCulture, $"sender {sender} message {i}"));
                    attempted[envelope.MessageId] = envelope;
                    try
                    {
                        SendResult result = await aliceOnA.SendAsync(envelope).WaitAsync(s_timeout);
                        acknowledged[envelope.MessageId] = result.Seq;
                    }
                    catch (Exception) when (Volatile.Read(ref killed) == 1)
                    {
                        return;
                    }
                }
            }))];

            Stopwatch waited = Stopwatch.StartNew();
            while (acknowledged.Count < 30 && waited.Elapsed < s_timeout)
            {
                await Task.Delay(10);
            }

            await Task.Delay(Random.Shared.Next(50, 300));
            Assert.True(acknowledged.Count >= 30, $"only {acknowledged.Count} sends were acknowledged by node A");
            Volatile.Write(ref killed, 1);
            await A.KillAsync(s_timeout);
            await Task.WhenAll(senders).WaitAsync(s_timeout);
            Dictionary<Guid, long> acked = new(acknowledged);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"node A killed after {acked.Count} acknowledged of {attempted.Count} attempted sends"));

            // Every acknowledged envelope was pushed live to Bob on node B, in order, exactly once...
            Dictionary<Guid, long> live = [];
            while (live.Count < acked.Count)
            {
                EnvelopeDelivery pushed = await bobHub.Envelopes.Reader.ReadAsync().AsTask().WaitAsync(s_timeout);
                Assert.True(live.TryAdd(pushed.MessageId, pushed.Seq), $"{pushed.MessageId} was pushed twice");
            }

            Assert.All(acked, a => Assert.Equal(a.Value, live.GetValueOrDefault(a.Key)));

            // ...and is in his inbox on node B; Alice retries the unanswered ones on node B with the same ids.
            RelayApi aliceOnB = B.CreateApi();
            await aliceOnB.LoginAsync(alice).WaitAsync(s_timeout);
            foreach (SendEnvelope unanswered in attempted.Values.Where(e => !acked.ContainsKey(e.MessageId)))
            {
                SendResult retried = await aliceOnB.SendAsync(unanswered).WaitAsync(s_timeout);
                Assert.Equal(unanswered.MessageId, retried.MessageId);
            }

            List<EnvelopeDelivery> inbox = await DrainAsync(bobOnB);
            Assert.Equal(inbox.Count, inbox.Select(e => e.MessageId).Distinct().Count());
            Assert.Equal(attempted.Keys.Order(), inbox.Select(e => e.MessageId).Order());
            Assert.All(acked, a => Assert.Equal(a.Value, inbox.Single(e => e.MessageId == a.Key).Seq));
            Assert.All(inbox, e => Assert.Equal(attempted[e.MessageId].Ciphertext, e.Ciphertext));
        }
    }

    private async Task<ServerProcess> StartNodeAsync()
    {
        string connection = new NpgsqlConnectionStringBuilder(TestDatabase.PostgresAdmin!) { Database = _database, MaxPoolSize = 20 }.ConnectionString;
        return await ServerProcess.StartAsync(NewDirectory(), s_startTimeout,
        [
            "--Database:Provider=Postgres",
            $"--ConnectionStrings:Coordination={connection}",
            $"--Intake:Pepper={_pepper}",
            "--Relay:SweepInterval=00:00:00.200",
            "--RateLimits:InviteAttemptsPerMinute=10000",
        ]);
    }

    private string NewDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "coordination-tests", "nodes-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        _directories.Add(directory);
        return directory;
    }

    private static async Task<RelayApi> SignUpAsync(ServerProcess node, DeviceIdentity identity)
    {
        RelayApi api = node.CreateApi();
        await api.RegisterAccountAsync(identity).WaitAsync(s_timeout);
        await api.LoginAsync(identity).WaitAsync(s_timeout);
        return api;
    }

    /// <summary>A second device for the account, linked by code through <paramref name="node"/>.</summary>
    private static async Task<DeviceIdentity> LinkAsync(RelayApi existing, DeviceIdentity account, ServerProcess node)
    {
        using DeviceLinkCode code = DeviceLinkCode.Create();
        byte[] accountSeed = new byte[32];
        account.AccountKey.ExportSeed(accountSeed);
        await existing.CreateLinkCodeAsync(code, accountSeed).WaitAsync(s_timeout);
        RelayApi newcomer = node.CreateApi();
        LinkCodeOffer offer = await newcomer.GetLinkCodeAsync(code).WaitAsync(s_timeout);
        Assert.True(code.TryOpen(offer.Payload, out byte[]? transferred));
        DeviceIdentity second = DeviceIdentity.ForExistingAccount(transferred);
        await newcomer.LinkDeviceAsync(code, second).WaitAsync(s_timeout);
        return second;
    }

    private static async Task<List<EnvelopeDelivery>> DrainAsync(RelayApi api)
    {
        List<EnvelopeDelivery> delivered = [];
        for (int page = 0; page < 1000; page++)
        {
            InboxPage inbox = await api.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(s_timeout);
            if (inbox.Envelopes.Count == 0)
            {
                return delivered;
            }

            delivered.AddRange(inbox.Envelopes);
            await api.AckAsync([.. inbox.Envelopes.GroupBy(e => e.ConversationId).Select(g => new Ack(g.Key, g.Max(e => e.Seq)))]).WaitAsync(s_timeout);
        }

        Assert.Fail("the inbox did not drain in 1000 pages");
        return delivered;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string failure)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < s_timeout, failure);
            await Task.Delay(50);
        }
    }

    /// <summary>A hub connection to one node with what it was pushed, by kind.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private Listener(HubConnection connection, Channel<EnvelopeDelivery> envelopes, Channel<ConversationInfo> added, Channel<TaskReleased> released)
        {
            Connection = connection;
            Envelopes = envelopes;
            Added = added;
            Released = released;
        }

        public HubConnection Connection { get; }

        public Channel<EnvelopeDelivery> Envelopes { get; }

        public Channel<ConversationInfo> Added { get; }

        public Channel<TaskReleased> Released { get; }

        public static async Task<Listener> ConnectAsync(ServerProcess node, string token)
        {
            Channel<EnvelopeDelivery> envelopes = Channel.CreateUnbounded<EnvelopeDelivery>();
            Channel<ConversationInfo> added = Channel.CreateUnbounded<ConversationInfo>();
            Channel<TaskReleased> released = Channel.CreateUnbounded<TaskReleased>();
            HubConnection connection = await HubConnection.ConnectAsync(new Uri(node.Address, RelayHubContract.Path), token, null, hub =>
            {
                hub.On<EnvelopeDelivery>(nameof(IRelayClient.ReceiveEnvelope), e => envelopes.Writer.WriteAsync(e).AsTask());
                hub.On<ConversationInfo>(nameof(IRelayClient.ConversationAdded), c => added.Writer.WriteAsync(c).AsTask());
                hub.On<TaskReleased>(nameof(IRelayClient.TaskReleased), t => released.Writer.WriteAsync(t).AsTask());
            }, None).WaitAsync(s_timeout);
            return new Listener(connection, envelopes, added, released);
        }

        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }
}
