using System.Net;
using System.Text.Json;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Server.Tests.Intake;

/// <summary>
/// A report through each path the relay offers (sealed by the reporter's client, a bot
/// conversation in Russian and in English, a chat-bot bridge's plaintext) is read by the intake
/// team, who open it with the intake key they recover with the cell key, to exactly the answers
/// given; a reply reaches the reporter through the receipt. The relay's files and logs never hold
/// an answer, the receipt, its lookup secret, the reporter's user agent or address.
/// </summary>
public sealed class IntakeSubmissionTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task A_report_sealed_by_the_client_is_read_by_the_team_and_a_reply_reaches_the_reporter_by_the_receipt()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync(retentionDays: 30);
        using Reporter reporter = new(relay);

        // What the reporter's client learns, then seals and sends.
        PublicIntake open = await Reporter.ReadAsync<PublicIntake>(await reporter.Http.GetAsync(new Uri($"/api/v1/intakes/{intake.IntakeId}", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(intake.PublicKey, open.PublicKey);
        Assert.Equal(8, open.PowDifficulty);
        Assert.Equal(30, open.RetentionDays);
        Assert.Equal(["ru", "en"], open.Languages);

        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        string phrase = ReceiptPhrase.Normalize(ReceiptPhrase.Generate())!;
        byte[] lookupSecret = ReceiptPhrase.LookupSecret(phrase);
        DateOnly today = DateOnly.FromDateTime(relay.Clock.GetUtcNow().UtcDateTime);
        Dictionary<string, string> answers = new()
        {
            ["what"] = $"{canary} Two students were taken from the square after a single picket.",
            ["when"] = today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["where"] = $"{canary}-place Pushkin square, taken to the 5th department",
            ["consent"] = "yes",
        };
        byte[] sealedReport = Reporter.SealReport(open.PublicKey, "detention-report", "en", answers, phrase, today);
        ReportAccepted accepted = await Reporter.ReadAsync<ReportAccepted>(
            await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/reports", new SealedReportRequest(await reporter.SolveAsync(intake.IntakeId), sealedReport, lookupSecret)),
            HttpStatusCode.Created);

        // The team: the inbox holds exactly the sealed box, with the day only.
        InboxReport report = Assert.Single(await world.InboxAsync(world.Member));
        Assert.Equal(sealedReport, report.SealedReport);
        Assert.Equal(intake.IntakeId, report.IntakeId);
        Assert.Equal(ReportState.New, report.State);
        Assert.Equal(0, report.ReceivedOn % (long)TimeSpan.FromDays(1).TotalMilliseconds);
        Assert.Equal(report.ReceivedOn + (long)TimeSpan.FromDays(30).TotalMilliseconds, report.ExpiresAt);
        Assert.Equal(accepted.ExpiresAt, report.ExpiresAt);
        using (X25519KeyPair key = world.IntakeKeyOf(world.Member, intake))
        {
            JsonElement opened = IntakeWorld.OpenReport(key, report.SealedReport);
            Assert.Equal(answers, opened.GetProperty("answers").Deserialize<Dictionary<string, string>>());
            Assert.Equal(phrase, opened.GetProperty("receipt").GetString());
        }

        // The team replies under the receipt-derived key; the reporter finds it with the lookup secret.
        string replyText = $"{canary}-reply A lawyer is on the way to the 5th department.";
        using (HttpResponseMessage replied = await world.SendAsync(world.Member, HttpMethod.Post, $"/api/v1/intake-reports/{report.ReportId}/replies",
            new ReplyRequest(IntakeWorld.SealReply(phrase, replyText, today))))
        {
            Assert.Equal(HttpStatusCode.Created, replied.StatusCode);
        }

        using (HttpResponseMessage triaged = await world.SendAsync(world.Organizer, HttpMethod.Patch, $"/api/v1/intake-reports/{report.ReportId}", new TriageRequest(ReportState.InProgress)))
        {
            Assert.Equal(HttpStatusCode.NoContent, triaged.StatusCode);
        }

        InboxReport triagedReport = Assert.Single(await world.InboxAsync(world.Organizer));
        Assert.Equal(ReportState.InProgress, triagedReport.State);
        Assert.Equal(1, triagedReport.Replies);

        // The phrase as typed by the reporter, in capitals and with extra spaces, finds the same report.
        string typed = "  " + phrase.ToUpperInvariant().Replace(" ", "   ", StringComparison.Ordinal) + " ";
        ReplyList replies = await Reporter.ReadAsync<ReplyList>(
            await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(ReceiptPhrase.Normalize(typed)!))), HttpStatusCode.OK);
        SealedReply reply = Assert.Single(replies.Replies);
        Assert.Equal(replyText, IntakeWorld.OpenReply(phrase, reply.Sealed));
        Assert.Equal(report.ExpiresAt, reply.ExpiresAt);
        Assert.Null(IntakeWorld.OpenReply(ReceiptPhrase.Generate(), reply.Sealed));

        // Another receipt finds nothing.
        using (HttpResponseMessage unknown = await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(ReceiptPhrase.Generate()))))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        Assert.True(RelayScan.ContainsPiece(RelayScan.Storage(relay), sealedReport), "the sealed report is stored");
        RelayScan.AssertAbsent(relay, [canary, phrase, reporter.UserAgent, RelayFactory.ClientAddress, "Pushkin square", "lawyer is on the way"], [lookupSecret]);
    }

    [Fact]
    public async Task A_bot_conversation_in_Russian_is_sealed_to_the_team_with_the_answers_given_and_a_receipt_for_the_reply()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync(retentionDays: 14);
        using Reporter reporter = new(relay);
        string canary = "КАНАРЕЙКА-" + Guid.NewGuid().ToString("N")[..10];
        string today = DateOnly.FromDateTime(relay.Clock.GetUtcNow().UtcDateTime).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string conversations = $"/api/v1/intakes/{intake.IntakeId}/conversations";

        BotTurn turn = await Reporter.ReadAsync<BotTurn>(
            await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "detention-report", "ru")), HttpStatusCode.OK);
        Assert.False(turn.Done);
        Assert.StartsWith("Вы можете рассказать о задержании", turn.Message, StringComparison.Ordinal);
        Assert.Equal(("what", "Что произошло?", "text", false), (turn.StepId, turn.Question, turn.Kind, turn.Optional));
        string answers = $"{conversations}/{turn.ConversationId}/answers";

        // Answers in order; the optional "who" and "help" are skipped; "how-many" is answered with its Russian label.
        (string? Answer, string NextStep)[] script =
        [
            ($"{canary} Задержали двоих студентов у памятника после одиночного пикета.", "when"),
            (today, "where"),
            ($"{canary}-место Москва, Пушкинская площадь", "how-many"),
            ("От двух до пяти", "who"),
            (null, "relation"),
            ("witness", "help"),
            ("", "contact"),
            ($"{canary}-связь через знакомых", "consent"),
        ];
        foreach ((string? answer, string next) in script)
        {
            turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer(answer)), HttpStatusCode.OK);
            Assert.Equal(next, turn.StepId);
        }

        Assert.Equal("consent", turn.Kind);
        Assert.Contains("через 14 дн.", turn.Question, StringComparison.Ordinal);
        Assert.Equal([new ChoiceOption("yes", "Да"), new ChoiceOption("no", "Нет")], turn.Options);

        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("Да")), HttpStatusCode.OK);
        Assert.True(turn.Done);
        Assert.StartsWith("Спасибо.", turn.Message, StringComparison.Ordinal);
        string phrase = turn.Receipt!;
        Assert.Equal(phrase, ReceiptPhrase.Normalize(phrase));
        Assert.NotNull(turn.ExpiresAt);

        // The conversation is gone: a second consent cannot seal it again.
        using (HttpResponseMessage again = await reporter.PostAsync(answers, new ConversationAnswer("yes")))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        InboxReport report = Assert.Single(await world.InboxAsync(world.Member));
        Assert.Equal(turn.ExpiresAt, report.ExpiresAt);
        using (X25519KeyPair key = world.IntakeKeyOf(world.Member, intake))
        {
            JsonElement opened = IntakeWorld.OpenReport(key, report.SealedReport);
            Assert.Equal(1, opened.GetProperty("v").GetInt32());
            Assert.Equal("detention-report", opened.GetProperty("flow").GetString());
            Assert.Equal("ru", opened.GetProperty("language").GetString());
            Assert.Equal(phrase, opened.GetProperty("receipt").GetString());
            Assert.Equal(today, opened.GetProperty("submittedOn").GetString());
            Assert.Equal(
                ["v", "flow", "language", "answers", "receipt", "submittedOn"],
                opened.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(
                new Dictionary<string, string>
                {
                    ["what"] = script[0].Answer!,
                    ["when"] = today,
                    ["where"] = script[2].Answer!,
                    ["how-many"] = "two-to-five",
                    ["relation"] = "witness",
                    ["contact"] = script[7].Answer!,
                    ["consent"] = "yes",
                },
                opened.GetProperty("answers").Deserialize<Dictionary<string, string>>());
            Assert.Equal(["what", "when", "where", "how-many", "relation", "contact", "consent"], opened.GetProperty("answers").EnumerateObject().Select(p => p.Name).ToArray());
        }

        await AssertReplyReachesAsync(world, reporter, report.ReportId, phrase);
        RelayScan.AssertAbsent(relay, [canary, phrase, reporter.UserAgent, RelayFactory.ClientAddress, "Пушкинская площадь", "связь через знакомых"], [ReceiptPhrase.LookupSecret(phrase)]);
    }

    [Fact]
    public async Task A_bot_conversation_in_English_follows_showIf_records_defaults_and_keeps_the_question_after_a_bad_answer()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync(retentionDays: 7);
        using Reporter reporter = new(relay);
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        string conversations = $"/api/v1/intakes/{intake.IntakeId}/conversations";

        BotTurn turn = await Reporter.ReadAsync<BotTurn>(
            await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "rally-statement", "en")), HttpStatusCode.OK);
        Assert.Equal(("statement", "What would you say in public if you could?"), (turn.StepId, turn.Question));
        string answers = $"{conversations}/{turn.ConversationId}/answers";

        // A required question cannot be skipped, and a text over its maxLength is refused; the question stays.
        using (HttpResponseMessage skipped = await reporter.PostAsync(answers, new ConversationAnswer("  ")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, skipped.StatusCode);
        }

        using (HttpResponseMessage tooLong = await reporter.PostAsync(answers, new ConversationAnswer(new string('x', 2001))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        }

        string statement = $"{canary} We are many, and we are not afraid.";
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("  " + statement + "\n")), HttpStatusCode.OK);
        Assert.Equal(("rally", true), (turn.StepId, turn.Optional));
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer(null)), HttpStatusCode.OK);
        Assert.Equal("signature", turn.StepId);
        Assert.Equal(["anonymous", "pseudonym", "first-name-and-age"], turn.Options!.Select(o => o.Value).ToArray());
        using (HttpResponseMessage notAnOption = await reporter.PostAsync(answers, new ConversationAnswer("banana")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notAnOption.StatusCode);
        }

        // A pseudonym asks for the signature text (showIf); "editing" is skipped and records its default.
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("pseudonym")), HttpStatusCode.OK);
        Assert.Equal("signature-text", turn.StepId);
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer($"{canary}-Grey Heron")), HttpStatusCode.OK);
        Assert.Equal("editing", turn.StepId);
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("")), HttpStatusCode.OK);
        Assert.Equal("consent", turn.StepId);
        Assert.Contains("after 7 days", turn.Question, StringComparison.Ordinal);
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("YES")), HttpStatusCode.OK);
        Assert.True(turn.Done);
        Assert.StartsWith("Thank you.", turn.Message, StringComparison.Ordinal);
        string phrase = turn.Receipt!;

        InboxReport report = Assert.Single(await world.InboxAsync(world.Organizer));
        using (X25519KeyPair key = world.IntakeKeyOf(world.Organizer, intake))
        {
            JsonElement opened = IntakeWorld.OpenReport(key, report.SealedReport);
            Assert.Equal("en", opened.GetProperty("language").GetString());
            Assert.Equal(
                new Dictionary<string, string>
                {
                    ["statement"] = statement,
                    ["signature"] = "pseudonym",
                    ["signature-text"] = $"{canary}-Grey Heron",
                    ["editing"] = "translate-only",
                    ["consent"] = "yes",
                },
                opened.GetProperty("answers").Deserialize<Dictionary<string, string>>());
        }

        await AssertReplyReachesAsync(world, reporter, report.ReportId, phrase);
        RelayScan.AssertAbsent(relay, [canary, phrase, reporter.UserAgent, RelayFactory.ClientAddress, "we are not afraid", "Grey Heron"], [ReceiptPhrase.LookupSecret(phrase)]);
    }

    [Fact]
    public async Task A_bridge_posts_plaintext_answers_which_are_sealed_on_arrival_and_checked_against_the_flow()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync(retentionDays: 30);
        using Reporter bridge = new(relay);
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        string path = $"/api/v1/intakes/{intake.IntakeId}/bridge";
        Dictionary<string, string> given = new()
        {
            ["statement"] = $"{canary} Свободу политзаключённым!",
            ["rally"] = "Berlin, Brandenburg Gate",
            ["signature"] = "anonymous",
            ["consent"] = "yes",
        };

        // Refusals that cost the bridge nothing (no proof-of-work is used up): a step the answers do
        // not ask for, a step the flow does not have, a refused consent.
        PowSolution pow = await bridge.SolveAsync(intake.IntakeId);
        foreach (Dictionary<string, string> wrong in new[]
        {
            new Dictionary<string, string>(given) { ["signature-text"] = "Anna, 34" },
            new Dictionary<string, string>(given) { ["mood"] = "angry" },
            new Dictionary<string, string>(given) { ["consent"] = "no" },
            new Dictionary<string, string>(given) { ["signature"] = "nobody" },
            given.Where(a => a.Key != "statement").ToDictionary(),
        })
        {
            using HttpResponseMessage refused = await bridge.PostAsync(path, new BridgeReportRequest(pow, "rally-statement", "ru", wrong));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE IntakeId = '{Upper(intake.IntakeId)}'"));
        ReceiptIssued issued = await Reporter.ReadAsync<ReceiptIssued>(await bridge.PostAsync(path, new BridgeReportRequest(pow, "rally-statement", "ru", given)), HttpStatusCode.Created);
        Assert.Equal(issued.Receipt, ReceiptPhrase.Normalize(issued.Receipt));
        Assert.Equal(ReceiptPhrase.Words, issued.Receipt.Split(' ').Length);

        InboxReport report = Assert.Single(await world.InboxAsync(world.Member));
        Assert.Equal(issued.ExpiresAt, report.ExpiresAt);
        using (X25519KeyPair key = world.IntakeKeyOf(world.Member, intake))
        {
            JsonElement opened = IntakeWorld.OpenReport(key, report.SealedReport);
            Assert.Equal("rally-statement", opened.GetProperty("flow").GetString());
            Assert.Equal("ru", opened.GetProperty("language").GetString());
            Assert.Equal(issued.Receipt, opened.GetProperty("receipt").GetString());
            Assert.Equal(
                new Dictionary<string, string>(given) { ["editing"] = "translate-only" },
                opened.GetProperty("answers").Deserialize<Dictionary<string, string>>());
        }

        await AssertReplyReachesAsync(world, bridge, report.ReportId, issued.Receipt);
        RelayScan.AssertAbsent(relay, [canary, issued.Receipt, bridge.UserAgent, RelayFactory.ClientAddress, "Свободу политзаключённым", "Brandenburg Gate"], [ReceiptPhrase.LookupSecret(issued.Receipt)]);
    }

    [Fact]
    public async Task Consent_refused_in_a_conversation_discards_everything_and_stores_nothing()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync();
        using Reporter reporter = new(relay);
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        string conversations = $"/api/v1/intakes/{intake.IntakeId}/conversations";
        BotTurn turn = await Reporter.ReadAsync<BotTurn>(
            await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "rally-statement", "en")), HttpStatusCode.OK);
        string answers = $"{conversations}/{turn.ConversationId}/answers";
        foreach (string? answer in new[] { $"{canary} a statement never sent", null, "anonymous", null })
        {
            turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer(answer)), HttpStatusCode.OK);
        }

        Assert.Equal("consent", turn.StepId);
        turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("no")), HttpStatusCode.OK);
        Assert.True(turn.Done);
        Assert.Null(turn.Receipt);
        Assert.Null(turn.ExpiresAt);
        Assert.Equal("Nothing was sent. Everything you typed has been discarded.", turn.Message);

        using (HttpResponseMessage gone = await reporter.PostAsync(answers, new ConversationAnswer("yes")))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Empty(await world.InboxAsync(world.Member));
        Assert.Equal(0, relay.Count($"SELECT COUNT(*) FROM IntakeReports WHERE IntakeId = '{Upper(intake.IntakeId)}'"));
        RelayScan.AssertAbsent(relay, [canary, "a statement never sent", reporter.UserAgent, RelayFactory.ClientAddress], []);
    }

    [Fact]
    public async Task The_flows_document_is_served_without_comments_with_the_intakes_retention()
    {
        await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
        IntakeInfo intake = await world.OpenIntakeAsync(retentionDays: 9);
        using Reporter reporter = new(relay);

        using HttpResponseMessage response = await reporter.Http.GetAsync(new Uri($"/api/v1/intakes/{intake.IntakeId}/flows", UriKind.Relative)).WaitAsync(TestTimeouts.Default);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string served = await response.Content.ReadAsStringAsync();
        using JsonDocument document = JsonDocument.Parse(served);
        Assert.Equal(["ru", "en"], document.RootElement.GetProperty("languages").Deserialize<string[]>()!);
        Assert.Equal(["detention-report", "rally-statement"], document.RootElement.GetProperty("flows").EnumerateArray().Select(f => f.GetProperty("key").GetString()!).ToArray());
        Assert.DoesNotContain("\"$", served, StringComparison.Ordinal);
        Assert.DoesNotContain("{retentionDays}", served, StringComparison.Ordinal);
        Assert.Contains("after 9 days", served, StringComparison.Ordinal);

        // The seeds file itself is the same document with its comments.
        using JsonDocument seeds = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "seeds", "intake-flows.json")));
        Assert.True(seeds.RootElement.TryGetProperty("$comment", out _));

        foreach (string unknown in new[] { $"/api/v1/intakes/{Guid.NewGuid()}", $"/api/v1/intakes/{Guid.NewGuid()}/flows" })
        {
            using HttpResponseMessage missing = await reporter.Http.GetAsync(new Uri(unknown, UriKind.Relative)).WaitAsync(TestTimeouts.Default);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using HttpResponseMessage noChallenge = await reporter.PostAsync($"/api/v1/intakes/{Guid.NewGuid()}/challenges", new { });
        Assert.Equal(HttpStatusCode.NotFound, noChallenge.StatusCode);
    }

    internal static string Upper(Guid id) => id.ToString().ToUpperInvariant();

    /// <summary>The team replies; the reporter finds and opens the reply with nothing but the phrase.</summary>
    private static async Task AssertReplyReachesAsync(IntakeWorld world, Reporter reporter, Guid reportId, string phrase)
    {
        string text = "Received; we are on it. " + Guid.NewGuid().ToString("N");
        using (HttpResponseMessage replied = await world.SendAsync(world.Member, HttpMethod.Post, $"/api/v1/intake-reports/{reportId}/replies",
            new ReplyRequest(IntakeWorld.SealReply(phrase, text, DateOnly.FromDateTime(DateTime.UtcNow)))))
        {
            Assert.Equal(HttpStatusCode.Created, replied.StatusCode);
        }

        ReplyList replies = await Reporter.ReadAsync<ReplyList>(
            await reporter.PostAsync("/api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(phrase))), HttpStatusCode.OK);
        Assert.Equal(text, IntakeWorld.OpenReply(phrase, Assert.Single(replies.Replies).Sealed));
    }
}
