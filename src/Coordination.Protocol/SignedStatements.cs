using System.Text;

namespace Coordination.Protocol;

/// <summary>
/// The exact bytes that are signed, so that a signature for one purpose can never be replayed for
/// another. Each statement starts with a distinct ASCII label and a zero byte. See docs/protocol.md.
/// </summary>
public static class SignedStatements
{
    public const string DeviceLabel = "coordination/v1/device";
    public const string LoginLabel = "coordination/v1/login";

    /// <summary>
    /// What an account key signs to vouch for a device:
    /// <c>"coordination/v1/device" 0x00 account_pk(32) device_signing_pk(32) device_agreement_pk(32)</c>.
    /// </summary>
    public static byte[] Device(ReadOnlySpan<byte> accountPublicKey, ReadOnlySpan<byte> deviceSigningKey, ReadOnlySpan<byte> deviceAgreementKey)
    {
        RequireLength(accountPublicKey, Limits.PublicKeyBytes, nameof(accountPublicKey));
        RequireLength(deviceSigningKey, Limits.PublicKeyBytes, nameof(deviceSigningKey));
        RequireLength(deviceAgreementKey, Limits.PublicKeyBytes, nameof(deviceAgreementKey));
        byte[] label = Encoding.ASCII.GetBytes(DeviceLabel);
        byte[] statement = new byte[label.Length + 1 + (3 * Limits.PublicKeyBytes)];
        label.CopyTo(statement, 0);
        int offset = label.Length + 1;
        accountPublicKey.CopyTo(statement.AsSpan(offset));
        deviceSigningKey.CopyTo(statement.AsSpan(offset + 32));
        deviceAgreementKey.CopyTo(statement.AsSpan(offset + 64));
        return statement;
    }

    /// <summary>
    /// What a device signs to log in:
    /// <c>"coordination/v1/login" 0x00 origin(UTF-8) 0x00 challenge_id(16, RFC 4122 byte order) nonce(32)</c>.
    /// The origin is the server's public origin (scheme://host[:port]) as the client reached it.
    /// </summary>
    public static byte[] Login(string origin, Guid challengeId, ReadOnlySpan<byte> nonce)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        RequireLength(nonce, Limits.ChallengeNonceBytes, nameof(nonce));
        byte[] label = Encoding.ASCII.GetBytes(LoginLabel);
        byte[] originBytes = Encoding.UTF8.GetBytes(NormalizeOrigin(origin));
        byte[] statement = new byte[label.Length + 1 + originBytes.Length + 1 + 16 + nonce.Length];
        int offset = 0;
        label.CopyTo(statement, offset);
        offset += label.Length + 1;
        originBytes.CopyTo(statement, offset);
        offset += originBytes.Length + 1;
        _ = challengeId.TryWriteBytes(statement.AsSpan(offset, 16), bigEndian: true, out _);
        offset += 16;
        nonce.CopyTo(statement.AsSpan(offset));
        return statement;
    }

    /// <summary>
    /// Lower-case scheme and host, no path or trailing slash, default ports dropped. An
    /// internationalized host is written in its ASCII (Punycode) form, so <c>https://пример.рф</c>
    /// and <c>https://xn--e1afmkfd.xn--p1ai</c> are one origin; an IPv6 host keeps its brackets.
    /// </summary>
    public static string NormalizeOrigin(string origin)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        // On Unix "/path" parses as an absolute file: URI; only web origins are origins.
        if (!Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("The origin must be an absolute http or https URI such as https://relay.example.", nameof(origin));
        }

        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
        return uri.IsDefaultPort
            ? $"{uri.Scheme}://{host}".ToLowerInvariant()
            : $"{uri.Scheme}://{host}:{uri.Port}".ToLowerInvariant();
    }

    private static void RequireLength(ReadOnlySpan<byte> value, int length, string name)
    {
        if (value.Length != length)
        {
            throw new ArgumentException($"{name} must be exactly {length} bytes, got {value.Length}.", name);
        }
    }
}
