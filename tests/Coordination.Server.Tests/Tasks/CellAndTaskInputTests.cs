using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Coordination.Client.Cells;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Tasks;

/// <summary>Malformed cell and task input from a signed-in organizer gets a clear 4xx problem, never a 5xx, and changes nothing.</summary>
public sealed class CellAndTaskInputTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task Malformed_cell_and_task_requests_are_4xx_problems()
    {
        await using CellMember olga = await CellMember.CreateAsync(relay);
        CellView cell = await olga.Cells.CreateAsync(ConversationKind.Cell, "Input", null, null, null, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        string tasks = $"/api/v1/cells/{cell.CellId}/tasks";
        string tag31 = Convert.ToBase64String(new byte[31]);
        string content = Convert.ToBase64String(new byte[300]);
        string tooLong = Convert.ToBase64String(new byte[Limits.MaxSealedEventBytes + 1]);
        (string Path, string Body)[] cases =
        [
            ("/api/v1/cells", "not json"),
            ("/api/v1/cells", "{}"),
            ($"/api/v1/cells/{cell.CellId}/log", "{\"entry\":{\"body\":\"AAAA\",\"signature\":\"AAAA\"}}"),
            ($"/api/v1/cells/{cell.CellId}/log", "[1,2,3]"),
            (tasks, "not json"),
            (tasks, $"{{\"risk\":99,\"requiredTags\":[],\"peopleNeeded\":1,\"sealedContent\":\"{content}\"}}"),
            (tasks, $"{{\"risk\":0,\"requiredTags\":[],\"peopleNeeded\":0,\"sealedContent\":\"{content}\"}}"),
            (tasks, $"{{\"risk\":0,\"requiredTags\":[\"{tag31}\"],\"peopleNeeded\":1,\"sealedContent\":\"{content}\"}}"),
            (tasks, $"{{\"risk\":0,\"requiredTags\":[],\"peopleNeeded\":1,\"sealedContent\":\"{tooLong}\"}}"),
            (tasks, "{\"risk\":0,\"requiredTags\":[],\"peopleNeeded\":1,\"sealedContent\":\"not base64!\"}"),
        ];
        long before = relay.Count($"SELECT COUNT(*) FROM Tasks WHERE CellId = '{cell.CellId.ToString().ToUpperInvariant()}'");
        using HttpClient http = relay.CreateRealClient();
        foreach ((string path, string body) in cases)
        {
            using HttpRequestMessage request = new(HttpMethod.Post, new Uri(path, UriKind.Relative))
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", olga.Device.Api.Token);
            using HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} {body[..Math.Min(body.Length, 60)]}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(before, relay.Count($"SELECT COUNT(*) FROM Tasks WHERE CellId = '{cell.CellId.ToString().ToUpperInvariant()}'"));
        Assert.Empty(relay.ServerErrors());
    }
}
