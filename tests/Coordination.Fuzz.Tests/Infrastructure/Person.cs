using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Crypto;

namespace Coordination.Fuzz.Tests.Infrastructure;

/// <summary>A registered, logged-in device of a new account on the test relay, with the SDK's cell client over its local store.</summary>
public sealed class Person : IDisposable
{
    private Person(DeviceIdentity identity, RelayApi api, LocalMessageStore store)
    {
        Identity = identity;
        Api = api;
        Store = store;
        Cells = new CellClient(identity, api, store);
    }

    public DeviceIdentity Identity { get; }

    public RelayApi Api { get; }

    public LocalMessageStore Store { get; }

    public CellClient Cells { get; }

    public Guid AccountId => Identity.AccountId;

    public Guid DeviceId => Identity.DeviceId;

    public string Token => Api.Token ?? throw new InvalidOperationException("Not logged in.");

    public byte[] AccountPublicKey => Identity.AccountKey.PublicKey.ToArray();

    public static async Task<Person> CreateAsync(RelayFactory relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        RelayApi api = new(relay.CreateRealClient());
        DeviceIdentity identity = DeviceIdentity.CreateAccount();
        await api.RegisterAccountAsync(identity).WaitAsync(TestTimeouts.Default);
        await api.LoginAsync(identity).WaitAsync(TestTimeouts.Default);
        LocalMessageStore store = LocalMessageStore.Open(Path.Combine(relay.DataDirectory, "devices", identity.AccountId.ToString("N")), SecureRandom.Bytes(32));
        return new Person(identity, api, store);
    }

    public void Dispose()
    {
        Store.Dispose();
        Api.Dispose();
        Identity.Dispose();
    }
}
