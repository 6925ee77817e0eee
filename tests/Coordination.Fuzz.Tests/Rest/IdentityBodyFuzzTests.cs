using System.Buffers.Text;
using Coordination.Client.Identity;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Rest;

/// <summary>Accounts, login and device links: registration, challenges, sessions, link codes and linking a device.</summary>
public sealed class IdentityWorld : RelayWorld
{
    public static readonly string[] Names = ["register", "challenge", "session", "link-code", "link-device"];

    public Person Alice { get; private set; } = null!;

    protected override async Task BuildAsync()
    {
        Alice = await PersonAsync();
        byte[] aliceSeed = new byte[32];
        Alice.Identity.AccountKey.ExportSeed(aliceSeed);

        Add(new BodyEndpoint("register", HttpMethod.Post, "/api/v1/accounts", null, () =>
        {
            using DeviceIdentity fresh = DeviceIdentity.CreateAccount();
            return Task.FromResult(Body(new RegisterAccountRequest(fresh.AccountKey.PublicKey.ToArray(), fresh.SignedDeviceKeys())));
        }, ["Accounts", "Devices"]));

        Add(new BodyEndpoint("challenge", HttpMethod.Post, "/api/v1/auth/challenges", null,
            () => Task.FromResult(Body(new ChallengeRequest(Alice.DeviceId))), ["Sessions"]) { KnownIds = [Alice.DeviceId, Alice.AccountId] });

        Add(new BodyEndpoint("session", HttpMethod.Post, "/api/v1/auth/sessions", null, async () =>
        {
            Answer issued = await SendAsync(HttpMethod.Post, "/api/v1/auth/challenges", null, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new ChallengeRequest(Alice.DeviceId), Json));
            ChallengeResponse challenge = System.Text.Json.JsonSerializer.Deserialize<ChallengeResponse>(issued.Body, Json)!;
            return Body(new LoginRequest(challenge.ChallengeId, Alice.Identity.SignLogin(Alice.Api.Origin, challenge)));
        }, ["Sessions"]) { KnownIds = [Alice.DeviceId] });

        Add(new BodyEndpoint("link-code", HttpMethod.Post, "/api/v1/devices/link-codes", Alice.Token,
            () => Task.FromResult(Body(new CreateLinkCodeRequest(Coordination.Crypto.SecureRandom.Bytes(32), Coordination.Crypto.SecureRandom.Bytes(200)))), ["LinkCodes"]));

        using DeviceLinkCode code = DeviceLinkCode.Create();
        await Alice.Api.CreateLinkCodeAsync(code, Coordination.Crypto.SecureRandom.Bytes(100)).WaitAsync(TestTimeouts.Default);
        byte[] lookupId = code.LookupId;
        Add(new BodyEndpoint("link-device", HttpMethod.Post, "/api/v1/devices", null, () =>
        {
            using DeviceIdentity device = DeviceIdentity.ForExistingAccount(aliceSeed);
            return Task.FromResult(Body(new LinkDeviceRequest(lookupId, device.SignedDeviceKeys())));
        }, ["Devices", "LinkCodes", "DeliveryCursors"]));
    }
}

/// <summary>
/// Registration, login and device linking with generated bodies, ids in paths and session tokens:
/// never a 5xx, every 4xx a problem, nothing stored from a refused request, no error logged.
/// </summary>
public sealed class IdentityBodyFuzzTests(IdentityWorld world) : IClassFixture<IdentityWorld>
{
    public static TheoryData<string> Endpoints => new(IdentityWorld.Names);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomJsonBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomJsonAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomBytesBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomBytesAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task ValidBodiesWithOneFieldChanged_AreRefusedCleanly(string endpoint) => BodyFuzz.MutatedValidAsync(world, endpoint);

