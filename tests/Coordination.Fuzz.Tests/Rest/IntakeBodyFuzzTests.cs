using System.Text.Json;
using Coordination.Client.Cells;
using Coordination.Client.Intake;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Fuzz.Tests.Rest;

/// <summary>
/// A cell with an intake (proof-of-work difficulty 8), a report in its inbox, a bot conversation
/// under way and a receipt to check: the intake team's and the reporters' endpoints each have a
/// valid body (with a solved, unspent proof-of-work where one is needed).
/// </summary>
public sealed class IntakeWorld : RelayWorld
{
    public static readonly string[] Names = ["open-intake", "report", "bridge", "conversation", "answer", "triage", "reply", "receipt-replies"];

    public Person Organizer { get; private set; } = null!;

    public Guid CellId { get; private set; }

    public IntakeInfo Intake { get; private set; } = null!;

    /// <summary>A solved, unspent proof-of-work for the intake.</summary>
    public async Task<PowSolution> SolveAsync()
    {
        Answer issued = await SendAsync(HttpMethod.Post, $"/api/v1/intakes/{Intake.IntakeId}/challenges", null, "{}"u8.ToArray());
        PowChallenge challenge = JsonSerializer.Deserialize<PowChallenge>(issued.Body, Json)!;
        return new PowSolution(challenge.ChallengeId, ProofOfWork.Solve(challenge.Nonce, challenge.Difficulty));
    }

    /// <summary>A report as the SDK seals it: padded JSON in a sealed box to the intake's key.</summary>
    public byte[] Sealed(byte[] json) => SealedBox.Seal(Padding.Pad(json, IntakeFormat.ReportBlock), X25519PublicKey.FromBytes(Intake.PublicKey));

    protected override async Task BuildAsync()
    {
        CancellationToken none = CancellationToken.None;
        Person organizer = Organizer = await PersonAsync();
        Person member = await PersonAsync();
        CellView cell = await organizer.Cells.CreateAsync(ConversationKind.Cell, "Fuzz intake", null, null, null, none).WaitAsync(TestTimeouts.Default);
        CellId = cell.CellId;
        string code = await organizer.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Low, 1, TimeSpan.FromHours(2), 0, none).WaitAsync(TestTimeouts.Default);
        await member.Cells.JoinAsync(code, null, none).WaitAsync(TestTimeouts.Default);
        Intake = await new IntakeTeamClient(organizer.Cells).OpenAsync(cell.CellId, 30, 8, none).WaitAsync(TestTimeouts.Default);
        Guid intakeId = Intake.IntakeId;

        string receipt = ReceiptPhrase.Generate();
        byte[] standIn = Sealed("{\"v\":1}"u8.ToArray());
        Answer submitted = await SendAsync(HttpMethod.Post, $"/api/v1/intakes/{intakeId}/reports", null,
            JsonSerializer.SerializeToUtf8Bytes(new SealedReportRequest(await SolveAsync(), standIn, ReceiptPhrase.LookupSecret(receipt)), Json));
        Assert.Equal(201, submitted.Status);
        Guid reportId = (await organizer.Api.ListIntakeReportsAsync(cell.CellId).WaitAsync(TestTimeouts.Default)).Single().ReportId;

        Answer started = await SendAsync(HttpMethod.Post, $"/api/v1/intakes/{intakeId}/conversations", null,
            JsonSerializer.SerializeToUtf8Bytes(new StartConversationRequest(await SolveAsync(), "detention-report", "en"), Json));
        Assert.Equal(200, started.Status);
        Guid conversationId = JsonSerializer.Deserialize<BotTurn>(started.Body, Json)!.ConversationId;
        Guid[] known = [cell.CellId, intakeId, reportId, conversationId];

        Add(new BodyEndpoint("open-intake", HttpMethod.Post, $"/api/v1/cells/{cell.CellId}/intakes", organizer.Token, () =>
        {
            using X25519KeyPair pair = X25519KeyPair.Generate();
            return Task.FromResult(Body(new OpenIntakeRequest(pair.PublicKey.ToArray(), SecureRandom.Bytes(72), 30, 8)));
        }, ["Intakes"]) { KnownIds = known });

        Add(new BodyEndpoint("report", HttpMethod.Post, $"/api/v1/intakes/{intakeId}/reports", null,
            async () => Body(new SealedReportRequest(await SolveAsync(), standIn, ReceiptPhrase.LookupSecret(ReceiptPhrase.Generate()))), ["IntakeReports"]) { KnownIds = known });

