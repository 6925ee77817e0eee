using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;

namespace Coordination.Interop.Tests.Infrastructure;

/// <summary>
/// The real relay on a real Kestrel port (127.0.0.1, chosen by the OS) with a real SQLite file in a
/// fresh directory, so that a separate process (Node.js) can reach it over TCP.
/// </summary>
public sealed class RelayFactory : WebApplicationFactory<Program>
{
    public RelayFactory()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "coordination-interop-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        UseKestrel(0);
    }

    public string DataDirectory { get; }

    /// <summary>http://127.0.0.1:port/ of the started server.</summary>
    public Uri ServerAddress
    {
        get
        {
            StartServer();
            return ClientOptions.BaseAddress;
        }
    }

    /// <summary>An HTTP client to the real port (not the in-memory test server).</summary>
    public HttpClient CreateRealClient() => new() { BaseAddress = ServerAddress, Timeout = TimeSpan.FromSeconds(30) };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("Relay:SweepInterval", "00:00:00.200");
        builder.UseSetting("RateLimits:RegistrationsPerMinute", "10000");
        builder.UseSetting("RateLimits:LoginsPerMinute", "10000");
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
