using System.Net;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Server.Tests.Intake;

/// <summary>
/// Abuse without identity: every submission needs a solved, unused, unexpired challenge of its
/// intake; floods of unsolved and garbage submissions are refused cheaply and do not keep a
/// legitimate report out; malformed input of every kind is a 4xx problem, never a 5xx.
/// </summary>
public sealed class IntakeAbuseTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task Unsolved_reused_unknown_foreign_and_missing_proofs_of_work_are_refused()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        IntakeInfo other = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        string reports = $"/api/v1/intakes/{intake.IntakeId}/reports";

        SealedReportRequest Report(PowSolution? pow) => new(pow!, IntakeWorld.StandIn(intake.PublicKey), SecureRandom.Bytes(32));

        // Unsolved: refused (the relay keeps nothing for a challenge until it is solved).
        PowChallenge challenge = await reporter.ChallengeAsync(intake.IntakeId);
        Assert.Equal(8, challenge.Difficulty);
        Assert.Equal(32, challenge.Nonce.Length);
        Assert.True(challenge.ExpiresAt > relay.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        await AssertRefusedAsync(reporter, reports, Report(new PowSolution(challenge.ChallengeId, Reporter.Unsolved(challenge))), "not solved");

        // Reused: the first use is accepted, the second refused.
        PowSolution solved = new(challenge.ChallengeId, ProofOfWork.Solve(challenge.Nonce, challenge.Difficulty));
        using (HttpResponseMessage first = await reporter.PostAsync(reports, Report(solved)))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        await AssertRefusedAsync(reporter, reports, Report(solved), "already used");

        // Unknown, issued for another intake, or missing.
        await AssertRefusedAsync(reporter, reports, Report(new PowSolution(Guid.NewGuid(), 0)), "unknown");
        await AssertRefusedAsync(reporter, reports, Report(await reporter.SolveAsync(other.IntakeId)), "unknown");
        await AssertRefusedAsync(reporter, reports, Report(null), "required");

        // The same rules for the bridge and the bot.
        PowChallenge forBot = await reporter.ChallengeAsync(intake.IntakeId);
        await AssertRefusedAsync(reporter, $"/api/v1/intakes/{intake.IntakeId}/conversations",
            new StartConversationRequest(new PowSolution(forBot.ChallengeId, Reporter.Unsolved(forBot)), "rally-statement", "en"), "not solved");
        await AssertRefusedAsync(reporter, $"/api/v1/intakes/{intake.IntakeId}/bridge",
            new BridgeReportRequest(new PowSolution(Guid.NewGuid(), 1), "rally-statement", "en", new Dictionary<string, string> { ["statement"] = "x", ["consent"] = "yes" }), "unknown");

        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE IntakeId = '{IntakeSubmissionTests.Upper(intake.IntakeId)}'"));
    }

    [Fact]
    public async Task A_challenge_easier_than_the_intake_asks_for_is_refused_even_when_solved()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync(difficulty: 12);
        using Reporter reporter = new(relay);

        // As if a made-up challenge id claiming difficulty 8 had been guessed right (one try in 256).
        Coordination.Server.Intake.PowChallenges challenges = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Coordination.Server.Intake.PowChallenges>(relay.Services);
        PowChallenge easy = challenges.Issue(intake.IntakeId, 8);
        PowSolution cheap = new(easy.ChallengeId, ProofOfWork.Solve(easy.Nonce, 8));
        await AssertRefusedAsync(reporter, $"/api/v1/intakes/{intake.IntakeId}/reports",
            new SealedReportRequest(cheap, IntakeWorld.StandIn(intake.PublicKey), SecureRandom.Bytes(32)), "easier than this intake asks for");

        // The intake's own challenges are at its difficulty and get in.
        PowChallenge proper = await reporter.ChallengeAsync(intake.IntakeId);
        Assert.Equal(12, proper.Difficulty);
        using HttpResponseMessage accepted = await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/reports",
            new SealedReportRequest(new PowSolution(proper.ChallengeId, ProofOfWork.Solve(proper.Nonce, 12)), IntakeWorld.StandIn(intake.PublicKey), SecureRandom.Bytes(32)));
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    [Fact]
    public async Task A_flood_of_unsolved_and_garbage_submissions_does_not_keep_a_legitimate_report_out()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter attacker = new(relay);
        using Reporter legitimate = new(relay);
        string reports = $"/api/v1/intakes/{intake.IntakeId}/reports";
        byte[] sealedReport = IntakeWorld.StandIn(intake.PublicKey);

        // More than the intake's whole minute of submissions (60), none of them solved.
        List<PowChallenge> issued = [];
        for (int i = 0; i < 40; i++)
        {
            issued.Add(await attacker.ChallengeAsync(intake.IntakeId));
        }

        List<Task<HttpResponseMessage>> flood = [];
        foreach (PowChallenge challenge in issued)
        {
            flood.Add(attacker.PostAsync(reports, new SealedReportRequest(new PowSolution(challenge.ChallengeId, Reporter.Unsolved(challenge)), sealedReport, SecureRandom.Bytes(32))));
        }

        for (int i = 0; i < 100; i++)
        {
            flood.Add(attacker.PostAsync(reports, new SealedReportRequest(new PowSolution(Guid.NewGuid(), (ulong)i), sealedReport, SecureRandom.Bytes(32))));
            flood.Add(attacker.PostAsync($"/api/v1/intakes/{intake.IntakeId}/conversations", new StartConversationRequest(new PowSolution(Guid.NewGuid(), (ulong)i), "detention-report", "ru")));
        }

        for (int i = 0; i < 40; i++)
        {
            flood.Add(attacker.PostRawAsync(reports, "{\"pow\":{\"challengeId\":\"" + Guid.NewGuid() + "\",\"counter\":1},\"sealedReport\":\"!!!not base64!!!\",\"receiptLookupSecret\":\"AAAA\"}"));
            flood.Add(attacker.PostAsync(reports, new SealedReportRequest(new PowSolution(Guid.NewGuid(), 1), SecureRandom.Bytes(5000), SecureRandom.Bytes(32))));
        }

        HttpResponseMessage[] answered = await Task.WhenAll(flood).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(answered, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        foreach (HttpResponseMessage response in answered)
        {
            response.Dispose();
        }

        // The legitimate reporter gets in at once, by each path.
        using (HttpResponseMessage report = await legitimate.PostAsync(reports, new SealedReportRequest(await legitimate.SolveAsync(intake.IntakeId), sealedReport, SecureRandom.Bytes(32))))
        {
            Assert.Equal(HttpStatusCode.Created, report.StatusCode);
        }

        using (HttpResponseMessage conversation = await legitimate.PostAsync($"/api/v1/intakes/{intake.IntakeId}/conversations",
            new StartConversationRequest(await legitimate.SolveAsync(intake.IntakeId), "detention-report", "ru")))
        {
            Assert.Equal(HttpStatusCode.OK, conversation.StatusCode);
        }

        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE IntakeId = '{IntakeSubmissionTests.Upper(intake.IntakeId)}'"));
    }

    [Fact]
    public async Task Malformed_input_is_a_4xx_problem_never_a_5xx()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        Guid id = intake.IntakeId;
        string reports = $"/api/v1/intakes/{id}/reports";
        string bridge = $"/api/v1/intakes/{id}/bridge";
        string conversations = $"/api/v1/intakes/{id}/conversations";
        string pow = "{\"challengeId\":\"" + Guid.NewGuid() + "\",\"counter\":0}";
        string b64(int length) => Convert.ToBase64String(SecureRandom.Bytes(length));
        string today = DateOnly.FromDateTime(relay.Clock.GetUtcNow().UtcDateTime).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string future = DateOnly.FromDateTime(relay.Clock.GetUtcNow().UtcDateTime).AddDays(5).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string Bridge(string answers, string flow = "detention-report", string language = "en") =>
            "{\"pow\":" + pow + ",\"flow\":\"" + flow + "\",\"language\":\"" + language + "\",\"answers\":" + answers + "}";
        string Answers(string what, string when) => "{\"what\":" + what + ",\"when\":\"" + when + "\",\"where\":\"Tver\",\"consent\":\"yes\"}";

        (string Path, string Body, int Status)[] anonymous =
        [
            (reports, "", 400),
            (reports, "not json", 400),
            (reports, "{}", 400),
            (reports, "[1,2,3]", 400),
            (reports, "{\"pow\":" + pow + ",\"sealedReport\":\"%%%\",\"receiptLookupSecret\":\"" + b64(32) + "\"}", 400),
            (reports, "{\"pow\":" + pow + ",\"sealedReport\":\"" + b64(1024) + "\",\"receiptLookupSecret\":\"" + b64(32) + "\"}", 400),
            (reports, "{\"pow\":" + pow + ",\"sealedReport\":\"" + b64(1024 + 49) + "\",\"receiptLookupSecret\":\"" + b64(32) + "\"}", 400),
            (reports, "{\"pow\":" + pow + ",\"sealedReport\":\"" + b64((65 * 1024) + 48) + "\",\"receiptLookupSecret\":\"" + b64(32) + "\"}", 400),
            (reports, "{\"pow\":" + pow + ",\"sealedReport\":\"" + b64(1024 + 48) + "\",\"receiptLookupSecret\":\"" + b64(31) + "\"}", 400),
            (reports, "{\"pow\":" + pow + ",\"sealedReport\":\"" + b64(1024 + 48) + "\"}", 400),
            (reports, "{\"pow\":{\"challengeId\":\"not-a-guid\",\"counter\":-1},\"sealedReport\":\"" + b64(1024 + 48) + "\",\"receiptLookupSecret\":\"" + b64(32) + "\"}", 400),
            (reports, "{\"sealedReport\":\"" + b64(96 * 1024) + "\"}", 413),
            (bridge, Bridge(Answers("\"x\"", today), flow: "no-such-flow"), 400),
            (bridge, Bridge(Answers("\"x\"", today), language: "de"), 400),
            (bridge, Bridge(Answers("\"x\"", today), language: new string('r', 5000)), 400),
            (bridge, Bridge(Answers("\"" + new string('x', 4001) + "\"", today)), 400),
            (bridge, Bridge(Answers("\"x\"", "2026-13-45")), 400),
            (bridge, Bridge(Answers("\"x\"", future)), 400),
            (bridge, Bridge(Answers("\"\\ud800 lone surrogate\"", today)), 400),
            (bridge, Bridge(Answers("42", today)), 400),
            (bridge, Bridge("[]"), 400),
            (bridge, Bridge("null"), 400),
            (bridge, "{\"flow\":\"detention-report\"}", 400),
            (conversations, "{\"pow\":" + pow + ",\"flow\":\"detention-report\",\"language\":\"xx\"}", 400),
            (conversations, "{\"pow\":" + pow + ",\"flow\":null,\"language\":\"en\"}", 400),
            ($"{conversations}/{Guid.NewGuid()}/answers", "{\"answer\":\"hello\"}", 404),
            ($"{conversations}/not-a-guid/answers", "{\"answer\":\"hello\"}", 404),
            ("/api/v1/receipts/replies", "{\"receiptLookupSecret\":\"" + b64(16) + "\"}", 400),
            ("/api/v1/receipts/replies", "{\"receiptLookupSecret\":\"@@@@\"}", 400),
            ("/api/v1/receipts/replies", "{}", 400),
        ];
        List<string> wrong = [];
        foreach ((string path, string body, int status) in anonymous)
        {
            using HttpResponseMessage response = await reporter.PostRawAsync(path, body);
            if ((int)response.StatusCode != status)
            {
                wrong.Add($"POST {path} {body[..Math.Min(body.Length, 120)]}: expected {status}, got {(int)response.StatusCode}");
            }
        }

        using (HttpResponseMessage plainText = await reporter.PostRawAsync(reports, "hello", "text/plain"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, plainText.StatusCode);
        }

        // A conversation's bad answers.
        BotTurn turn = await Reporter.ReadAsync<BotTurn>(
            await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(id), "detention-report", "en")), HttpStatusCode.OK);
        string answers = $"{conversations}/{turn.ConversationId}/answers";
        foreach (string body in new[] { "", "{\"answer\":42}", "{\"answer\":\"" + new string('y', 30_000) + "\"}", "{\"answer\":\"\\udfff\"}", "[]" })
        {
            using HttpResponseMessage response = await reporter.PostRawAsync(answers, body);
            if ((int)response.StatusCode != 400)
            {
                wrong.Add($"POST answers {body[..Math.Min(body.Length, 40)]}: expected 400, got {(int)response.StatusCode}");
            }
        }

        // The team's endpoints.
        byte[] key = X25519KeyPair.Generate().PublicKey.ToArray();
        (HttpMethod Method, string Path, object Body)[] team =
        [
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(SecureRandom.Bytes(31), SecureRandom.Bytes(72), 30, 8)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(new byte[32], SecureRandom.Bytes(72), 30, 8)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(key, SecureRandom.Bytes(71), 30, 8)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(key, SecureRandom.Bytes(72), 0, 8)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(key, SecureRandom.Bytes(72), 91, 8)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(key, SecureRandom.Bytes(72), 30, 7)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new OpenIntakeRequest(key, SecureRandom.Bytes(72), 30, 29)),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new { publicKey = "###", sealedPrivateKey = "", retentionDays = 1, powDifficulty = 8 }),
            (HttpMethod.Post, $"/api/v1/cells/{world.CellId}/intakes", new { }),
        ];
        foreach ((HttpMethod method, string path, object body) in team)
        {
            using HttpResponseMessage response = await world.SendAsync(world.Organizer, method, path, body);
            if ((int)response.StatusCode != 400)
            {
                wrong.Add($"{method} {path} {System.Text.Json.JsonSerializer.Serialize(body)[..60]}: expected 400, got {(int)response.StatusCode}");
            }
        }

        Guid reportId = await world.SubmitReportAsync(reporter, intake);
        foreach ((HttpMethod method, string path, object body) in new (HttpMethod, string, object)[]
        {
            (HttpMethod.Post, $"/api/v1/intake-reports/{reportId}/replies", new ReplyRequest(SecureRandom.Bytes(39))),
            (HttpMethod.Post, $"/api/v1/intake-reports/{reportId}/replies", new ReplyRequest(SecureRandom.Bytes(256 + 41))),
            (HttpMethod.Post, $"/api/v1/intake-reports/{reportId}/replies", new ReplyRequest(SecureRandom.Bytes(4096 + 256 + 40))),
            (HttpMethod.Post, $"/api/v1/intake-reports/{reportId}/replies", new { }),
            (HttpMethod.Patch, $"/api/v1/intake-reports/{reportId}", new { state = 9 }),
            (HttpMethod.Patch, $"/api/v1/intake-reports/{reportId}", new { state = "closed" }),
        })
        {
            using HttpResponseMessage response = await world.SendAsync(world.Member, method, path, body);
            if ((int)response.StatusCode != 400)
            {
                wrong.Add($"{method} {path}: expected 400, got {(int)response.StatusCode}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Empty(relay.ServerErrors());
    }

    private static async Task AssertRefusedAsync(Reporter reporter, string path, object body, string reason)
    {
        using HttpResponseMessage response = await reporter.PostAsync(path, body);
        string detail = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {response.StatusCode}: {detail}");
        Assert.Contains(reason, detail, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }
}
