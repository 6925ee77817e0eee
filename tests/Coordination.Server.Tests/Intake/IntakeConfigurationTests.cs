using System.Net;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Intake;

namespace Coordination.Server.Tests.Intake;

/// <summary>
/// The intake's settings: the pepper is a 0600 file in the data directory unless Intake:Pepper
/// is set, and never in the database; the flows document is the copy next to the binary unless
/// Intake:FlowsPath names another, so a cell's own flows (and languages) are data; a missing or
/// broken setting stops the start with its name.
/// </summary>
public sealed class IntakeConfigurationTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_pepper_is_made_at_first_start_readable_by_the_owner_only_and_never_stored_in_the_database()
    {
        using RelayFactory relay = new();
        using HttpClient http = relay.CreateRealClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("healthz", UriKind.Relative)).WaitAsync(TestTimeouts.Default)).StatusCode);

        string path = Path.Combine(relay.DataDirectory, ReceiptLookup.PepperFileName);
        Assert.True(File.Exists(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        byte[] pepper = await File.ReadAllBytesAsync(path);
        Assert.Equal(32, pepper.Length);
        Assert.False(RelayScan.Contains(RelayScan.Storage(relay), pepper));
    }

    [Fact]
    public async Task A_configured_pepper_is_used_instead_of_a_file()
    {
        using ConfiguredRelay relay = new(new() { ["Intake:Pepper"] = Convert.ToBase64String(SecureRandom.Bytes(32)) });
        using HttpClient http = relay.CreateRealClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("healthz", UriKind.Relative)).WaitAsync(TestTimeouts.Default)).StatusCode);
        Assert.False(File.Exists(Path.Combine(relay.DataDirectory, ReceiptLookup.PepperFileName)));
    }

    [Theory]
    [InlineData("Intake:Pepper", "c2hvcnQ=", "Intake:Pepper")]
    [InlineData("Intake:Pepper", "not base64 at all", "Intake:Pepper")]
    [InlineData("Intake:FlowsPath", "/nonexistent/intake-flows.json", "/nonexistent/intake-flows.json")]
    [InlineData("Intake:MaxConversations", "0", "Intake:MaxConversations")]
    public void A_bad_intake_setting_stops_the_start(string key, string value, string named)
    {
        using ConfiguredRelay relay = new(new() { [key] = value });
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => relay.ServerAddress);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flows_document_without_a_final_consent_stops_the_start()
    {
        string path = Path.Combine(Path.GetTempPath(), "coordination-tests", $"flows-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, """
            { "schemaVersion": 1, "languages": ["en"], "flows": [ { "key": "tip", "title": { "en": "A tip" }, "intro": { "en": "Hi" }, "completion": { "en": "Thanks" },
              "steps": [ { "id": "what", "question": { "en": "What?" }, "answer": { "kind": "text" }, "optional": false } ] } ] }
            """);
        try
        {
            using ConfiguredRelay relay = new(new() { ["Intake:FlowsPath"] = path });
            InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => relay.ServerAddress);
            Assert.Contains("consent", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_cells_own_flows_document_with_another_language_drives_the_bot()
    {
        string path = Path.Combine(Path.GetTempPath(), "coordination-tests", $"flows-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, """
            {
              "$comment": "A one-question flow in Ukrainian and English.",
              "schemaVersion": 1,
              "languages": ["uk", "en"],
              "flows": [
                {
                  "key": "tip",
                  "title": { "uk": "Повідомлення", "en": "A tip" },
                  "intro": { "uk": "Вітаємо.", "en": "Hello." },
                  "completion": { "uk": "Дякуємо.", "en": "Thank you." },
                  "steps": [
                    { "id": "what", "question": { "uk": "Що сталося?", "en": "What happened?" }, "answer": { "kind": "text", "maxLength": 50 }, "optional": false },
                    { "id": "consent", "question": { "uk": "Видалимо через {retentionDays} днів. Згодні?", "en": "Deleted after {retentionDays} days. Agree?" }, "answer": { "kind": "consent" }, "optional": false }
                  ]
                }
              ]
            }
            """);
        try
        {
            using ConfiguredRelay relay = new(new() { ["Intake:FlowsPath"] = path });
            await using IntakeWorld world = await IntakeWorld.CreateAsync(relay);
            IntakeInfo intake = await world.OpenIntakeAsync(retentionDays: 3);
            using Reporter reporter = new(relay);
            PublicIntake open = await Reporter.ReadAsync<PublicIntake>(await reporter.Http.GetAsync(new Uri($"/api/v1/intakes/{intake.IntakeId}", UriKind.Relative)), HttpStatusCode.OK);
            Assert.Equal(["uk", "en"], open.Languages);

            string conversations = $"/api/v1/intakes/{intake.IntakeId}/conversations";
            using (HttpResponseMessage russian = await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "tip", "ru")))
            {
                Assert.Equal(HttpStatusCode.BadRequest, russian.StatusCode);
            }

            BotTurn turn = await Reporter.ReadAsync<BotTurn>(
                await reporter.PostAsync(conversations, new StartConversationRequest(await reporter.SolveAsync(intake.IntakeId), "tip", "uk")), HttpStatusCode.OK);
            Assert.Equal(("Вітаємо.", "Що сталося?"), (turn.Message, turn.Question));
            string answers = $"{conversations}/{turn.ConversationId}/answers";
            turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("Обшук у редакції")), HttpStatusCode.OK);
            Assert.Equal("Видалимо через 3 днів. Згодні?", turn.Question);
            Assert.Equal(["yes", "no"], turn.Options!.Select(o => o.Value));
            turn = await Reporter.ReadAsync<BotTurn>(await reporter.PostAsync(answers, new ConversationAnswer("yes")), HttpStatusCode.OK);
            Assert.Equal(("Дякуємо.", true), (turn.Message, turn.Done));

            InboxReport report = Assert.Single(await world.InboxAsync(world.Member));
            using X25519KeyPair key = world.IntakeKeyOf(world.Member, intake);
            System.Text.Json.JsonElement opened = IntakeWorld.OpenReport(key, report.SealedReport);
            Assert.Equal("uk", opened.GetProperty("language").GetString());
            Assert.Equal("Обшук у редакції", opened.GetProperty("answers").GetProperty("what").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class ConfiguredRelay(Dictionary<string, string?> settings) : RelayFactory(settings);
}
