using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Coordination.Browser.Tests.Infrastructure;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Coordination.Browser.Tests;

/// <summary>
/// The web intake page in a real browser (Debian's Chromium through Playwright): a reporter picks
/// a language, answers a flow, and the page seals the report before anything is sent. The intake
/// team then opens it with the intake's private key, finds exactly what was typed, and replies;
/// the page reads the reply with the receipt phrase. Along the way: the page's security headers,
/// no request to any origin but the relay's, no cookie or browser storage, and none of what was
/// typed anywhere in the relay's files or logs.
/// </summary>
public sealed class IntakePageTests(Chromium chromium) : IClassFixture<Chromium>
{
    private const int Difficulty = 12;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    static IntakePageTests() => SetDefaultExpectTimeout(Chromium.TimeoutMs);

    [Fact(Timeout = 240_000)]
    public async Task ReportSealedInTheBrowser_IsReadByTheTeam_AndTheReplyReachesThePage()
    {
        using RelayFactory relay = new();
        await using IntakeTeam team = await IntakeTeam.OpenAsync(relay, Difficulty);
        Canaries canaries = new();
        string day = DateTime.UtcNow.AddDays(-3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        // What the reporter does, step by step, in the flow's own order (the questions come from the flows document).
        Dictionary<string, Answer> plan = new()
        {
            ["what"] = Answer.Text(canaries.New("what")),
            ["when"] = Answer.Date(day),
            ["where"] = Answer.Text(canaries.New("where")),
            ["how-many"] = Answer.Choose("two-to-five"),
            ["who"] = Answer.Text(canaries.New("who")),
            ["relation"] = Answer.Choose("witness"),
            ["help"] = Answer.Choose("lawyer"),
            ["contact"] = Answer.Text(canaries.New("contact")),
            ["consent"] = Answer.Consent(true),
        };

        // The link the organizers hand out may pin the intake's key in its fragment, which the relay never sees.
        await using Browsing browsing = await Browsing.OpenAsync(chromium, relay, team.IntakeId, "ru-RU", "k=" + Base64Url(team.Intake.PublicKey));
        IPage page = browsing.Page;
        await page.Locator("button[data-lang=ru]").ClickAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "ru");
        await page.Locator("button[data-flow=detention-report]").ClickAsync();
        await page.Locator("#intro-start").ClickAsync();
        JsonElement flow = await FlowAsync(relay, team.IntakeId, "detention-report");
        await WalkAsync(page, flow, "ru", plan, goBackOnceAt: "where");

        string receipt = (await page.Locator("#receipt").InnerTextAsync()).Trim();
        Assert.Equal(receipt, ReceiptPhrase.Normalize(receipt));
        await Expect(page.Locator("#done-text")).ToHaveTextAsync(Localized(flow.GetProperty("completion"), "ru"));

        // The intake team opens the report with the intake's private key: exactly what was typed.
        List<InboxReport> inbox = await team.InboxAsync();
        InboxReport report = Assert.Single(inbox);
        Assert.Equal(team.IntakeId, report.IntakeId);
        using (JsonDocument opened = team.Open(report.SealedReport))
        {
            JsonElement root = opened.RootElement;
            Assert.Equal(["v", "flow", "language", "answers", "receipt", "submittedOn"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(1, root.GetProperty("v").GetInt32());
            Assert.Equal("detention-report", root.GetProperty("flow").GetString());
            Assert.Equal("ru", root.GetProperty("language").GetString());
            Assert.Equal(receipt, root.GetProperty("receipt").GetString());
            string submittedOn = root.GetProperty("submittedOn").GetString()!;
            Assert.Contains(submittedOn, new[] { -1, 0 }.Select(d => DateTime.UtcNow.AddDays(d).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
            Dictionary<string, string> answers = root.GetProperty("answers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            Assert.Equal(plan.Where(p => p.Value.Recorded is not null).ToDictionary(p => p.Key, p => p.Value.Recorded!), answers);
            Assert.Equal(plan.Keys, root.GetProperty("answers").EnumerateObject().Select(p => p.Name));
        }

        // The page's lookup secret is the SDK's: the relay finds the report by the C# derivation.
        using (HttpClient anonymous = relay.CreateRealClient())
        {
            using HttpResponseMessage check = await anonymous.PostAsJsonAsync("api/v1/receipts/replies", new ReplyCheckRequest(ReceiptPhrase.LookupSecret(receipt)), s_json);
            Assert.Equal(HttpStatusCode.OK, check.StatusCode);
            Assert.Empty((await check.Content.ReadFromJsonAsync<ReplyList>(s_json))!.Replies);
        }

        // A reply sealed under the receipt's key; the reporter types the phrase sloppily and reads it.
        string replyText = canaries.New("reply") + "\nМы свяжемся с адвокатом.";
        await team.ReplyAsync(report.ReportId, receipt, replyText);
        await page.Locator("#replies-receipt").FillAsync("  " + receipt.ToUpperInvariant().Replace(" ", "   ", StringComparison.Ordinal) + " ");
        await page.Locator("#replies-check").ClickAsync();
        await Expect(page.Locator("#replies-list .reply-text")).ToHaveTextAsync(replyText);
        await Expect(page.Locator("#replies-list li")).ToHaveCountAsync(1);

        await browsing.AssertPrivateAsync();

        // Nothing the reporter typed, nor the receipt or its lookup secret, is in the relay's files or logs.
        canaries.Add(receipt);
        canaries.AddBytes(ReceiptPhrase.LookupSecret(receipt));
        await browsing.DisposeAsync();
        canaries.AssertNotIn(relay);
    }

    [Fact(Timeout = 240_000)]
    public async Task RefusedConsent_SendsNothing_AndAShownStepAndDefaultsAreRecorded()
    {
        using RelayFactory relay = new();
        await using IntakeTeam team = await IntakeTeam.OpenAsync(relay, Difficulty);
        Canaries canaries = new();
        string refused = canaries.New("refused");

        await using Browsing browsing = await Browsing.OpenAsync(chromium, relay, team.IntakeId, "en-GB");
        IPage page = browsing.Page;
        await page.Locator("button[data-lang=en]").ClickAsync();
        JsonElement flow = await FlowAsync(relay, team.IntakeId, "rally-statement");

        // First time: the reporter says no at the end; the page sends nothing at all.
        await page.Locator("button[data-flow=rally-statement]").ClickAsync();
        await page.Locator("#intro-start").ClickAsync();
        await WalkAsync(page, flow, "en", new Dictionary<string, Answer>
        {
            ["statement"] = Answer.Text(refused),
            ["rally"] = Answer.Skip(),
            ["signature"] = Answer.Choose("anonymous"),
            ["editing"] = Answer.Keep(),
            ["consent"] = Answer.Consent(false),
        });
        await Expect(page.Locator("#declined")).ToBeVisibleAsync();
        Assert.DoesNotContain(browsing.Requests, r => r.Contains("/challenges", StringComparison.Ordinal) || r.Contains("/reports", StringComparison.Ordinal));
        Assert.Empty(await team.InboxAsync());

        // Second time: a signature step shown only for a pseudonym, a skipped question, a default kept.
        string statement = canaries.New("statement");
        string signature = canaries.New("signature");
        await page.Locator("#declined-restart").ClickAsync();
        await page.Locator("button[data-flow=rally-statement]").ClickAsync();
        await page.Locator("#intro-start").ClickAsync();
        await WalkAsync(page, flow, "en", new Dictionary<string, Answer>
        {
            ["statement"] = Answer.Text(statement),
            ["rally"] = Answer.Skip(),
            ["signature"] = Answer.Choose("pseudonym"),
            ["signature-text"] = Answer.Text(signature),
            ["editing"] = Answer.Keep(),
            ["consent"] = Answer.Consent(true),
        });
        string receipt = (await page.Locator("#receipt").InnerTextAsync()).Trim();

        InboxReport report = Assert.Single(await team.InboxAsync());
        using (JsonDocument opened = team.Open(report.SealedReport))
        {
            JsonElement root = opened.RootElement;
            Assert.Equal("rally-statement", root.GetProperty("flow").GetString());
            Assert.Equal("en", root.GetProperty("language").GetString());
            Assert.Equal(receipt, root.GetProperty("receipt").GetString());
            Dictionary<string, string> answers = root.GetProperty("answers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            Assert.Equal(
                new Dictionary<string, string>
                {
                    ["statement"] = statement,
                    ["signature"] = "pseudonym",
                    ["signature-text"] = signature,
                    ["editing"] = "translate-only",
                    ["consent"] = "yes",
                },
                answers);
        }

        // No reply yet: the page says so, decrypting nothing.
        await page.Locator("#replies-check").ClickAsync();
        await Expect(page.Locator("#replies-status")).ToHaveTextAsync("There is no reply yet.");

        await browsing.AssertPrivateAsync();
        await browsing.DisposeAsync();
        canaries.AssertNotIn(relay);
    }

    [Fact(Timeout = 120_000)]
    public async Task ALinkPinningAnotherKey_IsRefused_AndNothingIsSent()
    {
        using RelayFactory relay = new();
        await using IntakeTeam team = await IntakeTeam.OpenAsync(relay, Difficulty);
        byte[] otherKey = Coordination.Crypto.SecureRandom.Bytes(32);

        await using Browsing browsing = await Browsing.OpenAsync(chromium, relay, team.IntakeId, "en-GB", "k=" + Base64Url(otherKey));
        await browsing.Page.Locator("button[data-lang=en]").ClickAsync();
        await Expect(browsing.Page.Locator("#problem")).ToContainTextAsync("different encryption key");
        await Expect(browsing.Page.Locator("#flows")).ToBeHiddenAsync();
        await Expect(browsing.Page.Locator("#step")).ToBeHiddenAsync();
        Assert.DoesNotContain(browsing.Requests, r => r.Contains("/challenges", StringComparison.Ordinal) || r.Contains("/reports", StringComparison.Ordinal));
        Assert.All(browsing.Requests, r => Assert.DoesNotContain(Base64Url(otherKey), r, StringComparison.Ordinal));
        await browsing.AssertPrivateAsync();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static async Task<JsonElement> FlowAsync(RelayFactory relay, Guid intakeId, string key)
    {
        using HttpClient http = relay.CreateRealClient();
        using JsonDocument flows = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/intakes/{intakeId}/flows", UriKind.Relative)).WaitAsync(TestTimeouts.Default));
        return flows.RootElement.GetProperty("flows").EnumerateArray().Single(f => f.GetProperty("key").GetString() == key).Clone();
    }

    private static string Localized(JsonElement texts, string language) => texts.GetProperty(language).GetString()!;

    /// <summary>
    /// Answers the flow's steps in order, checking each question the page shows against the flows
    /// document; steps without a planned answer must not be shown (a showIf that does not hold).
    /// </summary>
    private static async Task WalkAsync(IPage page, JsonElement flow, string language, Dictionary<string, Answer> plan, string? goBackOnceAt = null)
    {
        foreach (JsonElement step in flow.GetProperty("steps").EnumerateArray())
        {
            string id = step.GetProperty("id").GetString()!;
            if (!plan.TryGetValue(id, out Answer? answer))
            {
                continue;
            }

            await Expect(page.Locator("#step-question")).ToHaveTextAsync(Localized(step.GetProperty("question"), language));
            if (id == goBackOnceAt)
            {
                // Back keeps what was answered on the step before.
                await page.Locator("#step-back").ClickAsync();
                await Expect(page.Locator("#answer")).ToHaveValueAsync(plan.Values.First(a => a.Kind == "date").Value!);
                await page.Locator("#step-next").ClickAsync();
                await Expect(page.Locator("#step-question")).ToHaveTextAsync(Localized(step.GetProperty("question"), language));
            }

            switch (answer.Kind)
            {
                case "text":
                case "date":
                    await page.Locator("#answer").FillAsync(answer.Value!);
                    await page.Locator("#step-next").ClickAsync();
                    break;
                case "choice":
                    await page.Locator($"#step-answer input[type=radio][value=\"{answer.Value}\"]").CheckAsync();
                    await page.Locator("#step-next").ClickAsync();
                    break;
                case "keep":
                    await page.Locator("#step-next").ClickAsync();
                    break;
                case "skip":
                    await page.Locator("#step-skip").ClickAsync();
                    break;
                case "consent":
                    await page.Locator(answer.Value == "yes" ? "#step-next" : "#step-decline").ClickAsync();
                    break;
                default:
                    throw new InvalidOperationException(answer.Kind);
            }
        }

        if (plan.Values.Last().Value == "yes")
        {
            await Expect(page.Locator("#receipt")).ToBeVisibleAsync();
        }
    }

    /// <summary>One planned answer: what the reporter does and what the report must then hold.</summary>
    private sealed record Answer(string Kind, string? Value, string? Recorded)
    {
        public static Answer Text(string text) => new("text", text, text);

        public static Answer Date(string day) => new("date", day, day);

        public static Answer Choose(string value) => new("choice", value, value);

        public static Answer Keep() => new("keep", null, null);

        public static Answer Skip() => new("skip", null, null);

        public static Answer Consent(bool yes) => new("consent", yes ? "yes" : "no", yes ? "yes" : null);
    }
}

/// <summary>
/// A browser context and page on the relay's intake page, watching everything the page does: every
/// request (which must all go to the relay's origin), every response's headers, console errors
/// and script errors (a Content-Security-Policy violation shows up there).
/// </summary>
public sealed class Browsing : IAsyncDisposable
{
    private readonly ConcurrentQueue<IResponse> _responses = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private bool _disposed;

    private Browsing(IBrowserContext context, IPage page, Uri origin)
    {
        Context = context;
        Page = page;
        Origin = origin;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public Uri Origin { get; }

    public IReadOnlyCollection<string> Requests => _requests;

    public IResponse? PageResponse { get; private set; }

    /// <param name="fragment">Appended to the page's address after '#' (never sent to the relay).</param>
    public static async Task<Browsing> OpenAsync(Chromium chromium, RelayFactory relay, Guid intakeId, string locale, string? fragment = null)
    {
        ArgumentNullException.ThrowIfNull(chromium);
        ArgumentNullException.ThrowIfNull(relay);
        (IBrowserContext context, IPage page) = await chromium.NewPageAsync(locale);
        Browsing browsing = new(context, page, relay.ServerAddress);
        context.Request += (_, request) => browsing._requests.Enqueue(request.Url);
        context.Response += (_, response) => browsing._responses.Enqueue(response);
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                browsing._errors.Enqueue($"console {message.Type}: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => browsing._errors.Enqueue("script error: " + error);
        browsing.PageResponse = await page.GotoAsync(new Uri(relay.ServerAddress, $"intake/{intakeId}").AbsoluteUri + (fragment is null ? string.Empty : "#" + fragment));
        Assert.NotNull(browsing.PageResponse);
        Assert.True(browsing.PageResponse.Status == 200, $"The intake page answered {browsing.PageResponse.Status}: {await browsing.PageResponse.TextAsync()}");
        await Expect(page.Locator("#language")).ToBeVisibleAsync();
        return browsing;
    }

    /// <summary>
    /// The page's headers; every request to the relay's origin only; no cookie, no Set-Cookie, no
    /// browser storage; no console or script error (so no CSP violation either).
    /// </summary>
    public async Task AssertPrivateAsync()
    {
        Dictionary<string, string> headers = await PageResponse!.AllHeadersAsync();
        Assert.Equal(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            headers["content-security-policy"]);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("no-store", headers["cache-control"]);
        Assert.StartsWith("text/html", headers["content-type"], StringComparison.Ordinal);

        string origin = Origin.GetLeftPart(UriPartial.Authority);
        Assert.NotEmpty(_requests);
        Assert.All(_requests, url => Assert.Equal(origin, new Uri(url).GetLeftPart(UriPartial.Authority)));

        foreach (IResponse response in _responses)
        {
            Assert.Null(await response.HeaderValueAsync("set-cookie"));
            if (new Uri(response.Url).AbsolutePath.StartsWith("/intake/", StringComparison.Ordinal))
            {
                Assert.Equal("nosniff", await response.HeaderValueAsync("x-content-type-options"));
                Assert.Equal("no-store", await response.HeaderValueAsync("cache-control"));
                Assert.NotNull(await response.HeaderValueAsync("content-security-policy"));
            }
        }

        Assert.Contains(_requests, url => url.EndsWith("/intake/assets/libsodium-wrappers.js", StringComparison.Ordinal));
        Assert.Empty(await Context.CookiesAsync());
        Assert.Equal(string.Empty, await Page.EvaluateAsync<string>("() => document.cookie"));
        Assert.Equal(0, await Page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        Assert.True(_errors.IsEmpty, string.Join("\n", _errors));
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await Context.CloseAsync();
    }
}

/// <summary>Unique strings typed into the page, and the scan that must not find them at rest or in logs.</summary>
public sealed class Canaries
{
    private readonly List<byte[]> _needles = [];
    private readonly List<string> _texts = [];

    /// <summary>A unique canary with Cyrillic in it, so the scan also covers non-ASCII UTF-8.</summary>
    public string New(string label)
    {
        string token = Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant();
        string canary = $"канарейка {label} {token}";
        Add(canary);
        Add(token);
        return canary;
    }

    public void Add(string text)
    {
        _texts.Add(text);
        _needles.Add(Encoding.UTF8.GetBytes(text));
        _needles.Add(Encoding.Unicode.GetBytes(text));
    }

    public void AddBytes(byte[] bytes)
    {
        _needles.Add(bytes);
        Add(Convert.ToBase64String(bytes));
        Add(Convert.ToHexString(bytes));
        Add(Convert.ToHexString(bytes).ToLowerInvariant());
    }

    /// <summary>Every file in the relay's data directory (the database, its -wal and -shm, the pepper) and every log line.</summary>
    public void AssertNotIn(RelayFactory relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        List<string> files = [.. Directory.EnumerateFiles(relay.DataDirectory, "*", SearchOption.AllDirectories)];
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".db-wal", StringComparison.Ordinal));
        foreach (string file in files)
        {
            byte[] content;
            using (FileStream stream = new(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (MemoryStream copy = new())
            {
                stream.CopyTo(copy);
                content = copy.ToArray();
            }

            foreach (byte[] needle in _needles)
            {
                Assert.True(content.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds something the reporter typed or was given.");
            }
        }

        string[] logs = [.. relay.Logs];
        Assert.NotEmpty(logs);
        foreach (string text in _texts)
        {
            Assert.DoesNotContain(logs, line => line.Contains(text, StringComparison.OrdinalIgnoreCase));
        }
    }
}