    /// <summary>The link-code lookup id in the path (base64url of 32 bytes): anything else is a 400, an unknown id a 404.</summary>
    [Fact]
    public async Task LinkCodeLookupIdsInPaths_AreRefusedCleanly()
    {
        int logs = world.Relay.Logs.Count;
        await Fuzzer.CheckAsync(60, Fuzzer.Cases(LookupIds), async id =>
        {
            Answer answer = await world.CheckAsync(HttpMethod.Get, "/api/v1/devices/link-codes/" + Uri.EscapeDataString(id.Text), null, null, ["LinkCodes"], id.ToString());
            if (id.Bytes is { } bytes && answer.Status != 429)
            {
                Assert.Equal(bytes == 32 ? 404 : 400, answer.Status);
            }
        });
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// Session tokens as a client sends them (<c>Authorization: Bearer</c>): any text, base64url of
    /// every length (44 to 64 characters decode past the 32-byte buffer a token fills) is refused
    /// with a 401 problem on an endpoint that needs a session, and ignored on one that does not.
    /// </summary>
    [Fact]
    public async Task BearerTokens_AnyText_RefusedCleanly()
    {
        int logs = world.Relay.Logs.Count;
        await Fuzzer.CheckAsync(80, Fuzzer.Cases(Tokens), token => CheckTokenAsync(token));
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// A link code whose lookup id is taken is a 409, found before anything is inserted: no failed
    /// INSERT at Error level in the log, so a signed-in device cannot fill the error log this way.
    /// </summary>
    [Fact]
    public async Task LinkCode_LookupIdInUse_ConflictWithoutAnErrorLogged()
    {
        int logs = world.Relay.Logs.Count;
        byte[] body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new CreateLinkCodeRequest(Coordination.Crypto.SecureRandom.Bytes(32), [1, 2, 3]), RelayWorld.Json);
        string token = world.Alice.Token;
        Assert.Equal(200, (await world.CheckAsync(HttpMethod.Post, "/api/v1/devices/link-codes", token, body, ["LinkCodes"], "first")).Status);
        Assert.Equal(409, (await world.CheckAsync(HttpMethod.Post, "/api/v1/devices/link-codes", token, body, ["LinkCodes"], "the same lookup id again")).Status);
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// Lookup ids: base64url of every length around 32 bytes (with the length, when the relay reads
    /// it: at most 64 characters), padded, with bad characters, anything else.
    /// </summary>
    private static Gen<LookupIdCase> LookupIds { get; } = Gen.OneOf(
        from length in Gen.Elements(0, 1, 16, 31, 32, 33, 40, 48, 49)
        from bytes in Gens.ExactBytes(length)
        from padded in Gen.Elements(false, true)
        select padded
            ? new LookupIdCase(Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_'), null)
            : new LookupIdCase(Base64Url.EncodeToString(bytes), length is > 0 and <= 48 ? length : null),
        Gens.PathText(100).Select(s => new LookupIdCase(s, null)),
        Gen.Elements("%00", "..", "%2e%2e", "AAAA%2FAAAA", "....", "+/+/", "====").Select(s => new LookupIdCase(s, null)));

    private static Gen<string> Tokens { get; } = Gen.OneOf(
        from length in Gen.Choose(0, 80)
        from bytes in Gens.ExactBytes(length)
        select Base64Url.EncodeToString(bytes),
        Gens.Strings(120),
        Gen.Elements("", " ", "null", "Bearer", "\u0000", new string('A', 43), new string('A', 44), new string('A', 64), new string('A', 65), "AAAA====", "!!!!"));

    private async Task CheckTokenAsync(string token)
    {
        // HttpClient refuses control characters and line breaks in a header; those never reach a relay.
        if (token.Any(c => char.IsControl(c) || c > 0x7E))
        {
            return;
        }

        Answer own = await world.CheckAsync(HttpMethod.Get, "/api/v1/devices", token, null, [], $"token '{token}'");
        Assert.Equal(401, own.Status);
        Answer health = await world.CheckAsync(HttpMethod.Get, "/healthz", token, null, [], $"token '{token}'");
        Assert.Equal(200, health.Status);
    }

    public sealed record LookupIdCase(string Text, int? Bytes)
    {
        public override string ToString() => $"'{Text}' ({(Bytes is { } n ? $"{n} bytes" : "not base64url of a length")})";
    }
}
