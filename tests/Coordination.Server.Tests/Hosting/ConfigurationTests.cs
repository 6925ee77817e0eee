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

    private sealed class MisconfiguredRelay(string key, string value) : RelayFactory(new Dictionary<string, string?> { [key] = value });
}
