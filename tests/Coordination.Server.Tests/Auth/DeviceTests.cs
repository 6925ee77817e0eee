using System.Net;
using System.Net.Http.Json;
using System.Text;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Auth;

public sealed class DeviceTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public DeviceTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Register_StoresOnlyPublicKeysAndRandomIds()
    {
        using TestDevice device = await _relay.NewAccountAsync();

        IReadOnlyDictionary<string, TableSchema> schema = DatabaseSchema.Read(_relay);
        List<string> columns = [.. schema["Accounts"].Columns.Concat(schema["Devices"].Columns).Select(c => c.Name)];

        Assert.Equal(
            ["Id", "PublicKey", "Id", "AccountId", "SigningPublicKey", "AgreementPublicKey", "AccountSignature", "Revoked"],
            columns);
    }

    [Fact]
    public async Task Register_BadAccountSignature_Is400AndStoresNothing()
    {
        using DeviceIdentity identity = DeviceIdentity.CreateAccount();
        using Ed25519KeyPair other = Ed25519KeyPair.Generate();
        DeviceKeys keys = identity.SignedDeviceKeys() with { AccountSignature = other.Sign("x"u8) };
        using HttpClient http = _relay.CreateRealClient();
        long before = _relay.Count("SELECT COUNT(*) FROM Accounts");

        HttpResponseMessage response = await http.PostAsJsonAsync("api/v1/accounts", new RegisterAccountRequest(identity.AccountKey.PublicKey.ToArray(), keys)).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not verify", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, _relay.Count("SELECT COUNT(*) FROM Accounts"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"accountPublicKey\":\"AAAA\",\"device\":null}")]
    [InlineData("{\"accountPublicKey\": 5}")]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    public async Task Register_MalformedBody_Is400ProblemDetails(string body)
    {
        using HttpClient http = _relay.CreateRealClient();
        long before = _relay.Count("SELECT COUNT(*) FROM Accounts");

        HttpResponseMessage response = await http.PostAsync(new Uri("api/v1/accounts", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, _relay.Count("SELECT COUNT(*) FROM Accounts"));
    }

    [Fact]
    public async Task Register_SameAccountKeyTwice_Is409()
    {
        using TestDevice device = await _relay.NewAccountAsync();
        using HttpClient http = _relay.CreateRealClient();

        HttpResponseMessage again = await http.PostAsJsonAsync("api/v1/accounts", new RegisterAccountRequest(device.Identity.AccountKey.PublicKey.ToArray(), device.Identity.SignedDeviceKeys())).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task LinkDevice_WithOneTimeCode_JoinsAccountOnce()
    {
        using TestDevice first = await _relay.NewAccountAsync();
        using DeviceLinkCode offer = DeviceLinkCode.Create();
        byte[] seed = new byte[32];
        first.Identity.AccountKey.ExportSeed(seed);
        await first.Api.CreateLinkCodeAsync(offer, seed).WaitAsync(TestTimeouts.Default);

        // The new device knows only the code the user typed.
        using DeviceLinkCode typed = DeviceLinkCode.Parse(offer.Code.ToLowerInvariant());
        using RelayApi newApi = new(_relay.CreateRealClient());
        LinkCodeOffer fetched = await newApi.GetLinkCodeAsync(typed).WaitAsync(TestTimeouts.Default);
        Assert.True(typed.TryOpen(fetched.Payload, out byte[]? accountSeed));
        using DeviceIdentity second = DeviceIdentity.ForExistingAccount(accountSeed);
        Assert.Equal(first.Identity.AccountKey.PublicKey, second.AccountKey.PublicKey);
        await newApi.LinkDeviceAsync(typed, second).WaitAsync(TestTimeouts.Default);
        await newApi.LoginAsync(second).WaitAsync(TestTimeouts.Default);

        Assert.Equal(first.AccountId, second.AccountId);
        Assert.Equal(2, (await first.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default)).Count);
        using DeviceIdentity third = DeviceIdentity.ForExistingAccount(accountSeed);
        RelayApiException reuse = await Assert.ThrowsAsync<RelayApiException>(() => newApi.LinkDeviceAsync(typed, third).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.NotFound, reuse.Status);
    }

    [Fact]
    public async Task LinkDevice_KeysNotSignedByTheAccount_Is400()
    {
        using TestDevice first = await _relay.NewAccountAsync();
        using DeviceLinkCode offer = DeviceLinkCode.Create();
        await first.Api.CreateLinkCodeAsync(offer, new byte[32]).WaitAsync(TestTimeouts.Default);
        using DeviceIdentity impostor = DeviceIdentity.CreateAccount();
        using RelayApi api = new(_relay.CreateRealClient());

        RelayApiException error = await Assert.ThrowsAsync<RelayApiException>(() => api.LinkDeviceAsync(offer, impostor).WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
    }

    [Fact]
    public async Task LinkCode_WrongCode_Is404AndPayloadNeedsTheCode()
    {
        using TestDevice first = await _relay.NewAccountAsync();
        using DeviceLinkCode offer = DeviceLinkCode.Create();
        using DeviceLinkCode guess = DeviceLinkCode.Create();
        await first.Api.CreateLinkCodeAsync(offer, "secret"u8).WaitAsync(TestTimeouts.Default);

        RelayApiException error = await Assert.ThrowsAsync<RelayApiException>(() => first.Api.GetLinkCodeAsync(guess).WaitAsync(TestTimeouts.Default));
        LinkCodeOffer fetched = await first.Api.GetLinkCodeAsync(offer).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.NotFound, error.Status);
        Assert.False(guess.TryOpen(fetched.Payload, out _));
    }

    [Fact]
    public async Task RevokeDevice_SessionsStopAndLoginIsRefused()
    {
        using TestDevice first = await _relay.NewAccountAsync();
        using TestDevice second = await LinkSecondDeviceAsync(first);

        await first.Api.RevokeDeviceAsync(second.DeviceId).WaitAsync(TestTimeouts.Default);

        RelayApiException stale = await Assert.ThrowsAsync<RelayApiException>(() => second.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default));
        RelayApiException relogin = await Assert.ThrowsAsync<RelayApiException>(() => second.Api.LoginAsync(second.Identity).WaitAsync(TestTimeouts.Default));
        List<DeviceInfo> devices = await first.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.Status);
        Assert.Equal(HttpStatusCode.NotFound, relogin.Status);
        Assert.True(devices.Single(d => d.DeviceId == second.DeviceId).Revoked);
        Assert.Equal(0, _relay.Count($"SELECT COUNT(*) FROM Sessions WHERE DeviceId = '{second.DeviceId.ToString().ToUpperInvariant()}'"));
    }

    [Fact]
    public async Task RevokeDevice_OfAnotherAccount_Is404()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();

        RelayApiException error = await Assert.ThrowsAsync<RelayApiException>(() => alice.Api.RevokeDeviceAsync(bob.DeviceId).WaitAsync(TestTimeouts.Default));

        Assert.Equal(HttpStatusCode.NotFound, error.Status);
        Assert.NotEmpty(await bob.Api.ListDevicesAsync().WaitAsync(TestTimeouts.Default));
    }

    internal static async Task<TestDevice> LinkSecondDeviceAsync(TestDevice first)
    {
        using DeviceLinkCode code = DeviceLinkCode.Create();
        byte[] seed = new byte[32];
        first.Identity.AccountKey.ExportSeed(seed);
        await first.Api.CreateLinkCodeAsync(code, seed).WaitAsync(TestTimeouts.Default);
        RelayApi api = new(first.Factory.CreateRealClient());
        LinkCodeOffer offer = await api.GetLinkCodeAsync(code).WaitAsync(TestTimeouts.Default);
        Assert.True(code.TryOpen(offer.Payload, out byte[]? accountSeed));
        DeviceIdentity identity = DeviceIdentity.ForExistingAccount(accountSeed);
        await api.LinkDeviceAsync(code, identity).WaitAsync(TestTimeouts.Default);
        await api.LoginAsync(identity).WaitAsync(TestTimeouts.Default);
        return new TestDevice(identity, api, first.Factory);
    }
}
