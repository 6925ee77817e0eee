using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Coordination.Client.Cells;
using Coordination.Client.Intake;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Tests.Infrastructure;
using Coordination.Server.Tests.Intake;

namespace Coordination.Server.Tests.Privacy;

/// <summary>
/// Every feature through the SDK against one relay, each piece of user content carrying a canary
/// of its own: direct and cell messages; a cell's name, description and display names; a GRAS
/// group with an event and an answer to it; a task's title, description, capability tag, note for
/// the assignee and thread; an intake's reports by every path (sealed on the device, the bot
/// conversation, the bridge), the team's replies and the receipts. Each reaches the relay and is
/// read back by its recipient; then the database (on SQLite its files, on PostgreSQL its files and
/// the write-ahead log) and every logged line are scanned for the canaries, the session tokens,
/// the client's address, the User-Agent, the receipts and what derives from them in the clear. A
/// known ciphertext, a sealed report and a receipt's lookup id are found by the same scan, so it
/// does not pass by looking at nothing.
/// </summary>
public sealed class EveryFeatureCanaryTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Every_features_content_reaches_the_relay_and_none_is_at_rest_or_in_the_logs()
    {
        string userAgent = "EveryFeatureAgent" + Hex();
        List<string> canaries = [];
        string Canary(string feature)
        {
            string canary = $"canary-{feature}-{Hex()}";
            canaries.Add(canary);
            return canary;
        }

        List<CellMember> people = [];
        async Task<CellMember> PersonAsync()
        {
            CellMember person = await CellMember.CreateAsync(relay).WaitAsync(TestTimeouts.Default);
            person.Device.Api.Http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent + "/1.0");
            people.Add(person);
            return person;
        }

        HttpClient reporterHttp = relay.CreateRealClient();
        reporterHttp.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent + "/1.0");
        using ReporterClient reporter = new(reporterHttp);
        try
        {
            CellMember olga = await PersonAsync();
            CellMember anna = await PersonAsync();
            CellMember boris = await PersonAsync();
            List<string> tokens = [.. people.Select(p => p.Device.Api.Token!)];

            // Cells: the name and description, and the display names of the organizer and of a member.
            string cellName = Canary("cell-name");
            string cellDescription = Canary("cell-description");
            string olgaName = Canary("display-name-organizer");
            string annaName = Canary("display-name-member");
            CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, cellName, cellDescription, olgaName, null, None).WaitAsync(TestTimeouts.Default);
            string code = await olga.Cells.InviteAsync(cell.CellId, MemberRole.Member, RiskLevel.Critical, 1, TimeSpan.FromHours(1), 0, None).WaitAsync(TestTimeouts.Default);
            JoinResult joined = await anna.Cells.JoinAsync(code, annaName, None).WaitAsync(TestTimeouts.Default);
            Assert.True(joined.Admitted);
            Assert.Equal((cellName, cellDescription), (joined.Cell!.Name, joined.Cell.Description));
            Guid annaMembership = joined.Cell.Membership.MembershipId;
            await olga.AdmitAsync(boris, cell.CellId);
            List<VerifiedMember> members = await boris.Cells.MembersAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
            Assert.Contains(members, m => m.AccountId == olga.AccountId && m.DisplayName == olgaName);
            Assert.Contains(members, m => m.AccountId == anna.AccountId && m.DisplayName == annaName);

            // Messages: a direct one, seen by the recipient as the relay hands it over before it is
            // acknowledged (its ciphertext is then in the database), and one to the whole cell.
            string direct = Canary("message-direct");
            Guid conversation = await anna.Messages.ResolveConversationAsync(boris.AccountId.ToString(), None).WaitAsync(TestTimeouts.Default);
            await anna.Messages.SendTextAsync(conversation, direct, None).WaitAsync(TestTimeouts.Default);
            InboxPage pending = await boris.Device.Api.FetchAsync().WaitAsync(TestTimeouts.Default);
            byte[] envelope = Assert.Single(pending.Envelopes, e => e.ConversationId == conversation).Ciphertext;
            byte[] stored = relay.ReadStorage();
            Assert.True(
                RelayScan.Contains(stored, envelope[..(envelope.Length / 2)]) || RelayScan.Contains(stored, envelope[(envelope.Length / 2)..]),
                "the scan does not find the undelivered envelope's ciphertext in the database");
            Assert.Equal([direct], await boris.ReadAsync(conversation));
            string group = Canary("message-cell");
            await olga.Messages.SendTextAsync(cell.CellId, group, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal([group], await anna.ReadAsync(cell.CellId));
            Assert.Equal([group], await boris.ReadAsync(cell.CellId));

            // Events: a GRAS group with its own name and display name, an event, and an answer to it.
            string groupName = Canary("group-name");
            string groupDisplayName = Canary("group-display-name");
            CellView gras = await olga.Cells.CreateAsync(ConversationKind.GrasGroup, groupName, null, groupDisplayName, null, None).WaitAsync(TestTimeouts.Default);
            await olga.AdmitAsync(anna, gras.CellId);
            Assert.Equal(groupName, (await anna.Cells.GetAsync(gras.CellId, None).WaitAsync(TestTimeouts.Default)).Name);
            EventDetails details = new(Canary("event-place"), DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddDays(7).ToUnixTimeMilliseconds()), Canary("event-topic"));
            GroupEventView created = await Events(olga).CreateAsync(gras.CellId, details, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal(details, Assert.Single(await Events(anna).ListAsync(gras.CellId, None).WaitAsync(TestTimeouts.Default)).Details);
            await Events(anna).RsvpAsync(gras.CellId, created.EventId, RsvpAnswer.Maybe, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal(new RsvpTally(0, 1, 0, 0), Assert.Single(await Events(olga).ListAsync(gras.CellId, None).WaitAsync(TestTimeouts.Default)).Tally);

            // An answer is one byte and carries no text: what the relay holds of it is 56 bytes that
            // open, with the group's key, to exactly that answer.
            byte[] sealedAnswer = (byte[])Assert.Single(relay.Query("SELECT SealedAnswer FROM EventRsvps WHERE EventId = $0", created.EventId))[0]!;
            Assert.Equal(24 + 16 + 16, sealedAnswer.Length);
            Guid annaInGroup = (await anna.Cells.GetAsync(gras.CellId, None).WaitAsync(TestTimeouts.Default)).Membership.MembershipId;
            Assert.Equal(RsvpAnswer.Maybe, GroupEventClient.OpenAnswer(new CellKeyring(anna.Store).Get(gras.CellId)!.CellKey, gras.CellId, created.EventId, annaInGroup, sealedAnswer));

            // Tasks: a capability tag, a task needing it, a note sealed to the assignee's device, the thread.
            string tag = Canary("task-tag");
            string title = Canary("task-title");
            string description = Canary("task-description");
            string note = Canary("task-note");
            string thread = Canary("task-thread");
            await new TaskClient(olga.Cells).SetTagsAsync(cell.CellId, annaMembership, [tag], None).WaitAsync(TestTimeouts.Default);
            TaskView task = await new TaskClient(olga.Cells).CreateAsync(cell.CellId, RiskLevel.Low, title, description, [tag], 1, null, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal(1, task.RequiredTags);
            byte[] sealedNote = SealedBox.Seal(Padding.Pad(Encoding.UTF8.GetBytes(note), 256), anna.Device.Identity.AgreementKey.PublicKey);
            await olga.Device.Api.OfferTaskAsync(task.TaskId, new OfferTaskRequest(annaMembership, SealedForAssignee: sealedNote)).WaitAsync(TestTimeouts.Default);
            TaskView accepted = await new TaskClient(anna.Cells).AcceptAsync(task.TaskId, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal((TaskState.Accepted, title, description), (accepted.State, accepted.Title, accepted.Body));
            byte[] noteForAnna = Assert.Single(accepted.Assignments, a => a.MembershipId == annaMembership).SealedForAssignee!;
            Assert.True(SealedBox.TryOpen(noteForAnna, anna.Device.Identity.AgreementKey, out byte[]? paddedNote));
            Assert.True(Padding.TryUnpad(paddedNote, 256, out int noteLength));
            Assert.Equal(note, Encoding.UTF8.GetString(paddedNote.AsSpan(0, noteLength)));
            await anna.Messages.SendTextAsync(accepted.ThreadId, thread, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal([thread], await olga.ReadAsync(accepted.ThreadId));

            // Intake: a report sealed on the device, one through the bot conversation and one through
            // the bridge (both handed to the relay in the clear and sealed on arrival), read by a
            // member; a reply to each, read by the reporter with the receipt.
            IntakeInfo intake = await new IntakeTeamClient(olga.Cells).OpenAsync(cell.CellId, 7, 8, None).WaitAsync(TestTimeouts.Default);
            string today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            Dictionary<string, string> sealedAnswers = new()
            {
                ["what"] = Canary("report-sealed-what"),
                ["when"] = today,
                ["where"] = Canary("report-sealed-where"),
                ["consent"] = "yes",
            };
            SubmittedReport sealedReport = await reporter.SubmitSealedAsync(intake.IntakeId, "detention-report", "en", sealedAnswers, None).WaitAsync(TestTimeouts.Default);
            Dictionary<string, string> botAnswers = new()
            {
                ["what"] = Canary("report-bot-what"),
                ["when"] = today,
                ["where"] = Canary("report-bot-where"),
                ["contact"] = Canary("report-bot-contact"),
                ["consent"] = "yes",
            };
            string botReceipt = await ConverseAsync(reporter, intake.IntakeId, botAnswers);
            Dictionary<string, string> bridgeAnswers = new()
            {
                ["statement"] = Canary("report-bridge-statement"),
                ["signature"] = "pseudonym",
                ["signature-text"] = Canary("report-bridge-signature"),
                ["consent"] = "yes",
            };
            SubmittedReport bridgeReport = await reporter.SubmitBridgeAsync(intake.IntakeId, "rally-statement", "en", bridgeAnswers, None).WaitAsync(TestTimeouts.Default);
            string[] receipts = [sealedReport.Receipt, botReceipt, bridgeReport.Receipt];

            IntakeTeamClient team = new(anna.Cells);
            List<IntakeReportView> inbox = await team.InboxAsync(cell.CellId, None).WaitAsync(TestTimeouts.Default);
            Assert.Equal(3, inbox.Count);
            foreach ((string receipt, Dictionary<string, string> answers) in new[] { (receipts[0], sealedAnswers), (receipts[1], botAnswers), (receipts[2], bridgeAnswers) })
            {
                IntakeReportView report = Assert.Single(inbox, r => r.Content?.Receipt == receipt);
                Assert.All(answers, a => Assert.Equal(a.Value, report.Content!.Answers[a.Key]));
                string reply = Canary("intake-reply");
                await team.ReplyAsync(report, reply, None).WaitAsync(TestTimeouts.Default);
                Assert.Equal([reply], (await reporter.CheckRepliesAsync(receipt, None).WaitAsync(TestTimeouts.Default)).Select(r => r.Text));
            }

            // The scan finds a sealed report as the team reads it from the relay, and the receipt's
            // Argon2id lookup id, which is all the relay keeps of the receipt.
            stored = relay.ReadStorage();
            InboxReport sealedInInbox = Assert.Single(
                await anna.Device.Api.ListIntakeReportsAsync(cell.CellId).WaitAsync(TestTimeouts.Default),
                r => r.ReportId == inbox.Single(v => v.Content!.Receipt == receipts[0]).ReportId);
            Assert.True(RelayScan.ContainsPiece(stored, sealedInInbox.SealedReport), "the scan does not find the sealed report in the database");
            byte[] lookupId = (byte[])Assert.Single(relay.Query("SELECT ReceiptLookupId FROM IntakeReports WHERE Id = $0", sealedInInbox.ReportId))[0]!;
            Assert.Equal(32, lookupId.Length);
            Assert.NotEqual(ReceiptPhrase.LookupSecret(ReceiptPhrase.Normalize(receipts[0])!), lookupId);
            Assert.True(RelayScan.Contains(stored, lookupId), "the scan does not find the receipt's lookup id in the database");

            // The log scan covers the requests that carried answers in the clear.
            Assert.Contains(relay.Logs, line => line.Contains($"/api/v1/intakes/{intake.IntakeId}/bridge", StringComparison.Ordinal));

            // Nothing in the clear: every canary, each receipt (whole, any two of its words in a row,
            // its lookup secret and reply key), every session token (as the client holds it and its
            // bytes), the client's address and the User-Agent.
            tokens.AddRange(people.Select(p => p.Device.Api.Token!));
            List<string> texts = [.. canaries, .. tokens.Distinct(), RelayFactory.ClientAddress, userAgent];
            List<byte[]> raw = [.. tokens.Distinct().Select(t => Base64Url.DecodeFromChars(t))];
            foreach (string receipt in receipts)
            {
                string phrase = ReceiptPhrase.Normalize(receipt)!;
                string[] words = phrase.Split(' ');
                texts.Add(phrase);
                texts.AddRange(words.Zip(words.Skip(1), (a, b) => $"{a} {b}"));
                raw.Add(ReceiptPhrase.LookupSecret(phrase));
                raw.Add(ReceiptPhrase.ReplyKey(phrase));
            }

            Assert.Equal(25, canaries.Count);
            RelayScan.AssertAbsent(relay, texts, raw);
        }
        finally
        {
            foreach (CellMember person in people)
            {
                await person.DisposeAsync().AsTask().WaitAsync(TestTimeouts.Default);
            }
        }
    }

    private static GroupEventClient Events(CellMember member) => new(member.Device.Api, member.Store);

    private static string Hex() => Convert.ToHexStringLower(SecureRandom.Bytes(8));

    /// <summary>The bot conversation in English, answering each step from <paramref name="answers"/> and skipping the optional rest; returns the receipt.</summary>
    private static async Task<string> ConverseAsync(ReporterClient reporter, Guid intakeId, Dictionary<string, string> answers)
    {
        BotTurn turn = await reporter.StartConversationAsync(intakeId, "detention-report", "en", None).WaitAsync(TestTimeouts.Default);
        for (int i = 0; !turn.Done; i++)
        {
            Assert.True(i < 20, "The conversation does not end.");
            string? answer = answers.GetValueOrDefault(turn.StepId!);
            Assert.True(answer is not null || turn.Optional, $"No answer planned for the required step {turn.StepId}.");
            turn = await reporter.AnswerAsync(intakeId, turn.ConversationId, answer, None).WaitAsync(TestTimeouts.Default);
        }

        Assert.NotNull(turn.Receipt);
        return turn.Receipt;
    }
}
