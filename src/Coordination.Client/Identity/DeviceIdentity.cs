using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Identity;

/// <summary>
/// The keys of one device: the account's Ed25519 key (shared by the account's devices), the
/// device's own Ed25519 signing key and X25519 agreement key. Secret halves stay in secure memory.
/// </summary>
public sealed class DeviceIdentity : IDisposable
{
    private DeviceIdentity(Ed25519KeyPair accountKey, Ed25519KeyPair signingKey, X25519KeyPair agreementKey)
    {
        AccountKey = accountKey;
        SigningKey = signingKey;
        AgreementKey = agreementKey;
    }

    public Ed25519KeyPair AccountKey { get; }

    public Ed25519KeyPair SigningKey { get; }

    public X25519KeyPair AgreementKey { get; }

    /// <summary>Set once the server has registered the account.</summary>
    public Guid AccountId { get; set; }

    /// <summary>Set once the server has registered this device.</summary>
    public Guid DeviceId { get; set; }

    /// <summary>A brand-new account with this as its first device.</summary>
    public static DeviceIdentity CreateAccount() =>
        new(Ed25519KeyPair.Generate(), Ed25519KeyPair.Generate(), X25519KeyPair.Generate());

    /// <summary>A new device for an existing account whose key arrived through a link code.</summary>
    public static DeviceIdentity ForExistingAccount(ReadOnlySpan<byte> accountSeed) =>
        new(Ed25519KeyPair.FromSeed(accountSeed), Ed25519KeyPair.Generate(), X25519KeyPair.Generate());

    /// <summary>Restores a device from stored key material.</summary>
    public static DeviceIdentity Restore(ReadOnlySpan<byte> accountSeed, ReadOnlySpan<byte> signingSeed, ReadOnlySpan<byte> agreementKey) =>
        new(Ed25519KeyPair.FromSeed(accountSeed), Ed25519KeyPair.FromSeed(signingSeed), X25519KeyPair.FromPrivateKey(agreementKey));

    /// <summary>This device's public keys with the account's signature over them.</summary>
    public DeviceKeys SignedDeviceKeys()
    {
        byte[] statement = SignedStatements.Device(AccountKey.PublicKey.Bytes, SigningKey.PublicKey.Bytes, AgreementKey.PublicKey.Bytes);
        return new DeviceKeys(SigningKey.PublicKey.ToArray(), AgreementKey.PublicKey.ToArray(), AccountKey.Sign(statement));
    }

    /// <summary>The signature that answers a login challenge from <paramref name="origin"/>.</summary>
    public byte[] SignLogin(string origin, ChallengeResponse challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        return SigningKey.Sign(SignedStatements.Login(origin, challenge.ChallengeId, challenge.Nonce));
    }

    public void Dispose()
    {
        AccountKey.Dispose();
        SigningKey.Dispose();
        AgreementKey.Dispose();
    }
}
