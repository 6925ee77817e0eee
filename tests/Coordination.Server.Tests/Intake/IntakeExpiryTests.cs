using System.Net;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Events;
using Coordination.Server.Intake;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Intake;

/// <summary>
/// What the intake keeps, it keeps for a while only: reports and replies go when they expire (and,
/// on SQLite, leave no ciphertext in the database files), bot conversations when idle for 15 minutes,
/// challenges after 5 minutes, and everything with its cell. Time is moved on the relay's clock by
/// minutes (less than an invite or a login lasts, in all); each test builds what it needs after
/// the moves of the tests before it. Retention, which takes days, has relays of its own.
/// </summary>
public sealed class IntakeExpiryTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task A_deleted_report_goes_with_its_replies() => await DeleteAReportAsync();

    /// <summary>
    /// SQLite only: secure_delete zeroes the deleted rows and the sweep checkpoints the WAL.
    /// PostgreSQL keeps a deleted row's bytes in its heap pages until VACUUM reuses them and in the
    /// write-ahead log until the segment is recycled (see the threat model).
    /// </summary>
    [SqliteFact]
    public async Task A_deleted_report_leaves_no_piece_in_the_database_files()
    {
        byte[] sealedReport = await DeleteAReportAsync();

        // The next sweep checkpoints the WAL, and then no piece of the report is left in the files.
        await relay.Services.GetRequiredService<IntakeExpiry>().SweepAsync().WaitAsync(TestTimeouts.Default);
        Assert.False(RelayScan.ContainsPiece(RelayScan.Storage(relay), sealedReport), "a deleted report lingers in the database files");
    }

    /// <summary>A report with a reply, deleted by a member: the reply goes with it and the receipt finds nothing. Returns the sealed report.</summary>
    private async Task<byte[]> DeleteAReportAsync()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        string phrase = ReceiptPhrase.Generate();
        Guid report = await world.SubmitReportAsync(reporter, intake, phrase);
        using (HttpResponseMessage replied = await world.SendAsync(world.Organizer, HttpMethod.Post, $"/api/v1/intake-reports/{report}/replies",
            new ReplyRequest(IntakeWorld.SealReply(phrase, "Thank you.", DateOnly.FromDateTime(DateTime.UtcNow)))))
        {
            Assert.Equal(HttpStatusCode.Created, replied.StatusCode);
        }

        byte[] sealedReport = (await world.InboxAsync(world.Member)).Single(r => r.ReportId == report).SealedReport;
        using (HttpResponseMessage deleted = await world.SendAsync(world.Member, HttpMethod.Delete, $"/api/v1/intake-reports/{report}", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE Id = '{IntakeSubmissionTests.Upper(report)}'"));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReplies WHERE ReportId = '{IntakeSubmissionTests.Upper(report)}'"));
        using HttpResponseMessage gone = await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(phrase)));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        return sealedReport;
    }

    [Fact]
    public async Task A_conversation_idle_for_15_minutes_is_forgotten_and_an_active_one_is_not()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        string conversations = $"/api/v1/intakes/{intake.IntakeId}/conversations";
        BotTurn active = await Reporter.ReadAsync<BotTurn>(
            await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "rally-statement", "en")), HttpStatusCode.OK);
        BotTurn idle = await Reporter.ReadAsync<BotTurn>(
            await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "rally-statement", "en")), HttpStatusCode.OK);
        BotConversations held = relay.Services.GetRequiredService<BotConversations>();
        int before = held.Count;

        for (int i = 0; i < 2; i++)
        {
            relay.Clock.Advance(TimeSpan.FromMinutes(10));
            using HttpResponseMessage answered = await reporter.PostAsync($"{conversations}/{active.ConversationId}/answers", new ConversationAnswer(i == 0 ? "A statement" : null));
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        await relay.Services.GetRequiredService<IntakeExpiry>().SweepAsync().WaitAsync(TestTimeouts.Default);
        Assert.True(held.Count < before, "the sweep forgets idle conversations");
        using HttpResponseMessage forgotten = await reporter.PostAsync($"{conversations}/{idle.ConversationId}/answers", new ConversationAnswer("A statement"));
        Assert.Equal(HttpStatusCode.NotFound, forgotten.StatusCode);
        using HttpResponseMessage still = await reporter.PostAsync($"{conversations}/{active.ConversationId}/answers", new ConversationAnswer("anonymous"));
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task A_challenge_expires_after_five_minutes()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        PowChallenge challenge = await reporter.ChallengeAsync(intake.IntakeId);
        Assert.InRange(challenge.ExpiresAt - relay.Clock.GetUtcNow().ToUnixTimeMilliseconds(), 4 * 60_000, 5 * 60_000);
        relay.Clock.Advance(TimeSpan.FromMinutes(6));
        using HttpResponseMessage late = await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/reports",
            new SealedReportRequest(new PowSolution(challenge.ChallengeId, ProofOfWork.Solve(challenge.Nonce, challenge.Difficulty)), IntakeWorld.StandIn(intake.PublicKey), SecureRandom.Bytes(32)));
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
    }

    [Fact]
    public async Task A_group_that_ends_takes_its_intakes_reports_and_replies_with_it()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay, ConversationKind.GrasGroup, relay.Clock.GetUtcNow().AddMinutes(2));
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        string phrase = ReceiptPhrase.Generate();
        Guid report = await world.SubmitReportAsync(reporter, intake, phrase);
        using (HttpResponseMessage replied = await world.SendAsync(world.Member, HttpMethod.Post, $"/api/v1/intake-reports/{report}/replies",
            new ReplyRequest(IntakeWorld.SealReply(phrase, "Noted.", DateOnly.FromDateTime(DateTime.UtcNow)))))
        {
            Assert.Equal(HttpStatusCode.Created, replied.StatusCode);
        }

        string id = IntakeSubmissionTests.Upper(intake.IntakeId);
        relay.Clock.Advance(TimeSpan.FromMinutes(3));
        await relay.Services.GetRequiredService<GroupExpiry>().SweepAsync().WaitAsync(TestTimeouts.Default);

        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM Cells WHERE Id = '{IntakeSubmissionTests.Upper(world.CellId)}'"));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM Intakes WHERE Id = '{id}'"));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE IntakeId = '{id}'"));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReplies WHERE ReportId = '{IntakeSubmissionTests.Upper(report)}'"));
        using HttpResponseMessage closed = await reporter.Http.GetAsync(new Uri($"/api/v1/intakes/{intake.IntakeId}", UriKind.Relative)).WaitAsync(TestTimeouts.Default);
        Assert.Equal(HttpStatusCode.NotFound, closed.StatusCode);
    }
}

