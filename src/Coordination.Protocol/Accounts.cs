namespace Coordination.Protocol;

/// <summary>A device's public keys, vouched for by the account key.</summary>
/// <param name="SigningPublicKey">Ed25519, 32 bytes: signs login challenges.</param>
/// <param name="AgreementPublicKey">X25519, 32 bytes: what others encrypt to.</param>
/// <param name="AccountSignature">Ed25519 signature by the account key over <see cref="SignedStatements.Device"/>.</param>
public sealed record DeviceKeys(byte[] SigningPublicKey, byte[] AgreementPublicKey, byte[] AccountSignature);

/// <summary>POST /api/v1/accounts: a new account with its first device. No phone, e-mail or name.</summary>
public sealed record RegisterAccountRequest(byte[] AccountPublicKey, DeviceKeys Device);

public sealed record RegisterAccountResponse(Guid AccountId, Guid DeviceId);

/// <summary>POST /api/v1/devices/link-codes: an existing device offers an encrypted payload under a one-time lookup id.</summary>
/// <param name="LookupId">32 bytes derived from the one-time code; the server never sees the code.</param>
/// <param name="Payload">Ciphertext for the new device (the account key and profile), at most <see cref="Limits.MaxLinkPayloadBytes"/>.</param>
public sealed record CreateLinkCodeRequest(byte[] LookupId, byte[] Payload);

public sealed record CreateLinkCodeResponse(long ExpiresAt);

/// <summary>GET /api/v1/devices/link-codes/{lookupId}: what the new device needs to join the account.</summary>
public sealed record LinkCodeOffer(Guid AccountId, byte[] AccountPublicKey, byte[] Payload, long ExpiresAt);

/// <summary>POST /api/v1/devices: a new device joins an account with a link code (used once).</summary>
public sealed record LinkDeviceRequest(byte[] LookupId, DeviceKeys Device);

public sealed record LinkDeviceResponse(Guid AccountId, Guid DeviceId);

/// <summary>One device of an account as others see it.</summary>
public sealed record DeviceInfo(Guid DeviceId, byte[] SigningPublicKey, byte[] AgreementPublicKey, byte[] AccountSignature, bool Revoked);

/// <summary>GET /api/v1/accounts/{id}: an account's public key and its active devices.</summary>
public sealed record AccountInfo(Guid AccountId, byte[] AccountPublicKey, IReadOnlyList<DeviceInfo> Devices);
