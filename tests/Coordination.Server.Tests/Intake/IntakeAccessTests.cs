using System.Net;
using System.Net.Http.Json;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Intake;

/// <summary>
/// Who may do what on the intake team's side: organizers open intakes; members and organizers of
/// the intake's cell list intakes, read the inbox, triage, reply and delete; a newcomer gets 403;
/// anyone outside the cell gets 404 (so neither the cell's intakes nor its reports leak); without
/// a login, 401.
/// </summary>
public sealed class IntakeAccessTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task Every_team_endpoint_answers_each_role_as_specified()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        string phrase = ReceiptPhrase.Generate();
        Dictionary<string, Guid> reports = [];
        foreach (string name in new[] { "triage", "reply", "delete-member", "delete-organizer" })
        {
            reports[name] = await world.SubmitReportAsync(reporter, intake, phrase);
        }

        byte[] publicKey = X25519KeyPair.Generate().PublicKey.ToArray();
        string c = $"/api/v1/cells/{world.CellId}";
        (HttpMethod Method, string Path, Func<object?> Body, int Anonymous, int Outsider, int Newcomer, int Member, int Organizer)[] rows =
        [
            (HttpMethod.Post, c + "/intakes", () => new OpenIntakeRequest(publicKey, SecureRandom.Bytes(72), 30, 8), 401, 404, 403, 403, 201),
            (HttpMethod.Get, c + "/intakes", () => null, 401, 404, 403, 200, 200),
            (HttpMethod.Get, c + "/intake-reports", () => null, 401, 404, 403, 200, 200),
            (HttpMethod.Patch, $"/api/v1/intake-reports/{reports["triage"]}", () => new TriageRequest(ReportState.Closed), 401, 404, 403, 204, 204),
            (HttpMethod.Post, $"/api/v1/intake-reports/{reports["reply"]}/replies", () => new ReplyRequest(IntakeWorld.SealReply(phrase, "hello", DateOnly.FromDateTime(DateTime.UtcNow))), 401, 404, 403, 201, 201),
            // The member deletes it, so the organizer finds it gone; the organizer deletes another below.
            (HttpMethod.Delete, $"/api/v1/intake-reports/{reports["delete-member"]}", () => null, 401, 404, 403, 204, 404),
            (HttpMethod.Patch, $"/api/v1/intake-reports/{Guid.NewGuid()}", () => new TriageRequest(ReportState.Closed), 401, 404, 404, 404, 404),
        ];
        List<string> mismatches = [];
        foreach ((HttpMethod method, string path, Func<object?> body, int anonymous, int outsider, int newcomer, int member, int organizer) in rows)
        {
            foreach ((CellMember? actor, string name, int expected) in new (CellMember?, string, int)[]
            {
                (null, "anonymous", anonymous), (world.Outsider, "outsider", outsider), (world.Newcomer, "newcomer", newcomer), (world.Member, "member", member), (world.Organizer, "organizer", organizer),
            })
            {
                using HttpResponseMessage response = await world.SendAsync(actor, method, path, body());
                if ((int)response.StatusCode != expected)
                {
                    mismatches.Add($"{method} {path} as {name}: expected {expected}, got {(int)response.StatusCode}");
                }
            }
        }

        using (HttpResponseMessage deleted = await world.SendAsync(world.Organizer, HttpMethod.Delete, $"/api/v1/intake-reports/{reports["delete-organizer"]}", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        // The member sees the intakes with the sealed private key and can open it with the cell key.
        using HttpResponseMessage listed = await world.SendAsync(world.Member, HttpMethod.Get, c + "/intakes", null);
        List<IntakeInfo> intakes = (await listed.Content.ReadFromJsonAsync<List<IntakeInfo>>(IntakeWorld.Json))!;
        Assert.Equal(2, intakes.Count);
        IntakeInfo first = intakes.Single(i => i.IntakeId == intake.IntakeId);
        Assert.Equal(intake.SealedPrivateKey, first.SealedPrivateKey);
        using X25519KeyPair opened = world.IntakeKeyOf(world.Member, first);

        InboxReport triaged = (await world.InboxAsync(world.Member)).Single(r => r.ReportId == reports["triage"]);
        Assert.Equal(ReportState.Closed, triaged.State);
        Assert.DoesNotContain(await world.InboxAsync(world.Member), r => r.ReportId == reports["delete-member"] || r.ReportId == reports["delete-organizer"]);
    }

    [Fact]
    public async Task The_inbox_of_one_cell_shows_nothing_of_another_cells_intakes()
    {
        await using IntakeWorld first = await IntakeWorld.CreateAsync(relay);
        await using IntakeWorld second = await IntakeWorld.CreateAsync(relay);
        using Reporter reporter = new(relay);
        IntakeInfo a = await first.OpenIntakeAsync();
        IntakeInfo b = await second.OpenIntakeAsync();
        Guid ra = await first.SubmitReportAsync(reporter, a);
        Guid rb = await second.SubmitReportAsync(reporter, b);

        Assert.Equal([ra], (await first.InboxAsync(first.Member)).Select(r => r.ReportId));
        Assert.Equal([rb], (await second.InboxAsync(second.Organizer)).Select(r => r.ReportId));

        // A member of the first cell gets 404 for the second cell's report, as for one that does not exist.
        using HttpResponseMessage foreign = await first.SendAsync(first.Member, HttpMethod.Delete, $"/api/v1/intake-reports/{rb}", null);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Single(await second.InboxAsync(second.Member));
    }
}
