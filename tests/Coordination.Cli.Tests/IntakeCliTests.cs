using System.Globalization;
using System.Text;
using System.Text.Json;
using Coordination.Cli.Tests.Infrastructure;
using Coordination.Client.Intake;
using Coordination.Protocol;

namespace Coordination.Cli.Tests;

/// <summary>
/// <c>coord intake ...</c> against the real relay: an anonymous reporter (no profile at all)
/// submits through the CLI, and by the bot and bridge paths; the intake team reads each report
/// exactly, replies, and the reporter reads the reply with the receipt. A member of another cell
/// reads nothing; a report becomes a task whose title is not in the relay's database; no answer is
/// at rest or in the relay's logs.
/// </summary>
public sealed class IntakeCliTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    // Under the relay's data directory, which the fixture deletes.
    private Coord Coord => new(Path.Combine(relay.DataDirectory, "cli-home"));

    /// <summary>A reporter's machine: a home with no profile, and no passphrase to open one.</summary>
    private Coord Reporter
    {
        get
        {
            Coord coord = new(Path.Combine(relay.DataDirectory, "reporter-home-" + Guid.NewGuid().ToString("N")[..6]));
            coord.Environment.Remove("COORD_PASSPHRASE");
            return coord;
        }
    }

    [Fact]
    public async Task Every_path_reaches_the_team_exactly_and_the_reply_reaches_the_reporter_by_receipt()
    {
        (Person olga, Person anna, Guid cell) = await TeamAsync();
        JsonElement opened = await Coord.JsonAsync(olga.Args("intake", "open", "--cell", cell.ToString(), "--retention-days", "7", "--difficulty", "8"));
        Guid intake = opened.GetProperty("intakeId").GetGuid();
        Assert.Equal($"/intake/{intake}", opened.GetProperty("page").GetString());
        Assert.Equal(new Uri(new Uri(relay.Url), $"intake/{intake}").AbsoluteUri, opened.GetProperty("pageUrl").GetString());
        Assert.Equal((7, 8), (opened.GetProperty("retentionDays").GetInt32(), opened.GetProperty("powDifficulty").GetInt32()));
        Assert.Equal(intake, (await Coord.JsonAsync(anna.Args("intake", "list", "--cell", cell.ToString()))).GetProperty("intakes")[0].GetProperty("intakeId").GetGuid());

        // 1. Sealed by the CLI, as an anonymous reporter with no profile.
        string cliCanary = Canary("cli");
        string text = $"Задержали троих у суда. {cliCanary}";
        Coord reporter = Reporter;
        JsonElement submitted = await reporter.JsonAsync("--server", relay.Url, "intake", "submit", intake.ToString(), "--text", text, "--lang", "ru", "--answer", "how-many=two-to-five");
        string cliReceipt = submitted.GetProperty("receipt").GetString()!;
        Assert.Equal(8, cliReceipt.Split(' ').Length);
        Assert.Equal(("detention-report", "ru"), (submitted.GetProperty("flow").GetString(), submitted.GetProperty("language").GetString()));
        Assert.Equal(["when", "where", "consent"], submitted.GetProperty("filled").EnumerateArray().Select(e => e.GetString()));
        Assert.False(Directory.Exists(Path.Combine(reporter.Environment["HOME"]!, ".coordination")));

        // 2. The bot conversation and 3. the bridge, through the SDK.
        using ReporterClient sdk = new(relay.CreateRealClient());
        string botCanary = Canary("bot");
        BotTurn turn = await sdk.StartConversationAsync(intake, "detention-report", "en", CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Dictionary<string, string> botAnswers = new()
        {
            ["what"] = $"Police took a man from the square. {botCanary}",
            ["when"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["where"] = "Central square",
            ["consent"] = "yes",
        };
        for (int i = 0; !turn.Done && i < 20; i++)
        {
            turn = await sdk.AnswerAsync(intake, turn.ConversationId, botAnswers.GetValueOrDefault(turn.StepId!), CancellationToken.None).WaitAsync(TestTimeouts.Default);
        }

        string botReceipt = turn.Receipt!;
        Assert.NotNull(botReceipt);
        string bridgeCanary = Canary("bridge");
        Dictionary<string, string> bridgeAnswers = new() { ["statement"] = $"Free them all. {bridgeCanary}", ["signature"] = "anonymous", ["consent"] = "yes" };
        string bridgeReceipt = (await sdk.SubmitBridgeAsync(intake, "rally-statement", "en", bridgeAnswers, CancellationToken.None).WaitAsync(TestTimeouts.Default)).Receipt;

        // The team reads each exactly.
        JsonElement inbox = await Coord.JsonAsync(anna.Args("intake", "inbox", "--cell", cell.ToString()));
        List<JsonElement> reports = [.. inbox.GetProperty("reports").EnumerateArray()];
        Assert.Equal(3, reports.Count);
        Assert.All(reports, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("failure").ValueKind));
        Assert.All(reports, r => Assert.Equal("new", r.GetProperty("state").GetString()));
        JsonElement fromCli = Assert.Single(reports, r => Answer(r, "what") == text);
        Assert.Equal("ru", fromCli.GetProperty("language").GetString());
        Assert.Equal(("two-to-five", "не указано", "yes"), (Answer(fromCli, "how-many"), Answer(fromCli, "where"), Answer(fromCli, "consent")));
        JsonElement fromBot = Assert.Single(reports, r => Answer(r, "what") == botAnswers["what"]);
        Assert.All(botAnswers, a => Assert.Equal(a.Value, Answer(fromBot, a.Key)));
        JsonElement fromBridge = Assert.Single(reports, r => Answer(r, "statement") == bridgeAnswers["statement"]);
        Assert.All(bridgeAnswers, a => Assert.Equal(a.Value, Answer(fromBridge, a.Key)));
        Guid cliReport = fromCli.GetProperty("reportId").GetGuid();
        JsonElement shown = await Coord.JsonAsync(anna.Args("intake", "show", cliReport.ToString(), "--cell", cell.ToString()));
        Assert.Equal(text, Answer(shown, "what"));

        // Replies, each read only with its own receipt.
        await Coord.JsonAsync(anna.Args("intake", "reply", cliReport.ToString(), "--cell", cell.ToString(), "--text", "Адвокат уже едет."));
        await Coord.JsonAsync(olga.Args("intake", "reply", fromBridge.GetProperty("reportId").GetGuid().ToString(), "--cell", cell.ToString(), "--text", "Read aloud in Vilnius."));
        JsonElement checkedCli = await Reporter.JsonAsync(["--server", relay.Url, "intake", "check", .. cliReceipt.Split(' ')]);
        JsonElement reply = Assert.Single(checkedCli.GetProperty("replies").EnumerateArray());
        Assert.Equal(("Адвокат уже едет.", JsonValueKind.Null), (reply.GetProperty("text").GetString(), reply.GetProperty("failure").ValueKind));
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), reply.GetProperty("sentOn").GetString());
        Assert.Equal("Read aloud in Vilnius.", (await Reporter.JsonAsync("--server", relay.Url, "intake", "check", bridgeReceipt)).GetProperty("replies")[0].GetProperty("text").GetString());
        Assert.Equal(0, (await Reporter.JsonAsync("--server", relay.Url, "intake", "check", botReceipt)).GetProperty("replies").GetArrayLength());

        // The receipt from standard input, so it need not be in the shell's history.
        CoordResult piped = await Reporter.RunWithInputAsync(cliReceipt + "\n", "--server", relay.Url, "intake", "check", "--json");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal("Адвокат уже едет.", piped.Json.GetProperty("replies")[0].GetProperty("text").GetString());

        // Triage, then delete: the reporter's receipt then finds nothing.
        JsonElement triaged = await Coord.JsonAsync(anna.Args("intake", "triage", cliReport.ToString(), "--cell", cell.ToString(), "--state", "in-progress"));
        Assert.Equal("in-progress", triaged.GetProperty("state").GetString());
        JsonElement after = await Coord.JsonAsync(anna.Args("intake", "show", cliReport.ToString(), "--cell", cell.ToString()));
        Assert.Equal(("in-progress", 1), (after.GetProperty("state").GetString(), after.GetProperty("replies").GetInt32()));
        await Coord.JsonAsync(anna.Args("intake", "delete", cliReport.ToString(), "--cell", cell.ToString()));
        Assert.Equal(2, (await Coord.JsonAsync(anna.Args("intake", "inbox", "--cell", cell.ToString()))).GetProperty("reports").GetArrayLength());
        CoordResult gone = await Reporter.RunAsync("--server", relay.Url, "intake", "check", cliReceipt, "--json");
        Assert.Equal(ExitCodes.Failure, gone.ExitCode);
        Assert.Equal(404, gone.Error.GetProperty("status").GetInt32());

        AssertNowhere(cliCanary, botCanary, bridgeCanary, "Задержали троих", cliReceipt, botReceipt, bridgeReceipt, "Адвокат уже едет", "Read aloud in Vilnius");
    }

    [Fact]
    public async Task A_member_of_another_cell_reads_nothing_and_a_report_becomes_a_sealed_task()
    {
        (Person olga, Person anna, Guid cell) = await TeamAsync();
        Guid intake = (await Coord.JsonAsync(olga.Args("intake", "open", "--cell", cell.ToString(), "--difficulty", "8"))).GetProperty("intakeId").GetGuid();
        string canary = Canary("task");
        await Reporter.JsonAsync("--server", relay.Url, "intake", "submit", intake.ToString(), "--text", $"Detained at the border {canary}", "--answer", "help=lawyer");
        Guid report = (await Coord.JsonAsync(anna.Args("intake", "inbox", "--cell", cell.ToString()))).GetProperty("reports")[0].GetProperty("reportId").GetGuid();

        // Someone who organizes a cell of their own sees nothing of this one.
        Person stranger = await CreateAsync("stranger");
        await Coord.JsonAsync(stranger.Args("cell", "create", "--name", "Elsewhere"));
        foreach (string[] args in new[]
        {
            new[] { "intake", "inbox", "--cell", cell.ToString() },
            ["intake", "show", report.ToString(), "--cell", cell.ToString()],
            ["intake", "list", "--cell", cell.ToString()],
        })
        {
            CoordResult refused = await Coord.RunAsync([.. stranger.Args(args), "--json"]);
            Assert.True(refused.ExitCode == ExitCodes.Failure, refused.ToString());
            Assert.Equal(404, refused.Error.GetProperty("status").GetInt32());
            Assert.DoesNotContain(canary, refused.Stdout + refused.Stderr, StringComparison.Ordinal);
        }

        CoordResult triage = await Coord.RunAsync([.. stranger.Args("intake", "triage", report.ToString(), "--cell", cell.ToString(), "--state", "closed"), "--json"]);
        Assert.Equal(ExitCodes.Failure, triage.ExitCode);
        CoordResult delete = await Coord.RunAsync([.. stranger.Args("intake", "delete", report.ToString(), "--cell", cell.ToString()), "--json"]);
        Assert.Equal(ExitCodes.Failure, delete.ExitCode);
        Assert.Single((await Coord.JsonAsync(anna.Args("intake", "inbox", "--cell", cell.ToString()))).GetProperty("reports").EnumerateArray());

        // To a task: made and sealed on the organizer's device; the members read it, the relay does not.
        JsonElement task = await Coord.JsonAsync(olga.Args("intake", "to-task", report.ToString(), "--cell", cell.ToString(), "--risk", "elevated", "--needs", "lawyer"));
        string title = task.GetProperty("title").GetString()!;
        Assert.Equal($"Report a detention: Detained at the border {canary}", title);
        Assert.Equal(("elevated", 1), (task.GetProperty("risk").GetString(), task.GetProperty("requiredTags").GetInt32()));
        Assert.Contains("What help is needed?\nA lawyer", task.GetProperty("body").GetString(), StringComparison.Ordinal);
        JsonElement seen = await Coord.JsonAsync(anna.Args("task", "show", task.GetProperty("taskId").GetGuid().ToString()));
        Assert.Equal(title, seen.GetProperty("title").GetString());

        AssertNowhere(canary, title, "Detained at the border");
    }

    [Fact]
    public async Task Reporters_text_is_made_safe_for_the_terminal()
    {
        (Person olga, Person anna, Guid cell) = await TeamAsync();
        Guid intake = (await Coord.JsonAsync(olga.Args("intake", "open", "--cell", cell.ToString(), "--difficulty", "8"))).GetProperty("intakeId").GetGuid();
        string hostile = "\u001b[2J\u001b]0;pwned\u0007Fake \u202Etxt.exe";
        await Reporter.JsonAsync("--server", relay.Url, "intake", "submit", intake.ToString(), "--text", hostile, "--flow", "rally-statement", "--lang", "en");
        Guid report = (await Coord.JsonAsync(anna.Args("intake", "inbox", "--cell", cell.ToString()))).GetProperty("reports")[0].GetProperty("reportId").GetGuid();

        foreach (string[] args in new[] { new[] { "intake", "inbox", "--cell", cell.ToString() }, ["intake", "show", report.ToString(), "--cell", cell.ToString()] })
        {
            CoordResult human = await Coord.RunAsync(anna.Args(args));
            Assert.True(human.ExitCode == 0, human.ToString());
            Assert.DoesNotContain('\u001b', human.Stdout);
            Assert.DoesNotContain('\u202E', human.Stdout);
            Assert.Contains("Fake", human.Stdout, StringComparison.Ordinal);
        }

        CoordResult shown = await Coord.RunAsync(anna.Args("intake", "show", report.ToString(), "--cell", cell.ToString()));
        Assert.Contains("What would you say in public if you could?", shown.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_intake_input_is_a_usage_error()
    {
        (Person olga, _, Guid cell) = await TeamAsync();
        Guid intake = (await Coord.JsonAsync(olga.Args("intake", "open", "--cell", cell.ToString(), "--difficulty", "8"))).GetProperty("intakeId").GetGuid();
        string id = intake.ToString();
        foreach (string[] args in new[]
        {
            new[] { "intake", "submit", id },
            ["intake", "submit", id, "--text", "x", "--lang", "de"],
            ["intake", "submit", id, "--text", "x", "--flow", "no-such-flow"],
            ["intake", "submit", id, "--text", "x", "--answer", "nonsense"],
            ["intake", "submit", id, "--text", "x", "--answer", "no-such-step=1"],
            ["intake", "submit", id, "--text", "x", "--answer", "how-many=dozens"],
            ["intake", "submit", id, "--text", "x", "--answer", "when=yesterday"],
            ["intake", "submit", id, "--text", "x", "--answer", "consent=no"],
            ["intake", "submit", id, "--text", "x", "--answer", "what=y"],
            ["intake", "submit", id, "--text", new string('x', 4001)],
            ["intake", "check", "these", "are", "not", "receipt", "words", "at", "all", "really"],
        })
        {
            CoordResult result = await Reporter.RunAsync(["--server", relay.Url, .. args, "--json"]);
            Assert.True(result.ExitCode == ExitCodes.Usage, string.Join(' ', args) + "\n" + result);
            Assert.Equal(JsonValueKind.String, result.Error.GetProperty("error").ValueKind);
        }

        foreach (string[] args in new[]
        {
            new[] { "intake", "open", "--cell", cell.ToString(), "--retention-days", "91" },
            ["intake", "open", "--cell", cell.ToString(), "--difficulty", "40"],
            ["intake", "triage", Guid.NewGuid().ToString(), "--cell", cell.ToString(), "--state", "done"],
            ["intake", "to-task", Guid.NewGuid().ToString(), "--cell", cell.ToString(), "--risk", "extreme"],
        })
        {
            CoordResult result = await Coord.RunAsync([.. olga.Args(args), "--json"]);
            Assert.True(result.ExitCode == ExitCodes.Usage, string.Join(' ', args) + "\n" + result);
        }

        // An intake that does not exist.
        CoordResult unknown = await Reporter.RunAsync("--server", relay.Url, "intake", "submit", Guid.NewGuid().ToString(), "--text", "x", "--json");
        Assert.Equal(ExitCodes.Failure, unknown.ExitCode);
        Assert.Equal(404, unknown.Error.GetProperty("status").GetInt32());
    }

    private static string Canary(string path) => $"canary-cli-{path}-{Guid.NewGuid():N}";

    private static string? Answer(JsonElement report, string step) =>
        report.GetProperty("answers").TryGetProperty(step, out JsonElement value) ? value.GetString() : null;

    private async Task<(Person Olga, Person Anna, Guid Cell)> TeamAsync()
    {
        Person olga = await CreateAsync("olga");
        Person anna = await CreateAsync("anna");
        Guid cell = (await Coord.JsonAsync(olga.Args("cell", "create", "--name", "Intake desk"))).GetProperty("cellId").GetGuid();
        string code = (await Coord.JsonAsync(olga.Args("cell", "invite", cell.ToString()))).GetProperty("code").GetString()!;
        await Coord.JsonAsync(anna.Args("cell", "join", code));
        return (olga, anna, cell);
    }

    private async Task<Person> CreateAsync(string name)
    {
        string profile = Path.Combine(relay.DataDirectory, "profiles", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        JsonElement created = await Coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create");
        return new Person(profile, created.GetProperty("accountId").GetGuid());
    }

    private void AssertNowhere(params string[] secrets)
    {
        byte[] storage = relay.ReadStorage();
        string logs = string.Join('\n', relay.Logs);
        foreach (string secret in secrets)
        {
            Assert.True(storage.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"'{secret}' is in the relay's database files.");
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }


    private sealed record Person(string Profile, Guid AccountId)
    {
        public string[] Args(params string[] args) => ["--profile", Profile, .. args];
    }
}
