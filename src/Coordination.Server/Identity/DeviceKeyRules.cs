using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Server.Identity;

/// <summary>Checks a device's public keys and the account signature over them.</summary>
public static class DeviceKeyRules
{
    /// <summary>Null when the keys are well-formed and signed by <paramref name="accountPublicKey"/>; else the reason.</summary>
    public static string? Validate(byte[]? accountPublicKey, DeviceKeys? device)
    {
        if (accountPublicKey is null || accountPublicKey.Length != Limits.PublicKeyBytes)
        {
            return $"accountPublicKey must be {Limits.PublicKeyBytes} bytes.";
        }

        if (device is null)
        {
            return "device is required.";
        }

        if (device.SigningPublicKey is null || device.SigningPublicKey.Length != Limits.PublicKeyBytes)
        {
            return $"device.signingPublicKey must be {Limits.PublicKeyBytes} bytes.";
        }

        if (device.AgreementPublicKey is null || device.AgreementPublicKey.Length != Limits.PublicKeyBytes)
        {
            return $"device.agreementPublicKey must be {Limits.PublicKeyBytes} bytes.";
        }

        if (device.AccountSignature is null || device.AccountSignature.Length != Limits.SignatureBytes)
        {
            return $"device.accountSignature must be {Limits.SignatureBytes} bytes.";
        }

        byte[] statement = SignedStatements.Device(accountPublicKey, device.SigningPublicKey, device.AgreementPublicKey);
        return Ed25519PublicKey.FromBytes(accountPublicKey).Verify(statement, device.AccountSignature)
            ? null
            : "device.accountSignature does not verify with the account key.";
    }
}
