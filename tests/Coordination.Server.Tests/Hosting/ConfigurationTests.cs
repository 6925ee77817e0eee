namespace Coordination.Server.Tests.Hosting;

/// <summary>A wrong setting stops the server at start with the setting's name, not at the first request.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Relay:PublicOrigin", "relay.example", "Relay:PublicOrigin")]
    [InlineData("Relay:PublicOrigin", "ftp://relay.example", "Relay:PublicOrigin")]
    [InlineData("Relay:MaxBatch", "0", "Relay:MaxBatch")]
    public void A_bad_relay_setting_stops_the_start(string key, string value, string named)
    {
        using MisconfiguredRelay relay = new(key, value);
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => relay.ServerAddress);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_good_public_origin_is_accepted()
    {
        using MisconfiguredRelay relay = new("Relay:PublicOrigin", "https://пример.рф");
        using HttpClient client = relay.CreateRealClient();
        HttpResponseMessage health = await client.GetAsync(new Uri("healthz", UriKind.Relative)).WaitAsync(TestTimeouts.Default);
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
    }

    // The SQLite file and its -wal; PostgreSQL's files are its server's to keep (initdb makes them 0600).
    [SqliteFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_database_files_are_readable_by_the_owner_only()
    {
        using RelayFactory relay = new();
        using HttpClient client = relay.CreateRealClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri("healthz", UriKind.Relative)).WaitAsync(TestTimeouts.Default)).StatusCode);
        foreach (string file in new[] { relay.DatabasePath, relay.DatabasePath + "-wal" })
        {
            Assert.True(File.Exists(file), file);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    private sealed class MisconfiguredRelay(string key, string value) : RelayFactory(new Dictionary<string, string?> { [key] = value });
}
