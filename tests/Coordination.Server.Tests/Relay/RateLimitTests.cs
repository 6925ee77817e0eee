using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Relay;

/// <summary>A relay with tight limits, so the tests can reach them.</summary>
public sealed class TightlyLimitedRelayFactory : RelayFactory
{
    public TightlyLimitedRelayFactory()
        : base(new Dictionary<string, string?>
        {
            ["RateLimits:SendsPerSecond"] = "1",
            ["RateLimits:SendBurst"] = "3",
            ["RateLimits:LoginsPerMinute"] = "3",
            ["RateLimits:RegistrationsPerMinute"] = "4",
            ["RateLimits:LinkAttemptsPerMinute"] = "2",
        })
    {
    }
}

public sealed class RateLimitTests : IClassFixture<TightlyLimitedRelayFactory>
{
    private readonly TightlyLimitedRelayFactory _relay;

    public RateLimitTests(TightlyLimitedRelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Limits_SendsLoginsRegistrationsAndLinks_AreRefusedWith429()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;

        // Sends: a burst of 3 per device, then 429; another device is not affected.
        List<HttpStatusCode?> sends = [];
        for (int i = 0; i < 6; i++)
        {
            sends.Add(await StatusOf(() => alice.Api.SendAsync(TestDevice.Envelope(conversation, "x"))));
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, sends);
        Assert.True(sends.Take(3).All(s => s is null), string.Join(",", sends));
        Assert.Null(await StatusOf(() => bob.Api.SendAsync(TestDevice.Envelope(conversation, "y"))));
        Assert.True(_relay.Count("SELECT COUNT(*) FROM Envelopes") <= 5);

        // Logins: 3 a minute per device (registration already used one).
        Assert.Null(await StatusOf(() => alice.Api.LoginAsync(alice.Identity)));
        Assert.Null(await StatusOf(() => alice.Api.LoginAsync(alice.Identity)));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusOf(() => alice.Api.LoginAsync(alice.Identity)));
        Assert.Null(await StatusOf(() => bob.Api.LoginAsync(bob.Identity)));

        // Registrations: 4 a minute for the whole relay (two used above).
        using RelayApi api = new(_relay.CreateRealClient());
        List<HttpStatusCode?> registrations = [];
        for (int i = 0; i < 3; i++)
        {
            using DeviceIdentity identity = DeviceIdentity.CreateAccount();
            registrations.Add(await StatusOf(() => api.RegisterAccountAsync(identity)));
        }

        Assert.Equal([null, null, HttpStatusCode.TooManyRequests], registrations);

        // Link-code lookups: 2 a minute.
        using DeviceLinkCode code = DeviceLinkCode.Create();
        List<HttpStatusCode?> links = [];
        for (int i = 0; i < 3; i++)
        {
            links.Add(await StatusOf(() => api.GetLinkCodeAsync(code)));
        }

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests], links);
    }

    private static async Task<HttpStatusCode?> StatusOf(Func<Task> call)
    {
        try
        {
            await call().WaitAsync(TestTimeouts.Default);
            return null;
        }
        catch (RelayApiException ex)
        {
            return ex.Status;
        }
    }
}
