using System.Net;
using System.Net.Http.Headers;

namespace Coordination.Server.Tests.Auth;

/// <summary>A bearer value of any shape is refused with 401 where a session is needed, and ignored where none is: never a 500.</summary>
public sealed class TokenShapeTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    [Fact]
    public async Task Tokens_of_every_length_and_alphabet_are_refused_cleanly()
    {
        const string Base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        Random random = new(20261121);
        List<string> tokens = [.. Enumerable.Range(1, 80).Select(length => new string([.. Enumerable.Range(0, length).Select(_ => Base64Url[random.Next(Base64Url.Length)])]))];
        tokens.Add(Convert.ToHexString(new byte[32]).ToLowerInvariant()); // 64 hex digits, as `openssl rand -hex 32` prints
        tokens.Add(new string('A', 43) + "="); // padded base64
        using HttpClient http = relay.CreateRealClient();
        List<string> wrong = [];
        foreach (string token in tokens)
        {
            foreach ((string path, HttpStatusCode expected) in new[] { ("/api/v1/devices", HttpStatusCode.Unauthorized), ("/healthz", HttpStatusCode.OK) })
            {
                using HttpRequestMessage request = new(HttpMethod.Get, new Uri(path, UriKind.Relative));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
                if (response.StatusCode != expected)
                {
                    wrong.Add($"{path} with a {token.Length}-character token: {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
