using System.Net;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Server.Tests.Intake;

/// <summary>A relay with small intake limits: three submissions per intake per minute, three receipt checks per minute.</summary>
public sealed class SmallIntakeLimitsRelay() : RelayFactory(new Dictionary<string, string?>
{
    ["RateLimits:IntakeSubmissionsPerMinute"] = "3",
    ["RateLimits:ReceiptChecksPerMinute"] = "3",
});

/// <summary>
/// The in-memory rate limits: per intake for submissions (so a flood at one intake leaves the
/// others alone, and is counted only once the proof-of-work checks out), relay-wide for receipt
/// checks. Challenges are not limited: they cost the relay nothing to hand out. None is keyed on
/// anything about the sender. Excess is 429.
/// </summary>
public sealed class IntakeLimitTests(SmallIntakeLimitsRelay relay) : IClassFixture<SmallIntakeLimitsRelay>
{
    [Fact]
    public async Task Submissions_beyond_an_intakes_budget_are_429_while_other_intakes_still_take_reports()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo busy = await world.OpenIntakeAsync();
        IntakeInfo quiet = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);

        // Unsolved attempts use up nothing.
        for (int i = 0; i < 5; i++)
        {
            using HttpResponseMessage unsolved = await reporter.PostAsync($"/api/v1/intakes/{busy.IntakeId}/conversations",
                new StartConversationRequest(new PowSolution(Guid.NewGuid(), 0), "detention-report", "en"));
            Assert.Equal(HttpStatusCode.BadRequest, unsolved.StatusCode);
        }

        List<HttpStatusCode> statuses = [];
        for (int i = 0; i < 6; i++)
        {
            object body = i % 2 == 0
                ? new StartConversationRequest(await reporter.SolveAsync(busy.IntakeId), "detention-report", "en")
                : new SealedReportRequest(await reporter.SolveAsync(busy.IntakeId), IntakeWorld.StandIn(busy.PublicKey), SecureRandom.Bytes(32));
            using HttpResponseMessage response = await reporter.PostAsync($"/api/v1/intakes/{busy.IntakeId}/{(i % 2 == 0 ? "conversations" : "reports")}", body);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.OK], statuses.Take(3));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses.Skip(3));

        using HttpResponseMessage limited = await reporter.PostAsync($"/api/v1/intakes/{busy.IntakeId}/bridge",
            new BridgeReportRequest(await reporter.SolveAsync(busy.IntakeId), "rally-statement", "en", new Dictionary<string, string> { ["statement"] = "s", ["consent"] = "yes" }));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("application/problem+json", limited.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);

        using HttpResponseMessage elsewhere = await reporter.PostAsync($"/api/v1/intakes/{quiet.IntakeId}/bridge",
            new BridgeReportRequest(await reporter.SolveAsync(quiet.IntakeId), "rally-statement", "en", new Dictionary<string, string> { ["statement"] = "s", ["consent"] = "yes" }));
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Receipt_checks_beyond_the_relays_budget_are_429()
    {
        using Reporter reporter = new(relay);
        List<HttpStatusCode> statuses = [];
        for (int i = 0; i < 9; i++)
        {
            using HttpResponseMessage response = await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(ReceiptPhrase.Generate())));
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.True(statuses.Count(s => s == HttpStatusCode.NotFound) <= 6, "at most two windows' worth of checks went through");
    }
}

public sealed class IntakeChallengeFloodTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task A_flood_of_challenge_requests_keeps_nothing_and_locks_no_reporter_out()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        Coordination.Server.Intake.PowChallenges challenges = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Coordination.Server.Intake.PowChallenges>(relay.Services);
        int before = challenges.Count;
        for (int i = 0; i < 1500; i++)
        {
            using HttpResponseMessage response = await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/challenges", new { });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Nothing was stored for them, and a reporter right after the flood still gets in.
        Assert.Equal(before, challenges.Count);
        using HttpResponseMessage report = await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/reports",
            new SealedReportRequest(await reporter.SolveAsync(intake.IntakeId), IntakeWorld.StandIn(intake.PublicKey), SecureRandom.Bytes(32)));
        Assert.Equal(HttpStatusCode.Created, report.StatusCode);
    }
}