        Add(new BodyEndpoint("bridge", HttpMethod.Post, $"/api/v1/intakes/{intakeId}/bridge", null, async () => Body(new BridgeReportRequest(await SolveAsync(), "detention-report", "en",
            new Dictionary<string, string> { ["what"] = "Two people were taken", ["when"] = "2026-01-05", ["where"] = "Central square", ["consent"] = "yes" })),
            ["IntakeReports"]) { KnownIds = known });

        Add(new BodyEndpoint("conversation", HttpMethod.Post, $"/api/v1/intakes/{intakeId}/conversations", null,
            async () => Body(new StartConversationRequest(await SolveAsync(), "detention-report", "ru")), ["IntakeReports"]) { KnownIds = known });

        Add(new BodyEndpoint("answer", HttpMethod.Post, $"/api/v1/intakes/{intakeId}/conversations/{conversationId}/answers", null,
            () => Task.FromResult(Body(new ConversationAnswer("They were taken near the station."))), ["IntakeReports"]) { KnownIds = known });

        Add(new BodyEndpoint("triage", HttpMethod.Patch, $"/api/v1/intake-reports/{reportId}", member.Token,
            () => Task.FromResult(Body(new TriageRequest(ReportState.InProgress))), ["IntakeReports"]) { KnownIds = known });

        Add(new BodyEndpoint("reply", HttpMethod.Post, $"/api/v1/intake-reports/{reportId}/replies", member.Token,
            () => Task.FromResult(Body(new ReplyRequest(SecureRandom.Bytes(256 + 40)))), ["IntakeReplies"]) { KnownIds = known });

        Add(new BodyEndpoint("receipt-replies", HttpMethod.Post, "/api/v1/receipts/replies", null,
            () => Task.FromResult(Body(new ReplyCheckRequest(ReceiptPhrase.LookupSecret(receipt)))), ["IntakeReplies", "IntakeReports"]) { KnownIds = known });
    }
}

/// <summary>
/// The intake's endpoints (the team's and the anonymous reporters') with generated bodies: never a
/// 5xx, every 4xx a problem, no report or reply stored from a refused request, no error logged.
/// </summary>
public sealed class IntakeBodyFuzzTests(IntakeWorld world) : IClassFixture<IntakeWorld>
{
    public static TheoryData<string> Endpoints => new(IntakeWorld.Names);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomJsonBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomJsonAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomBytesBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomBytesAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task ValidBodiesWithOneFieldChanged_AreRefusedCleanly(string endpoint) => BodyFuzz.MutatedValidAsync(world, endpoint);

    /// <summary>
    /// The intake's public key is public, so anyone can seal a report. One whose JSON has invalid
    /// UTF-8 in a string (here the flow) is accepted by the relay (it cannot read it); the team's
    /// <see cref="IntakeTeamClient.InboxAsync"/> lists that report with its failure and every other
    /// report as usual.
    /// </summary>
    [Fact]
    public async Task PoisonReport_LeavesTheRestOfTheInboxReadable()
    {
        IntakeReportContent readable = new("detention-report", "en", new Dictionary<string, string> { ["what"] = "readable" }, ReceiptPhrase.Generate(), new DateOnly(2026, 1, 2));
        byte[] poison = [.. "{\"v\":1,\"flow\":\""u8, 0xFF, .. "\",\"language\":\"en\",\"answers\":{},\"receipt\":\"r\",\"submittedOn\":\"2026-01-01\"}"u8];
        foreach (byte[] sealedReport in new[] { IntakeFormat.SealReport(readable, X25519PublicKey.FromBytes(world.Intake.PublicKey)), world.Sealed(poison) })
        {
            Answer submitted = await world.SendAsync(HttpMethod.Post, $"/api/v1/intakes/{world.Intake.IntakeId}/reports", null,
                JsonSerializer.SerializeToUtf8Bytes(new SealedReportRequest(await world.SolveAsync(), sealedReport, ReceiptPhrase.LookupSecret(ReceiptPhrase.Generate())), RelayWorld.Json));
            Assert.Equal(201, submitted.Status);
        }

        List<IntakeReportView> inbox = await new IntakeTeamClient(world.Organizer.Cells).InboxAsync(world.CellId, CancellationToken.None).WaitAsync(TestTimeouts.Default);

        Assert.Contains(inbox, r => r.Content?.Answers.GetValueOrDefault("what") == "readable");
        Assert.Contains(inbox, r => r.Content is null && r.Failure is not null);
    }
}
