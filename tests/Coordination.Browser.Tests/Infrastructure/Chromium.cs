using Microsoft.Playwright;

namespace Coordination.Browser.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, driven by Playwright for .NET. Playwright never downloads a browser here: it
/// starts /usr/bin/chromium (or $CHROMIUM_PATH), headless, with the flags that keep it off the
/// network except for the pages a test opens, and a fresh empty profile of its own.
/// run-tests.sh installs Chromium with apt-get when it is missing.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    /// <summary>Every Playwright wait is bounded by this.</summary>
    public const float TimeoutMs = 30_000;

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium has not started.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Chromium is not installed at {ExecutablePath}; the browser tests drive Debian's Chromium. Run: sudo apt-get install -y chromium (run-tests.sh does this).");
        }

        _playwright = await Playwright.CreateAsync().WaitAsync(TimeSpan.FromMilliseconds(TimeoutMs));
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            ChromiumSandbox = false,
            Timeout = TimeoutMs,
            Args =
            [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        });
    }

    /// <summary>A new context (its own empty cookie jar and storage) and a page with bounded waits.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> NewPageAsync(string locale)
    {
        IBrowserContext context = await Browser.NewContextAsync(new BrowserNewContextOptions { Locale = locale, JavaScriptEnabled = true });
        context.SetDefaultTimeout(TimeoutMs);
        context.SetDefaultNavigationTimeout(TimeoutMs);
        IPage page = await context.NewPageAsync();
        return (context, page);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
