using System.Net;
using System.Net.Http.Json;
using Coordination.Client.Api;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Auth;

public sealed class LoginTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public LoginTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Login_SignedChallenge_GivesTokenThatAuthenticates()
    {
        using TestDevice device = await _relay.NewAccountAsync();

        List<DeviceInfo> devices = await device.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default);

        Assert.Single(devices);
        Assert.Equal(device.DeviceId, devices[0].DeviceId);
        Assert.NotNull(device.Api.Token);
        Assert.Equal(1, _relay.Count($"SELECT COUNT(*) FROM Sessions WHERE DeviceId = '{device.DeviceId.ToString().ToUpperInvariant()}'"));
    }

    [Fact]
    public async Task Login_TokenIsStoredOnlyAsHash()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        byte[] token = Base64UrlDecode(device.Api.Token!);

        byte[] storage = _relay.ReadStorage();

        Assert.Equal(-1, storage.AsSpan().IndexOf(token));
        Assert.True(storage.AsSpan().IndexOf(Blake2b.Hash(token, 32)) >= 0, "the token's hash is stored");
    }

    [Fact]
    public async Task Login_ReplayedChallenge_IsRefused()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        using HttpClient http = _relay.CreateRealClient();
        ChallengeResponse challenge = await PostAsync<ChallengeResponse>(http, "api/v1/auth/challenges", new ChallengeRequest(device.DeviceId));
        LoginRequest login = new(challenge.ChallengeId, device.Identity.SignLogin(device.Api.Origin, challenge));

        HttpResponseMessage first = await http.PostAsJsonAsync("api/v1/auth/sessions", login).WaitAsync(TestTimeouts.Default);
        HttpResponseMessage replay = await http.PostAsJsonAsync("api/v1/auth/sessions", login).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal("application/problem+json", replay.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Login_ExpiredChallenge_IsRefused()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        using HttpClient http = _relay.CreateRealClient();
        ChallengeResponse challenge = await PostAsync<ChallengeResponse>(http, "api/v1/auth/challenges", new ChallengeRequest(device.DeviceId));
        LoginRequest login = new(challenge.ChallengeId, device.Identity.SignLogin(device.Api.Origin, challenge));

        _relay.Clock.Advance(Limits.ChallengeLifetime + TimeSpan.FromSeconds(1));
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("api/v1/auth/sessions", login).WaitAsync(TestTimeouts.Default);
        }
        finally
        {
            _relay.Clock.Advance(-(Limits.ChallengeLifetime + TimeSpan.FromSeconds(1)));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Login_SignedByAnotherKey_IsRefused()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        using Ed25519KeyPair stranger = Ed25519KeyPair.Generate();
        using HttpClient http = _relay.CreateRealClient();
        ChallengeResponse challenge = await PostAsync<ChallengeResponse>(http, "api/v1/auth/challenges", new ChallengeRequest(device.DeviceId));
        byte[] forged = stranger.Sign(SignedStatements.Login(device.Api.Origin, challenge.ChallengeId, challenge.Nonce));

        HttpResponseMessage response = await http.PostAsJsonAsync("api/v1/auth/sessions", new LoginRequest(challenge.ChallengeId, forged)).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Login_SignedForAnotherOrigin_IsRefused()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        using HttpClient http = _relay.CreateRealClient();
        ChallengeResponse challenge = await PostAsync<ChallengeResponse>(http, "api/v1/auth/challenges", new ChallengeRequest(device.DeviceId));
        byte[] phished = device.Identity.SignLogin("https://relay.attacker.example", challenge);

        HttpResponseMessage response = await http.PostAsJsonAsync("api/v1/auth/sessions", new LoginRequest(challenge.ChallengeId, phished)).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Challenge_UnknownDevice_Is404()
    {
        using HttpClient http = _relay.CreateRealClient();

        HttpResponseMessage response = await http.PostAsJsonAsync("api/v1/auth/challenges", new ChallengeRequest(Guid.NewGuid())).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Login_SignatureOfWrongLength_Is400()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        using HttpClient http = _relay.CreateRealClient();
        ChallengeResponse challenge = await PostAsync<ChallengeResponse>(http, "api/v1/auth/challenges", new ChallengeRequest(device.DeviceId));

        HttpResponseMessage response = await http.PostAsJsonAsync("api/v1/auth/sessions", new LoginRequest(challenge.ChallengeId, new byte[10])).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Request_WithoutOrWithBadToken_Is401()
    {
        using HttpClient http = _relay.CreateRealClient();
        using HttpRequestMessage bad = new(HttpMethod.Get, "api/v1/devices");
        bad.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "bm90LWEtdG9rZW4");

        HttpResponseMessage none = await http.GetAsync(new Uri("api/v1/devices", UriKind.Relative)).WaitAsync(TestTimeouts.Default);
        HttpResponseMessage wrong = await http.SendAsync(bad).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        using TestDevice device = await _relay.NewAccountAsync();

        await device.Api.LogoutAsync().WaitAsync(TestTimeouts.Default);
        RelayApiException error = await Assert.ThrowsAsync<RelayApiException>(() => device.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
    }

    [Fact]
    public async Task Session_AfterItsLifetime_Is401()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        TimeSpan jump = Limits.SessionLifetime + TimeSpan.FromMinutes(1);

        _relay.Clock.Advance(jump);
        RelayApiException error;
        try
        {
            error = await Assert.ThrowsAsync<RelayApiException>(() => device.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default));
        }
        finally
        {
            _relay.Clock.Advance(-jump);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
    }

    private static async Task<T> PostAsync<T>(HttpClient http, string path, object body)
    {
        HttpResponseMessage response = await http.PostAsJsonAsync(path, body).WaitAsync(TestTimeouts.Default);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>().WaitAsync(TestTimeouts.Default))!;
    }

    private static byte[] Base64UrlDecode(string value) => System.Buffers.Text.Base64Url.DecodeFromChars(value);
}
