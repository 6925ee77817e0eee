using Coordination.Client.Api;
using Coordination.Client.Identity;

namespace Coordination.Server.Tests.Infrastructure;

/// <summary>Accounts on the shared test relay.</summary>
public static class RelayFactoryAccounts
{
    /// <summary>A registered, logged-in device of a new account.</summary>
    public static async Task<TestDevice> NewAccountAsync(this RelayFactory relay)
    {
        RelayApi api = new(relay.CreateRealClient());
        DeviceIdentity identity = DeviceIdentity.CreateAccount();
        await api.RegisterAccountAsync(identity).WaitAsync(TestTimeouts.Default);
        await api.LoginAsync(identity).WaitAsync(TestTimeouts.Default);
        return new TestDevice(identity, api, relay);
    }
}
