using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;

namespace Coordination.Cli.Tests.Infrastructure;

/// <summary>
/// The real relay on a real Kestrel port (127.0.0.1, chosen by the OS) with a real SQLite file in
/// a fresh directory, as in the server's own tests; rate limits are raised so tests do not trip them.
/// </summary>
public sealed class RelayServer : WebApplicationFactory<Program>
{
    public RelayServer()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "coordination-cli-tests", "relay-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        UseKestrel(0);
    }

    public string DataDirectory { get; }

    /// <summary>The relay's URL as the CLI is given it (<c>--server</c>).</summary>
    public string Url
    {
        get
        {
            StartServer();
            return ClientOptions.BaseAddress.AbsoluteUri;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("RateLimits:LoginsPerMinute", "10000");
        builder.UseSetting("RateLimits:RegistrationsPerMinute", "10000");
        builder.UseSetting("RateLimits:LinkAttemptsPerMinute", "10000");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
