using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Coordination.Client.Identity;
using Coordination.Crypto;

namespace Coordination.Client.Profiles;

/// <summary>
/// Everything a device keeps about itself: where its relay is, its ids, its secret keys and a
/// random key for its local message history. <see cref="ProfileStore"/> keeps it on disk,
/// encrypted under a passphrase unless the user explicitly chose otherwise. The display name is a
/// local label; it is never sent to the relay.
/// </summary>
/// <remarks>
/// The key fields are plain arrays because this is the stored form; <see cref="Wipe"/> zeroes them
/// (<see cref="ProfileStore.Dispose"/> does that). Load keys into a <see cref="DeviceIdentity"/>
/// (secure memory) to use them.
/// </remarks>
public sealed record Profile
{
    /// <summary>The version of this record's layout.</summary>
    public const int CurrentFormatVersion = 1;

    public const int KeySize = 32;

    [JsonPropertyName("format")]
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>The relay's base URL, e.g. <c>https://relay.example/</c>.</summary>
    public required string ServerUrl { get; init; }

    public required Guid AccountId { get; init; }

    public required Guid DeviceId { get; init; }

    /// <summary>The account's 32-byte Ed25519 seed (shared by the account's devices).</summary>
    public required byte[] AccountSeed { get; init; }

    /// <summary>This device's 32-byte Ed25519 signing seed (never leaves the device).</summary>
    public required byte[] DeviceSigningSeed { get; init; }

    /// <summary>This device's 32-byte X25519 private key (never leaves the device).</summary>
    public required byte[] DeviceAgreementKey { get; init; }

    /// <summary>A local label for this profile, if the user gave one. Kept only in this file.</summary>
    public string? DisplayName { get; init; }

    /// <summary>32 random bytes that encrypt this device's local message history.</summary>
    public required byte[] LocalStorageKey { get; init; }

    /// <summary>When the profile was created, in Unix milliseconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>
    /// A profile for a registered (or linked) device: exports its keys and draws a fresh local
    /// storage key. <paramref name="identity"/> must have its account and device ids set.
    /// </summary>
    public static Profile FromIdentity(DeviceIdentity identity, Uri server, string? displayName = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(server);
        if (identity.AccountId == Guid.Empty || identity.DeviceId == Guid.Empty)
        {
            throw new ArgumentException("The identity has no account or device id yet; register or link it first.", nameof(identity));
        }

        byte[] accountSeed = new byte[Ed25519KeyPair.SeedSize];
        byte[] signingSeed = new byte[Ed25519KeyPair.SeedSize];
        byte[] agreementKey = new byte[X25519KeyPair.PrivateKeySize];
        identity.AccountKey.ExportSeed(accountSeed);
        identity.SigningKey.ExportSeed(signingSeed);
        identity.AgreementKey.ExportPrivateKey(agreementKey);
        return new Profile
        {
            ServerUrl = server.AbsoluteUri,
            AccountId = identity.AccountId,
            DeviceId = identity.DeviceId,
            AccountSeed = accountSeed,
            DeviceSigningSeed = signingSeed,
            DeviceAgreementKey = agreementKey,
            DisplayName = string.IsNullOrWhiteSpace(displayName) ? null : displayName.Trim(),
            LocalStorageKey = SecureRandom.Bytes(KeySize),
            CreatedAt = (clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>The device's keys in secure memory, with its ids set. The caller disposes it.</summary>
    public DeviceIdentity ToIdentity()
    {
        DeviceIdentity identity = DeviceIdentity.Restore(AccountSeed, DeviceSigningSeed, DeviceAgreementKey);
        identity.AccountId = AccountId;
        identity.DeviceId = DeviceId;
        return identity;
    }

    /// <summary>Zeroes the key arrays. The record is unusable for keys afterwards.</summary>
    public void Wipe()
    {
        CryptographicOperations.ZeroMemory(AccountSeed);
        CryptographicOperations.ZeroMemory(DeviceSigningSeed);
        CryptographicOperations.ZeroMemory(DeviceAgreementKey);
        CryptographicOperations.ZeroMemory(LocalStorageKey);
    }

    /// <summary>Throws <see cref="ProfileException"/> unless every field has a usable value.</summary>
    internal void Validate()
    {
        if (FormatVersion != CurrentFormatVersion)
        {
            throw new ProfileException($"The profile has format {FormatVersion}; this version reads format {CurrentFormatVersion}.");
        }

        if (!Uri.TryCreate(ServerUrl, UriKind.Absolute, out Uri? server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            throw new ProfileException("The profile's server URL is not an absolute http or https URL.");
        }

        if (AccountId == Guid.Empty || DeviceId == Guid.Empty)
        {
            throw new ProfileException("The profile has no account or device id.");
        }

        if (AccountSeed is not { Length: KeySize } || DeviceSigningSeed is not { Length: KeySize }
            || DeviceAgreementKey is not { Length: KeySize } || LocalStorageKey is not { Length: KeySize })
        {
            throw new ProfileException("The profile's keys must each be 32 bytes.");
        }
    }
}
