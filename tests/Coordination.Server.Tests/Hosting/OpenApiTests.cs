using System.Net;
using System.Text.Json;

namespace Coordination.Server.Tests.Hosting;

public sealed class OpenApiTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public OpenApiTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task OpenApiDocument_DescribesEveryRestEndpoint()
    {
        using HttpClient http = _relay.CreateRealClient();

        HttpResponseMessage response = await http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative)).WaitAsync(TestTimeouts.Default);
        using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default));
        JsonElement paths = document.RootElement.GetProperty("paths");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        (string Path, string Method)[] expected =
        [
            ("/healthz", "get"),
            ("/api/v1/auth/challenges", "post"),
            ("/api/v1/auth/sessions", "post"),
            ("/api/v1/auth/sessions/current", "delete"),
            ("/api/v1/accounts", "post"),
            ("/api/v1/accounts/{accountId}", "get"),
            ("/api/v1/devices", "get"),
            ("/api/v1/devices", "post"),
            ("/api/v1/devices/link-codes", "post"),
            ("/api/v1/devices/link-codes/{lookupId}", "get"),
            ("/api/v1/devices/{deviceId}", "delete"),
            ("/api/v1/conversations", "get"),
            ("/api/v1/conversations/direct", "post"),
            ("/api/v1/conversations/{conversationId}/devices", "get"),
            ("/api/v1/conversations/{conversationId}/envelopes", "post"),
            ("/api/v1/inbox", "get"),
            ("/api/v1/inbox/acks", "post"),
        ];
        List<string> documented = [.. paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name} {p.Name.TrimEnd('/')}"))];
        Assert.Equal(expected.Select(e => $"{e.Method} {e.Path}").Order(), documented.Order());
    }
}