/// <summary>Retention: reports and replies go when they expire, days later (each test on a relay of its own, as logins and invites do not outlast the move).</summary>
public sealed class IntakeRetentionTests
{
    [Fact]
    public async Task Reports_and_replies_are_deleted_when_they_expire()
    {
        using RelayFactory relay = new();
        await ExpireAsync(relay);
    }

    /// <summary>
    /// SQLite only: secure_delete zeroes the deleted rows and the sweep checkpoints the WAL.
    /// PostgreSQL keeps a deleted row's bytes in its heap pages until VACUUM reuses them and in the
    /// write-ahead log until the segment is recycled (see the threat model).
    /// </summary>
    [SqliteFact]
    public async Task Expired_reports_and_replies_leave_no_ciphertext_in_the_database_files()
    {
        using RelayFactory relay = new();
        (byte[] sealedReport, byte[] sealedReply) = await ExpireAsync(relay);

        byte[] storage = RelayScan.Storage(relay);
        Assert.False(RelayScan.ContainsPiece(storage, sealedReport), "an expired report lingers in the database files");
        Assert.False(RelayScan.ContainsPiece(storage, sealedReply), "an expired reply lingers in the database files");
    }

    /// <summary>
    /// A one-day and a five-day report (the first with a reply), then, two days on, a sweep: the
    /// one-day report and its reply are gone, the five-day report stays. Returns what expired.
    /// </summary>
    private static async Task<(byte[] SealedReport, byte[] SealedReply)> ExpireAsync(RelayFactory relay)
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo shortLived = await world.OpenIntakeAsync(retentionDays: 1);
        IntakeInfo longLived = await world.OpenIntakeAsync(retentionDays: 5);
        using Reporter reporter = new(relay);
        string phrase = ReceiptPhrase.Generate();
        Guid expiring = await world.SubmitReportAsync(reporter, shortLived, phrase);
        Guid lasting = await world.SubmitReportAsync(reporter, longLived);
        byte[] sealedReply = IntakeWorld.SealReply(phrase, "We will call the lawyer.", DateOnly.FromDateTime(DateTime.UtcNow));
        using (HttpResponseMessage replied = await world.SendAsync(world.Member, HttpMethod.Post, $"/api/v1/intake-reports/{expiring}/replies", new ReplyRequest(sealedReply)))
        {
            Assert.Equal(HttpStatusCode.Created, replied.StatusCode);
        }

        byte[] sealedReport = (await world.InboxAsync(world.Member)).Single(r => r.ReportId == expiring).SealedReport;
        Assert.True(RelayScan.ContainsPiece(RelayScan.Storage(relay), sealedReport), "the report is stored");
        Assert.True(RelayScan.ContainsPiece(RelayScan.Storage(relay), sealedReply), "the reply is stored");
        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM IntakeReplies WHERE ReportId = '{IntakeSubmissionTests.Upper(expiring)}'"));
        using (HttpResponseMessage found = await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(phrase))))
        {
            Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        }

        // Two days on, the one-day report and its reply are gone; the five-day report stays.
        relay.Clock.Advance(TimeSpan.FromDays(2));
        await relay.Services.GetRequiredService<IntakeExpiry>().SweepAsync().WaitAsync(TestTimeouts.Default);

        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE Id = '{IntakeSubmissionTests.Upper(expiring)}'"));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReplies WHERE ReportId = '{IntakeSubmissionTests.Upper(expiring)}'"));
        Assert.Equal(1, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE Id = '{IntakeSubmissionTests.Upper(lasting)}'"));
        using (HttpResponseMessage gone = await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(phrase))))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        return (sealedReport, sealedReply);
    }
}
