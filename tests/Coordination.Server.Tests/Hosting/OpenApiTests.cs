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
            ("/api/v1/cells", "post"),
            ("/api/v1/cells", "get"),
            ("/api/v1/cells/{cellId}", "get"),
            ("/api/v1/cells/{cellId}/members", "get"),
            ("/api/v1/cells/{cellId}/members/me/display-name", "put"),
            ("/api/v1/cells/{cellId}/log", "get"),
            ("/api/v1/cells/{cellId}/log", "post"),
            ("/api/v1/cells/{cellId}/invites", "post"),
            ("/api/v1/cells/{cellId}/admissions", "get"),
            ("/api/v1/cells/{cellId}/admissions/{accountId}/vouches", "post"),
            ("/api/v1/invites/{lookupId}", "get"),
            ("/api/v1/invites/{lookupId}/requests", "post"),
            ("/api/v1/invites/{lookupId}/admission", "post"),
            ("/api/v1/cells/{cellId}/events", "post"),
            ("/api/v1/cells/{cellId}/events", "get"),
            ("/api/v1/cells/{cellId}/events/{eventId}/rsvps", "post"),
            ("/api/v1/cells/{cellId}/events/{eventId}", "delete"),
            ("/api/v1/cells/{cellId}/tasks", "post"),
            ("/api/v1/cells/{cellId}/tasks", "get"),
            ("/api/v1/cells/{cellId}/members/{membershipId}/tags", "put"),
            ("/api/v1/tasks/{taskId}", "get"),
            ("/api/v1/tasks/{taskId}/offers", "post"),
            ("/api/v1/tasks/{taskId}/accept", "post"),
            ("/api/v1/tasks/{taskId}/decline", "post"),
            ("/api/v1/tasks/{taskId}/withdraw", "post"),
            ("/api/v1/tasks/{taskId}/done", "post"),
            ("/api/v1/tasks/{taskId}/cancel", "post"),
            ("/api/v1/tasks/{taskId}/handover", "post"),
            ("/api/v1/tasks/{taskId}/suggestions", "get"),
            ("/api/v1/cells/{cellId}/intakes", "post"),
            ("/api/v1/cells/{cellId}/intakes", "get"),
            ("/api/v1/cells/{cellId}/intake-reports", "get"),
            ("/api/v1/intake-reports/{reportId}", "patch"),
            ("/api/v1/intake-reports/{reportId}/replies", "post"),
            ("/api/v1/intake-reports/{reportId}", "delete"),
            ("/api/v1/intakes/{intakeId}", "get"),
            ("/api/v1/intakes/{intakeId}/flows", "get"),
            ("/api/v1/intakes/{intakeId}/challenges", "post"),
            ("/api/v1/intakes/{intakeId}/reports", "post"),
            ("/api/v1/intakes/{intakeId}/bridge", "post"),
            ("/api/v1/intakes/{intakeId}/conversations", "post"),
            ("/api/v1/intakes/{intakeId}/conversations/{conversationId}/answers", "post"),
            ("/api/v1/receipts/replies", "post"),
        ];
        List<string> documented = [.. paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name} {p.Name.TrimEnd('/')}"))];
        Assert.Equal(expected.Select(e => $"{e.Method} {e.Path}").Order(), documented.Order());
    }
}
