using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Coordination.Client.Cells;
using Coordination.Client.Hub;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;
using Coordination.Server.Tests.Intake;

namespace Coordination.Server.Tests.Cells;

/// <summary>
/// Every cell, invite, task and intake-team endpoint, and the relay's send for a cell's conversations (REST and hub),
/// called as anonymous, as a revoked device, as an outsider, as a newcomer, as a member and as an
/// organizer, with the exact status each must get. The rows run in order against one cell; every
/// mismatch is collected and reported together. An endpoint in the OpenAPI document under
/// /api/v1/cells, /api/v1/invites, /api/v1/tasks or /api/v1/intake-reports without a row fails the test.
/// </summary>
public sealed class CellAuthorizationMatrixTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private enum Actor
    {
        Anonymous,
        Revoked,
        Outsider,
        Newcomer,
        Member,
        Organizer,
    }

    [Fact]
    public async Task Every_cell_endpoint_answers_each_role_exactly_as_specified()
    {
        await using World world = await World.CreateAsync(relay);
        List<Row> rows = world.Rows();
        List<string> mismatches = [];
        foreach (Row row in rows)
        {
            foreach ((Actor actor, int expected) in row.Expected)
            {
                int actual = await row.Call(actor).WaitAsync(TestTimeouts.Default);
                if (actual != expected)
                {
                    mismatches.Add($"{row.Method} {row.Path} as {actor}: expected {expected}, got {actual}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        // Every cell or invite endpoint the relay documents has a row.
        using HttpClient http = relay.CreateRealClient();
        using JsonDocument openApi = JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)).WaitAsync(TestTimeouts.Default));
        List<string> documented = [.. openApi.RootElement.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith("/api/v1/cells", StringComparison.Ordinal) || p.Name.StartsWith("/api/v1/invites", StringComparison.Ordinal)
                || p.Name.StartsWith("/api/v1/tasks", StringComparison.Ordinal) || p.Name.StartsWith("/api/v1/intake-reports", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name.TrimEnd('/')}"))];
        HashSet<string> covered = [.. rows.Select(r => $"{r.Method} {r.Path}")];
        List<string> missing = [.. documented.Where(d => !covered.Contains(d))];
        Assert.True(missing.Count == 0, "Endpoints without a row in the matrix: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task The_hub_refuses_sends_to_a_cell_from_outsiders_and_newcomers_and_announcements_from_members()
    {
        await using World world = await World.CreateAsync(relay);
        foreach ((Actor actor, Guid conversation, string? refusal) in new (Actor, Guid, string?)[]
        {
            (Actor.Outsider, world.CellId, "No such conversation."),
            (Actor.Newcomer, world.CellId, "No such conversation."),
            (Actor.Member, world.CellId, null),
            (Actor.Organizer, world.CellId, null),
            (Actor.Outsider, world.AnnouncementsId, "No such conversation."),
            (Actor.Newcomer, world.AnnouncementsId, "Only the cell's organizers post announcements."),
            (Actor.Member, world.AnnouncementsId, "Only the cell's organizers post announcements."),
            (Actor.Organizer, world.AnnouncementsId, null),
        })
        {
            TestDevice device = world.Device(actor);
            await using HubConnection hub = await HubConnection.ConnectAsync(
                new Uri(relay.ServerAddress, RelayHubContract.Path), device.Api.Token!, null, _ => { }, None).WaitAsync(TestTimeouts.Default);
            SendEnvelope envelope = new(conversation, Guid.NewGuid(), World.PairwiseShaped());
            if (refusal is null)
            {
                SendResult sent = await hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [envelope], None).WaitAsync(TestTimeouts.Default);
                Assert.True(sent.Seq > 0, $"{actor} -> {conversation}");
            }
            else
            {
                HubInvocationException refused = await Assert.ThrowsAsync<HubInvocationException>(
                    () => hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [envelope], None).WaitAsync(TestTimeouts.Default));
                Assert.Contains(refusal, refused.Message, StringComparison.Ordinal);
            }
        }
    }

    private sealed record Row(string Method, string Path, Func<Actor, Task<int>> Call, IReadOnlyList<(Actor Actor, int Status)> Expected);

    /// <summary>One cell with an organizer, a member, a newcomer, members to act on, a pending candidate, an outsider and a revoked device.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly RelayFactory _relay;
        private readonly Dictionary<Actor, CellMember> _actors;
        private readonly CellMember _target;
        private readonly CellMember _burnTarget;
        private readonly CellMember _candidate;
        private readonly string _inviteCode;

        private World(RelayFactory relay, Dictionary<Actor, CellMember> actors, CellMember target, CellMember burnTarget, CellMember candidate, CellView cell, string inviteCode, Dictionary<string, Guid> tasks,
            List<Guid> intakeReports)
        {
            Tasks = tasks;
            IntakeReports = intakeReports;
            _relay = relay;
            _actors = actors;
            _target = target;
            _burnTarget = burnTarget;
            _candidate = candidate;
            CellId = cell.CellId;
            AnnouncementsId = cell.AnnouncementsId!.Value;
            _inviteCode = inviteCode;
        }

        public Guid CellId { get; }

        public Guid AnnouncementsId { get; }

        /// <summary>Tasks prepared for the task rows, by the row that uses them.</summary>
        public Dictionary<string, Guid> Tasks { get; }

        /// <summary>Reports to an intake of the cell, submitted anonymously, for the intake report rows (triage, reply, delete).</summary>
        public List<Guid> IntakeReports { get; }

        public static async Task<World> CreateAsync(RelayFactory relay)
        {
            Dictionary<Actor, CellMember> actors = [];
            foreach (Actor actor in Enum.GetValues<Actor>())
            {
                actors[actor] = await CellMember.CreateAsync(relay);
            }

            CellMember target = await CellMember.CreateAsync(relay);
            CellMember burnTarget = await CellMember.CreateAsync(relay);
            CellMember candidate = await CellMember.CreateAsync(relay);
            CellClient organizer = actors[Actor.Organizer].Cells;
            CellView cell = await organizer.CreateAsync(ConversationKind.Cell, "Matrix", null, null, null, None).WaitAsync(TestTimeouts.Default);
            string members = await organizer.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Elevated, 4, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
            foreach (CellMember member in new[] { actors[Actor.Member], actors[Actor.Revoked], target, burnTarget })
            {
                Assert.True((await member.Cells.JoinAsync(members, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
            }

            string newcomers = await organizer.InviteAsync(cell.CellId, MemberRole.Newcomer, RiskLevel.Low, 1, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
            Assert.True((await actors[Actor.Newcomer].Cells.JoinAsync(newcomers, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
            string vouched = await organizer.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Low, 10, TimeSpan.FromHours(1), 1, None).WaitAsync(TestTimeouts.Default);
            Assert.False((await candidate.Cells.JoinAsync(vouched, null, None).WaitAsync(TestTimeouts.Default)).Admitted);
            string open = await organizer.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Low, 10, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);

            // Tasks for the task rows: some offered to (or accepted by) the member.
            Coordination.Client.Tasks.TaskClient board = new(organizer);
            Guid memberId = (await actors[Actor.Member].Cells.GetAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
            Dictionary<string, Guid> tasks = [];
            foreach (string name in new[] { "get", "offer", "accept", "decline", "done", "handover", "cancel" })
            {
                Guid id = (await board.CreateAsync(cell.CellId, RiskLevel.Low, name, null, [], 1, null, None).WaitAsync(TestTimeouts.Default)).TaskId;
                tasks[name] = id;
                if (name is not ("offer" or "cancel"))
                {
                    await board.OfferAsync(id, memberId, None).WaitAsync(TestTimeouts.Default);
                }

                if (name is "done" or "handover")
                {
                    await new Coordination.Client.Tasks.TaskClient(actors[Actor.Member].Cells).AcceptAsync(id, None).WaitAsync(TestTimeouts.Default);
                }
            }

            TestDevice revoked = actors[Actor.Revoked].Device;
            await revoked.Api.RevokeDeviceAsync(revoked.DeviceId).WaitAsync(TestTimeouts.Default);
            (_, List<Guid> intakeReports) = await IntakeWorld.OpenWithReportsAsync(relay, actors[Actor.Organizer], cell.CellId, 3);
            Guid targetMembership = (await target.Cells.GetAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
            return new World(relay, actors, target, burnTarget, candidate, cell, open, tasks, intakeReports) { TargetMembership = targetMembership };
        }

        public TestDevice Device(Actor actor) => _actors[actor].Device;

        /// <summary>The membership whose ceiling and tags the rows change.</summary>
        private Guid TargetMembership { get; init; }

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
            const int Unauthorized = 401;
            Guid cell = CellId;
            string c = $"/api/v1/cells/{cell}";
            string lookup = System.Buffers.Text.Base64Url.EncodeToString(InviteCode.Parse(_inviteCode).LookupId);
            List<Row> rows =
            [
                Row("POST", "/api/v1/cells", "/api/v1/cells", actor => Body(CreateCell(actor)), Unauthorized, Unauthorized, 201, 201, 201, 201),
                Row("GET", "/api/v1/cells", "/api/v1/cells", null, Unauthorized, Unauthorized, 200, 200, 200, 200),
                Row("GET", "/api/v1/cells/{cellId}", c, null, Unauthorized, Unauthorized, 404, 200, 200, 200),
                Row("GET", "/api/v1/cells/{cellId}/members", c + "/members", null, Unauthorized, Unauthorized, 404, 403, 200, 200),
                Row("PUT", "/api/v1/cells/{cellId}/members/me/display-name", c + "/members/me/display-name",
                    _ => Body(new DisplayNameRequest(SecureRandom.Bytes(64))), Unauthorized, Unauthorized, 404, 204, 204, 204),
                Row("GET", "/api/v1/cells/{cellId}/log", c + "/log", null, Unauthorized, Unauthorized, 404, 403, 200, 200),
                Row("POST", "/api/v1/cells/{cellId}/log", c + "/log", actor => Entry(actor, _target, MembershipAction.SetCeiling), Unauthorized, Unauthorized, 404, 403, 403, 200),
                Row("POST", "/api/v1/cells/{cellId}/invites", c + "/invites", actor => Body(Invite(actor)), Unauthorized, Unauthorized, 404, 403, 403, 201),
                Row("GET", "/api/v1/cells/{cellId}/admissions", c + "/admissions", null, Unauthorized, Unauthorized, 404, 403, 200, 200),
                Row("POST", "/api/v1/cells/{cellId}/admissions/{accountId}/vouches", $"{c}/admissions/{_candidate.AccountId}/vouches",
                    actor => Body(Vouch(actor)), Unauthorized, Unauthorized, 404, 403, 204, 204),
                Row("GET", "/api/v1/invites/{lookupId}", $"/api/v1/invites/{lookup}", null, Unauthorized, Unauthorized, 200, 200, 200, 200),
                Row("POST", "/api/v1/invites/{lookupId}/requests", $"/api/v1/invites/{lookup}/requests", _ => Body(new { }), Unauthorized, Unauthorized, 202, 409, 409, 409),
                Row("GET", "/api/v1/conversations/{conversationId}/devices", $"/api/v1/conversations/{cell}/devices", null, Unauthorized, Unauthorized, 404, 404, 200, 200),
                Row("POST", "/api/v1/conversations/{conversationId}/envelopes", $"/api/v1/conversations/{cell}/envelopes",
                    _ => Body(new SendEnvelope(cell, Guid.NewGuid(), PairwiseShaped())), Unauthorized, Unauthorized, 404, 404, 200, 200),
                Row("POST", "/api/v1/conversations/{conversationId}/envelopes (announcements)", $"/api/v1/conversations/{AnnouncementsId}/envelopes",
                    _ => Body(new SendEnvelope(AnnouncementsId, Guid.NewGuid(), PairwiseShaped())), Unauthorized, Unauthorized, 404, 403, 403, 200),

                Row("POST", "/api/v1/cells/{cellId}/tasks", c + "/tasks",
                    _ => Body(new CreateTaskRequest(RiskLevel.Low, [], 1, null, SecureRandom.Bytes(300))), Unauthorized, Unauthorized, 404, 403, 403, 201),
                Row("GET", "/api/v1/cells/{cellId}/tasks", c + "/tasks", null, Unauthorized, Unauthorized, 404, 200, 200, 200),
                Row("PUT", "/api/v1/cells/{cellId}/members/{membershipId}/tags", $"{c}/members/{TargetMembership}/tags",
                    _ => Body(new SetTagsRequest([SecureRandom.Bytes(32)])), Unauthorized, Unauthorized, 404, 403, 403, 204),
                Row("GET", "/api/v1/tasks/{taskId}", $"/api/v1/tasks/{Tasks["get"]}", null, Unauthorized, Unauthorized, 404, 404, 200, 200),
                Row("GET", "/api/v1/tasks/{taskId}/suggestions", $"/api/v1/tasks/{Tasks["get"]}/suggestions", null, Unauthorized, Unauthorized, 404, 404, 403, 200),
                Row("POST", "/api/v1/tasks/{taskId}/offers", $"/api/v1/tasks/{Tasks["offer"]}/offers",
                    _ => Body(new OfferTaskRequest(TargetMembership)), Unauthorized, Unauthorized, 404, 404, 403, 200),
                Row("POST", "/api/v1/tasks/{taskId}/accept", $"/api/v1/tasks/{Tasks["accept"]}/accept", _ => Body(new { }), Unauthorized, Unauthorized, 404, 404, 200, 409),
                Row("POST", "/api/v1/tasks/{taskId}/withdraw", $"/api/v1/tasks/{Tasks["accept"]}/withdraw", _ => Body(new { }), Unauthorized, Unauthorized, 404, 404, 200, 409),
                Row("POST", "/api/v1/tasks/{taskId}/decline", $"/api/v1/tasks/{Tasks["decline"]}/decline", _ => Body(new { }), Unauthorized, Unauthorized, 404, 404, 200, 409),
                Row("POST", "/api/v1/tasks/{taskId}/done", $"/api/v1/tasks/{Tasks["done"]}/done", _ => Body(new { }), Unauthorized, Unauthorized, 404, 404, 200, 200),
                Row("POST", "/api/v1/tasks/{taskId}/handover", $"/api/v1/tasks/{Tasks["handover"]}/handover",
                    _ => Body(new HandOverTaskRequest(TargetMembership)), Unauthorized, Unauthorized, 404, 404, 200, 409),
                Row("POST", "/api/v1/tasks/{taskId}/cancel", $"/api/v1/tasks/{Tasks["cancel"]}/cancel", _ => Body(new { }), Unauthorized, Unauthorized, 404, 404, 403, 200),

                // Events are for GRAS groups, so in this cell members get 400; Events/EventTests has the rows for a group.
                Row("POST", "/api/v1/cells/{cellId}/events", c + "/events",
                    _ => Body(new CreateEventRequest(Guid.NewGuid(), SecureRandom.Bytes(1064))), Unauthorized, Unauthorized, 404, 403, 400, 400),
                Row("GET", "/api/v1/cells/{cellId}/events", c + "/events", null, Unauthorized, Unauthorized, 404, 403, 400, 400),
                Row("POST", "/api/v1/cells/{cellId}/events/{eventId}/rsvps", $"{c}/events/{Guid.NewGuid()}/rsvps",
                    _ => Body(new RsvpRequest(SecureRandom.Bytes(56))), Unauthorized, Unauthorized, 404, 403, 400, 400),
                Row("DELETE", "/api/v1/cells/{cellId}/events/{eventId}", $"{c}/events/{Guid.NewGuid()}", null, Unauthorized, Unauthorized, 404, 403, 400, 400),

                // The anonymous intake's team side. The member deletes the report, so the organizer finds it gone.
                Row("POST", "/api/v1/cells/{cellId}/intakes", c + "/intakes",
                    _ => Body(new OpenIntakeRequest(X25519KeyPair.Generate().PublicKey.ToArray(), SecureRandom.Bytes(72), 30, 8)), Unauthorized, Unauthorized, 404, 403, 403, 201),
                Row("GET", "/api/v1/cells/{cellId}/intakes", c + "/intakes", null, Unauthorized, Unauthorized, 404, 403, 200, 200),
                Row("GET", "/api/v1/cells/{cellId}/intake-reports", c + "/intake-reports", null, Unauthorized, Unauthorized, 404, 403, 200, 200),
                Row("PATCH", "/api/v1/intake-reports/{reportId}", $"/api/v1/intake-reports/{IntakeReports[0]}",
                    _ => Body(new TriageRequest(ReportState.InProgress)), Unauthorized, Unauthorized, 404, 403, 204, 204),
                Row("POST", "/api/v1/intake-reports/{reportId}/replies", $"/api/v1/intake-reports/{IntakeReports[1]}/replies",
                    _ => Body(new ReplyRequest(SecureRandom.Bytes(256 + 40))), Unauthorized, Unauthorized, 404, 403, 201, 201),
                Row("DELETE", "/api/v1/intake-reports/{reportId}", $"/api/v1/intake-reports/{IntakeReports[2]}", null, Unauthorized, Unauthorized, 404, 403, 204, 404),

                // These change the cell for good, so they come last: a burn, then admissions.
                Row("POST", "/api/v1/cells/{cellId}/log (burn)", c + "/log", actor => Entry(actor, _burnTarget, MembershipAction.Burn), Unauthorized, Unauthorized, 404, 403, 403, 200),
                Row("POST", "/api/v1/invites/{lookupId}/admission", $"/api/v1/invites/{lookup}/admission", actor => Admission(actor), Unauthorized, Unauthorized, 200, 400, 400, 400),
            ];
            return rows;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (CellMember member in _actors.Values.Concat([_target, _burnTarget, _candidate]))
            {
                await member.DisposeAsync();
            }
        }

        private Row Row(string method, string template, string path, Func<Actor, Task<HttpContent>>? body, params int[] statuses)
        {
            Actor[] actors = Enum.GetValues<Actor>();
            return new Row(
                method,
                template.Split(" (", 2)[0],
                actor => CallAsync(actor, method, path, body),
                [.. actors.Select((actor, i) => (actor, statuses[i]))]);
        }

        private async Task<int> CallAsync(Actor actor, string method, string path, Func<Actor, Task<HttpContent>>? body)
        {
            using HttpClient http = _relay.CreateRealClient();
            using HttpRequestMessage request = new(new HttpMethod(method), new Uri(path, UriKind.Relative));
            if (actor != Actor.Anonymous)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Device(actor).Api.Token);
            }

            request.Content = body is null ? null : await body(actor);
            using HttpResponseMessage response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }

        private static Task<HttpContent> Body(object value) => Task.FromResult<HttpContent>(JsonContent.Create(value, value.GetType(), options: s_json));

        private static Task<HttpContent> Body(Task<object> value) => value.ContinueWith(t => (HttpContent)JsonContent.Create(t.Result, t.Result.GetType(), options: s_json), TaskScheduler.Default);

        private Task<object> CreateCell(Actor actor)
        {
            TestDevice device = Device(actor);
            Guid id = Guid.NewGuid();
            byte[] key = device.Identity.AccountKey.PublicKey.ToArray();
            byte[] body = new MembershipEntry(id, 0, MembershipEntry.ZeroHash, MembershipAction.Create, Guid.NewGuid(), device.AccountId, key,
                MemberRole.Organizer, RiskLevel.Critical, device.AccountId, key, []).Encode();
            return Task.FromResult<object>(new CreateCellRequest(id, ConversationKind.Cell, new SignedMembershipEntry(body, device.Identity.AccountKey.Sign(body)), SecureRandom.Bytes(64)));
        }

        /// <summary>An entry about <paramref name="subject"/> signed by the actor, on the current head of the log.</summary>
        private async Task<HttpContent> Entry(Actor actor, CellMember subject, MembershipAction action)
        {
            TestDevice device = Device(actor);
            CellInfo info = await _actors[Actor.Organizer].Device.Api.GetCellAsync(CellId);
            MemberState state = (await _actors[Actor.Organizer].Cells.VerifiedLogAsync(CellId, None)).Members.Values.First(m => m.AccountId == subject.AccountId);
            byte[] key = device.Identity.AccountKey.PublicKey.ToArray();
            byte[] body = new MembershipEntry(CellId, info.LogLength, info.LogHead, action, state.MembershipId, state.AccountId, state.PublicKey,
                state.Role, action == MembershipAction.SetCeiling ? RiskLevel.Low : state.Ceiling, device.AccountId, key, []).Encode();
            return await Body(new AppendEntryRequest(new SignedMembershipEntry(body, device.Identity.AccountKey.Sign(body))));
        }

        private Task<object> Invite(Actor actor)
        {
            TestDevice device = Device(actor);
            using InviteCode code = InviteCode.Create(SecureRandom.Bytes(32));
            byte[] grant = new InviteGrant(CellId, code.LookupId, code.SigningKey.PublicKey.ToArray(), MemberRole.Member, RiskLevel.Low, 1,
                DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(), 0, device.AccountId, device.Identity.AccountKey.PublicKey.ToArray()).Encode();
            return Task.FromResult<object>(new CreateInviteRequest(grant, device.Identity.AccountKey.Sign(grant), SecureRandom.Bytes(72)));
        }

        private async Task<object> Vouch(Actor actor)
        {
            TestDevice device = Device(actor);
            PendingAdmission candidate = (await _actors[Actor.Organizer].Device.Api.ListAdmissionsAsync(CellId)).Single(a => a.AccountId == _candidate.AccountId);
            byte[] statement = AdmissionStatements.VouchFor(CellId, candidate.LookupId, candidate.AccountId, candidate.AccountPublicKey);
            return new VouchRequest(candidate.LookupId, device.Identity.AccountKey.Sign(statement));
        }

        /// <summary>The actor's own admission with the open invite's code.</summary>
        private async Task<HttpContent> Admission(Actor actor)
        {
            TestDevice device = Device(actor);
            using InviteCode code = InviteCode.Parse(_inviteCode);
            InviteOffer offer = await _actors[Actor.Organizer].Device.Api.GetInviteAsync(code.LookupId);
            Guid membershipId = Guid.NewGuid();
            byte[] key = device.Identity.AccountKey.PublicKey.ToArray();
            byte[] admit = code.SigningKey.Sign(AdmissionStatements.Admit(CellId, code.LookupId, membershipId, device.AccountId, key));
            byte[] body = new MembershipEntry(CellId, offer.LogLength, offer.LogHead, MembershipAction.Admit, membershipId, device.AccountId, key,
                MemberRole.Member, RiskLevel.Low, device.AccountId, key, AdmissionStatements.EncodeAuthorization(offer.Grant, offer.GrantSignature, admit, [])).Encode();
            return await Body(new AdmissionRequest(new SignedMembershipEntry(body, device.Identity.AccountKey.Sign(body))));
        }
    }
}
