using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Coordination.Client.Cells;
using Coordination.Client.Hub;
using Coordination.Client.Identity;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Tests.Infrastructure;
using Coordination.Server.Tests.Intake;

namespace Coordination.Server.Tests.Authorization;

/// <summary>
/// The rest of the authorization matrix: every endpoint outside the cells' own (those are in
/// <c>Cells/CellAuthorizationMatrixTests.cs</c>) and every hub method, called as anonymous, as a
/// revoked device, as a member of another cell, as a newcomer, as a member and as an organizer,
/// each with the exact status it must get. "Member" and "organizer" share a direct conversation;
/// the newcomer and the other cell's member are not in it. Together the two matrices cover the
/// whole OpenAPI document: an endpoint or a hub method without a row fails this test.
/// </summary>
public sealed class RelayAuthorizationMatrixTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private const int Unauthorized = 401;
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Path prefixes whose every endpoint has its row in the cell matrix (which checks its own completeness).</summary>
    private static readonly string[] s_cellMatrixPrefixes = ["/api/v1/cells", "/api/v1/invites", "/api/v1/tasks", "/api/v1/intake-reports"];

    private enum Actor
    {
        Anonymous,
        Revoked,
        OtherCell,
        Newcomer,
        Member,
        Organizer,
    }

    [Fact]
    public async Task Every_other_endpoint_answers_each_actor_exactly_as_specified_and_none_is_left_out()
    {
        await using World world = await World.CreateAsync(relay);
        List<Row> rows = world.Rows();
        List<string> mismatches = [];
        foreach (Row row in rows)
        {
            foreach ((Actor actor, int expected) in row.Expected)
            {
                int actual = await world.CallAsync(actor, row).WaitAsync(TestTimeouts.Default);
                if (actual != expected)
                {
                    mismatches.Add($"{row.Method} {row.Template} as {actor}: expected {expected}, got {actual}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        using HttpClient http = relay.CreateRealClient();
        using JsonDocument openApi = JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)).WaitAsync(TestTimeouts.Default));
        List<string> documented = [.. openApi.RootElement.GetProperty("paths").EnumerateObject()
            .Where(p => !s_cellMatrixPrefixes.Any(prefix => p.Name.StartsWith(prefix, StringComparison.Ordinal)))
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name.TrimEnd('/')}"))];
        HashSet<string> covered = [.. rows.Select(r => $"{r.Method} {r.Template}")];
        List<string> missing = [.. documented.Where(d => !covered.Contains(d))];
        Assert.True(documented.Count > 10, $"only {documented.Count} endpoints were read from the OpenAPI document");
        Assert.True(missing.Count == 0, "Endpoints without a row in either matrix: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task Every_hub_method_answers_each_actor_exactly_as_specified()
    {
        await using World world = await World.CreateAsync(relay);
        Uri hub = new(relay.ServerAddress, RelayHubContract.Path);

        // No hub at all without a valid session: anonymous and revoked are refused at the door.
        foreach (Actor actor in (Actor[])[Actor.Anonymous, Actor.Revoked])
        {
            string? token = actor == Actor.Anonymous ? null : world.Device(actor).Api.Token;
            System.Net.WebSockets.WebSocketException refused = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(
                () => HubConnection.ConnectAsync(hub, token, null, None).WaitAsync(TestTimeouts.Default));
            Assert.Contains("'401'", refused.Message, StringComparison.Ordinal);
        }

        // Send and Ack on the direct conversation: only its two participants; Fetch: everyone, for their own inbox.
        Dictionary<string, Func<HubConnection, Task>> calls = new(StringComparer.Ordinal)
        {
            [nameof(IRelayHub.Send)] = c => c.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [new SendEnvelope(world.Conversation, Guid.NewGuid(), World.PairwiseShaped())], None),
            [nameof(IRelayHub.Ack)] = c => c.InvokeAsync(nameof(IRelayHub.Ack), [new AckRequest([new Ack(world.Conversation, 1)])], None),
            [nameof(IRelayHub.Fetch)] = c => c.InvokeAsync<InboxPage>(nameof(IRelayHub.Fetch), [10], None),
        };
        Dictionary<string, Actor[]> allowed = new(StringComparer.Ordinal)
        {
            [nameof(IRelayHub.Send)] = [Actor.Member, Actor.Organizer],
            [nameof(IRelayHub.Ack)] = [Actor.OtherCell, Actor.Newcomer, Actor.Member, Actor.Organizer],
            [nameof(IRelayHub.Fetch)] = [Actor.OtherCell, Actor.Newcomer, Actor.Member, Actor.Organizer],
        };

        // A hub method without a row fails the test.
        Assert.Equal(typeof(IRelayHub).GetMethods(BindingFlags.Public | BindingFlags.Instance).Select(m => m.Name).Order(), calls.Keys.Order());

        List<string> mismatches = [];
        foreach (Actor actor in (Actor[])[Actor.OtherCell, Actor.Newcomer, Actor.Member, Actor.Organizer])
        {
            await using HubConnection connection = await HubConnection.ConnectAsync(hub, world.Device(actor).Api.Token, null, None).WaitAsync(TestTimeouts.Default);
            foreach ((string method, Func<HubConnection, Task> call) in calls)
            {
                bool expected = allowed[method].Contains(actor);
                bool succeeded;
                try
                {
                    await call(connection).WaitAsync(TestTimeouts.Default);
                    succeeded = true;
                }
                catch (HubInvocationException)
                {
                    succeeded = false;
                }

                if (succeeded != expected)
                {
                    mismatches.Add($"hub {method} as {actor}: expected {(expected ? "success" : "a hub error")}, got {(succeeded ? "success" : "a hub error")}");
                }
            }

            Assert.Equal(HubConnectionState.Connected, connection.State);
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    private sealed record Row(string Method, string Template, string Path, Func<Actor, HttpContent?> Body, IReadOnlyList<(Actor Actor, int Status)> Expected);

    /// <summary>
    /// Two cells (the organizer's, with a member and a newcomer; another with its own member), a direct
    /// conversation between the member and the organizer, a revoked device, an intake with a report,
    /// a link code, and a spare device of the member's account for the revocation row.
    /// </summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly RelayFactory _relay;
        private readonly Dictionary<Actor, CellMember> _actors;
        private readonly CellMember _otherOrganizer;

        private World(RelayFactory relay, Dictionary<Actor, CellMember> actors, CellMember otherOrganizer)
        {
            _relay = relay;
            _actors = actors;
            _otherOrganizer = otherOrganizer;
        }

        public Guid Conversation { get; private init; }

        private Guid IntakeId { get; init; }

        private byte[] LinkLookupId { get; init; } = [];

        private Guid SpareDevice { get; init; }

        private Guid Bystander { get; init; }

        public static async Task<World> CreateAsync(RelayFactory relay)
        {
            Dictionary<Actor, CellMember> actors = [];
            foreach (Actor actor in Enum.GetValues<Actor>().Where(a => a != Actor.Anonymous))
            {
                actors[actor] = await CellMember.CreateAsync(relay);
            }

            CellMember otherOrganizer = await CellMember.CreateAsync(relay);
            CellClient organizer = actors[Actor.Organizer].Cells;
            CellView cell = await organizer.CreateAsync(ConversationKind.Cell, "Matrix", null, null, null, None).WaitAsync(TestTimeouts.Default);
            await actors[Actor.Organizer].AdmitAsync(actors[Actor.Member], cell.CellId);
            await actors[Actor.Organizer].AdmitAsync(actors[Actor.Revoked], cell.CellId);
            string newcomers = await organizer.InviteAsync(cell.CellId, MemberRole.Newcomer, RiskLevel.Low, 1, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
            Assert.True((await actors[Actor.Newcomer].Cells.JoinAsync(newcomers, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
            CellView other = await otherOrganizer.Cells.CreateAsync(ConversationKind.Cell, "Elsewhere", null, null, null, None).WaitAsync(TestTimeouts.Default);
            await otherOrganizer.AdmitAsync(actors[Actor.OtherCell], other.CellId);

            TestDevice member = actors[Actor.Member].Device;
            Guid conversation = (await member.Api.OpenDirectConversationAsync(actors[Actor.Organizer].AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
            (IntakeInfo intake, _) = await IntakeWorld.OpenWithReportsAsync(relay, actors[Actor.Organizer], cell.CellId, 1);

            using DeviceLinkCode code = DeviceLinkCode.Create();
            await actors[Actor.Organizer].Device.Api.CreateLinkCodeAsync(code, SecureRandom.Bytes(32)).WaitAsync(TestTimeouts.Default);
            Guid spare = await LinkSpareDeviceAsync(relay, member);
            TestDevice revoked = actors[Actor.Revoked].Device;
            await revoked.Api.RevokeDeviceAsync(revoked.DeviceId).WaitAsync(TestTimeouts.Default);
            using TestDevice bystander = await relay.NewAccountAsync();
            return new World(relay, actors, otherOrganizer)
            {
                Conversation = conversation,
                IntakeId = intake.IntakeId,
                LinkLookupId = code.LookupId.ToArray(),
                SpareDevice = spare,
                Bystander = bystander.AccountId,
            };
        }

        public TestDevice Device(Actor actor) => _actors[actor].Device;

        /// <summary>Bytes shaped like a pairwise envelope (version 0x01, type 0x01) of the smallest bucket.</summary>
        public static byte[] PairwiseShaped()
        {
            byte[] bytes = SecureRandom.Bytes(Limits.EnvelopeBuckets[0]);
            bytes[0] = 0x01;
            bytes[1] = 0x01;
            return bytes;
        }

        public List<Row> Rows()
        {
            string conversation = $"/api/v1/conversations/{Conversation}";
            string intake = $"/api/v1/intakes/{IntakeId}";
            string link = System.Buffers.Text.Base64Url.EncodeToString(LinkLookupId);
            int[] everyone200 = [200, 200, 200, 200, 200, 200];
            int[] signedIn200 = [Unauthorized, Unauthorized, 200, 200, 200, 200];
            PowSolution unsolved = new(Guid.NewGuid(), 0);
            return
            [
                // Anyone: liveness, the API's description, and signing up.
                Row("GET", "/healthz", "/healthz", null, everyone200),
                Row("GET", "/openapi/v1.json", "/openapi/v1.json", null, everyone200),
                Row("POST", "/api/v1/accounts", "/api/v1/accounts", _ => Json(NewAccount()), 201, 201, 201, 201, 201, 201),

                // Accounts and devices: any signed-in device; revoking only within one's own account.
                Row("GET", "/api/v1/accounts/{accountId}", $"/api/v1/accounts/{Bystander}", null, signedIn200),
                Row("GET", "/api/v1/devices", "/api/v1/devices", null, signedIn200),
                Row("POST", "/api/v1/devices/link-codes", "/api/v1/devices/link-codes",
                    _ => Json(new CreateLinkCodeRequest(SecureRandom.Bytes(32), SecureRandom.Bytes(64))), Unauthorized, Unauthorized, 200, 200, 200, 200),
                Row("GET", "/api/v1/devices/link-codes/{lookupId}", $"/api/v1/devices/link-codes/{link}", null, everyone200),
                Row("POST", "/api/v1/devices", "/api/v1/devices",
                    _ => Json(new LinkDeviceRequest(SecureRandom.Bytes(32), NewAccount().Device)), 404, 404, 404, 404, 404, 404),
                Row("DELETE", "/api/v1/devices/{deviceId}", $"/api/v1/devices/{SpareDevice}", null, Unauthorized, Unauthorized, 404, 404, 204, 404),

                // Sign-in: anyone may ask for a challenge and try to answer it.
                Row("POST", "/api/v1/auth/challenges", "/api/v1/auth/challenges", _ => Json(new ChallengeRequest(Device(Actor.Member).DeviceId)), everyone200),
                Row("POST", "/api/v1/auth/sessions", "/api/v1/auth/sessions", _ => Json(new LoginRequest(Guid.NewGuid(), SecureRandom.Bytes(64))), 401, 401, 401, 401, 401, 401),

                // Conversations: only participants see or write to one; anyone signed in opens a direct one.
                Row("GET", "/api/v1/conversations", "/api/v1/conversations", null, signedIn200),
                Row("POST", "/api/v1/conversations/direct", "/api/v1/conversations/direct", _ => Json(new OpenDirectConversationRequest(Bystander)), signedIn200),
                Row("GET", "/api/v1/conversations/{conversationId}/devices", conversation + "/devices", null, Unauthorized, Unauthorized, 404, 404, 200, 200),
                Row("POST", "/api/v1/conversations/{conversationId}/envelopes", conversation + "/envelopes",
                    _ => Json(new SendEnvelope(Conversation, Guid.NewGuid(), PairwiseShaped())), Unauthorized, Unauthorized, 404, 404, 200, 200),
                Row("GET", "/api/v1/inbox", "/api/v1/inbox", null, signedIn200),
                Row("POST", "/api/v1/inbox/acks", "/api/v1/inbox/acks", _ => Json(new AckRequest([new Ack(Conversation, 1)])), Unauthorized, Unauthorized, 204, 204, 204, 204),

                // The anonymous intake: the same for everyone, a session neither needed nor used.
                Row("GET", "/api/v1/intakes/{intakeId}", intake, null, everyone200),
                Row("GET", "/api/v1/intakes/{intakeId}/flows", intake + "/flows", null, everyone200),
                Row("POST", "/api/v1/intakes/{intakeId}/challenges", intake + "/challenges", _ => Json(new { }), everyone200),
                Row("POST", "/api/v1/intakes/{intakeId}/reports", intake + "/reports",
                    _ => Json(new SealedReportRequest(unsolved, SecureRandom.Bytes(1024), SecureRandom.Bytes(32))), 400, 400, 400, 400, 400, 400),
                Row("POST", "/api/v1/intakes/{intakeId}/bridge", intake + "/bridge",
                    _ => Json(new BridgeReportRequest(unsolved, "report", "en", new Dictionary<string, string>())), 400, 400, 400, 400, 400, 400),
                Row("POST", "/api/v1/intakes/{intakeId}/conversations", intake + "/conversations",
                    _ => Json(new StartConversationRequest(unsolved, "report", "en")), 400, 400, 400, 400, 400, 400),
                Row("POST", "/api/v1/intakes/{intakeId}/conversations/{conversationId}/answers", $"{intake}/conversations/{Guid.NewGuid()}/answers",
                    _ => Json(new ConversationAnswer("yes")), 404, 404, 404, 404, 404, 404),
                Row("POST", "/api/v1/receipts/replies", "/api/v1/receipts/replies",
                    _ => Json(new ReplyCheckRequest(ReceiptPhrase.LookupSecret(ReceiptPhrase.Generate()))), 404, 404, 404, 404, 404, 404),

                // Last: it ends the caller's session.
                Row("DELETE", "/api/v1/auth/sessions/current", "/api/v1/auth/sessions/current", null, Unauthorized, Unauthorized, 204, 204, 204, 204),
            ];
        }

        public async Task<int> CallAsync(Actor actor, Row row)
        {
            using HttpClient http = _relay.CreateRealClient();
            using HttpRequestMessage request = new(new HttpMethod(row.Method), new Uri(row.Path, UriKind.Relative));
            if (actor != Actor.Anonymous)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Device(actor).Api.Token);
            }

            request.Content = row.Body(actor);
            using HttpResponseMessage response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (CellMember member in _actors.Values.Append(_otherOrganizer))
            {
                await member.DisposeAsync();
            }
        }

        /// <summary>A second device for <paramref name="device"/>'s account, linked with a one-time code.</summary>
        private static async Task<Guid> LinkSpareDeviceAsync(RelayFactory relay, TestDevice device)
        {
            using DeviceLinkCode code = DeviceLinkCode.Create();
            byte[] seed = new byte[32];
            device.Identity.AccountKey.ExportSeed(seed);
            await device.Api.CreateLinkCodeAsync(code, seed).WaitAsync(TestTimeouts.Default);
            Coordination.Client.Api.RelayApi newcomer = new(relay.CreateRealClient());
            LinkCodeOffer offer = await newcomer.GetLinkCodeAsync(code).WaitAsync(TestTimeouts.Default);
            Assert.True(code.TryOpen(offer.Payload, out byte[]? transferred));
            using DeviceIdentity spare = DeviceIdentity.ForExistingAccount(transferred);
            await newcomer.LinkDeviceAsync(code, spare).WaitAsync(TestTimeouts.Default);
            return spare.DeviceId;
        }

        private static RegisterAccountRequest NewAccount()
        {
            using DeviceIdentity identity = DeviceIdentity.CreateAccount();
            return new RegisterAccountRequest(identity.AccountKey.PublicKey.ToArray(), identity.SignedDeviceKeys());
        }

        private static JsonContent Json<T>(T value) => JsonContent.Create(value, options: s_json);

        private static Row Row(string method, string template, string path, Func<Actor, HttpContent?>? body, params int[] statuses) =>
            new(method, template, path, body ?? (_ => null), [.. Enum.GetValues<Actor>().Select((actor, i) => (actor, statuses[i]))]);
    }
}
