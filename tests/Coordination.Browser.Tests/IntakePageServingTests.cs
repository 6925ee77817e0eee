using System.Net;
using System.Text.Json;
using Coordination.Protocol.Receipts;

namespace Coordination.Browser.Tests;

/// <summary>
/// How the relay serves the page and its assets, over plain HTTP: the same strict headers on
/// everything, the receipt word list straight from the relay's own copy, nothing but the listed
/// assets, and a 503 naming the command to run when libsodium-wrappers was never installed.
/// </summary>
public sealed class IntakePageServingTests
{
    private static readonly string[] s_assets = ["intake.js", "intake.css", "page-texts.json", "icon.svg", "libsodium.js", "libsodium-wrappers.js", "words.txt"];

    [Fact(Timeout = 60_000)]
    public async Task PageAndAssets_CarryTheStrictHeaders_AndTheWordListIsTheRelays()
    {
        using RelayFactory relay = new();
        using HttpClient http = relay.CreateRealClient();

        // The page is the same for any intake id: serving it says nothing about which intakes exist.
        using HttpResponseMessage page = await http.GetAsync(new Uri($"intake/{Guid.NewGuid()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        AssertStrictHeaders(page);
        string html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" style=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        // Subresource Integrity: the HTML pins the hash of every script, stylesheet and data file it loads.
        Assert.DoesNotContain("@sri(", html, StringComparison.Ordinal);
        foreach ((string asset, string attribute) in new[]
        {
            ("intake.css", "href"), ("libsodium.js", "src"), ("libsodium-wrappers.js", "src"), ("intake.js", "src"),
        })
        {
            byte[] served = await http.GetByteArrayAsync(new Uri($"intake/assets/{asset}", UriKind.Relative));
            string integrity = "sha384-" + Convert.ToBase64String(System.Security.Cryptography.SHA384.HashData(served));
            Assert.Contains($"{attribute}=\"/intake/assets/{asset}\" integrity=\"{integrity}\"", html, StringComparison.Ordinal);
        }

        foreach ((string asset, string name) in new[] { ("page-texts.json", "integrity-page-texts"), ("words.txt", "integrity-words") })
        {
            byte[] served = await http.GetByteArrayAsync(new Uri($"intake/assets/{asset}", UriKind.Relative));
            Assert.Contains($"<meta name=\"{name}\" content=\"sha384-{Convert.ToBase64String(System.Security.Cryptography.SHA384.HashData(served))}\">", html, StringComparison.Ordinal);
        }

        // The same HTML for every intake, so its hash can be published and compared.
        using HttpResponseMessage other = await http.GetAsync(new Uri($"intake/{Guid.NewGuid()}", UriKind.Relative));
        Assert.Equal(html, await other.Content.ReadAsStringAsync());

        foreach (string asset in s_assets)
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri($"intake/assets/{asset}", UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {(int)response.StatusCode}");
            AssertStrictHeaders(response);
        }

        string words = await http.GetStringAsync(new Uri("intake/assets/words.txt", UriKind.Relative));
        Assert.Equal(ReceiptPhrase.WordList, words.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // The page's labels are data: every language has every key English has.
        using JsonDocument texts = JsonDocument.Parse(await http.GetStringAsync(new Uri("intake/assets/page-texts.json", UriKind.Relative)));
        string[] keys = [.. texts.RootElement.GetProperty("en").EnumerateObject().Select(p => p.Name)];
        foreach (JsonProperty language in texts.RootElement.EnumerateObject().Where(p => !p.Name.StartsWith('$')))
        {
            Assert.Equal(keys.Order(StringComparer.Ordinal), language.Value.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }

        foreach (string path in new[] { "intake/assets/package.json", "intake/assets/index.html", "intake/assets/..%2Fpackage.json", "intake/assets/node_modules", "intake/not-a-guid" })
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }

        Assert.False(page.Headers.Contains("Set-Cookie"));
    }

    [Fact(Timeout = 60_000)]
    public async Task WithoutLibsodiumWrappersInstalled_ThePageAnswers503WithTheCommand()
    {
        string web = Path.Combine(Path.GetTempPath(), "coordination-browser-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(web);
        try
        {
            foreach (string file in new[] { "index.html", "intake.js", "intake.css", "page-texts.json", "icon.svg", "package.json", "package-lock.json" })
            {
                File.Copy(Path.Combine(SourceWebDirectory(), file), Path.Combine(web, file));
            }

            using RelayWithWebDirectory relay = new(web);
            using HttpClient http = relay.CreateRealClient();
            using HttpResponseMessage page = await http.GetAsync(new Uri($"intake/{Guid.NewGuid()}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Equal("application/problem+json", page.Content.Headers.ContentType?.MediaType);
            using JsonDocument problem = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
            Assert.Contains("npm ci --no-audit --no-fund", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

            using HttpResponseMessage sodium = await http.GetAsync(new Uri("intake/assets/libsodium-wrappers.js", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, sodium.StatusCode);
            using HttpResponseMessage own = await http.GetAsync(new Uri("intake/assets/intake.js", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }
        finally
        {
            Directory.Delete(web, recursive: true);
        }
    }

    private static void AssertStrictHeaders(HttpResponseMessage response)
    {
        Assert.Equal(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
    }

    /// <summary>src/Coordination.Server/IntakePage/web in the source tree these tests were built from.</summary>
    private static string SourceWebDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "Coordination.Server", "IntakePage", "web");
            if (File.Exists(Path.Combine(candidate, "intake.js")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("src/Coordination.Server/IntakePage/web was not found above the test binary.");
    }

    private sealed class RelayWithWebDirectory(string webDirectory) : RelayFactory(new Dictionary<string, string?> { ["IntakePage:WebDirectory"] = webDirectory });
}
