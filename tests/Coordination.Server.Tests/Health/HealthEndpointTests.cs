using System.Net;
using System.Net.Http.Json;
using Coordination.Server.Health;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Coordination.Server.Tests.Health;

public class HealthEndpointTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GetHealth_RunningServer_ReportsOkAndLibsodiumVersion()
    {
        using HttpClient client = factory.CreateClient();

        HttpResponseMessage response = await client.GetAsync(new Uri("/healthz", UriKind.Relative)).WaitAsync(s_timeout);
        HealthReport? report = await response.Content.ReadFromJsonAsync<HealthReport>().WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", report?.Status);
        Assert.Matches(@"^1\.0\.\d+$", report?.Libsodium);
    }

    [Fact]
    public async Task UnknownPath_Returns404ProblemDetails()
    {
        using HttpClient client = factory.CreateClient();

        HttpResponseMessage response = await client.GetAsync(new Uri("/no-such-thing", UriKind.Relative)).WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
