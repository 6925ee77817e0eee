using System.Text;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Identity;

/// <summary>
/// The one-time code that links a new device to an account. The code (160 random bits, shown as
/// 32 base32 characters in groups of four) never reaches the server. Both devices derive from it:
/// <c>master = BLAKE2b-256(code)</c>, <c>lookupId = KDF(master, 1, "linklkup")</c> (what the server
/// indexes) and <c>transferKey = KDF(master, 2, "linkxfer")</c> (XChaCha20-Poly1305 key for the
/// payload, which carries the account key). See docs/protocol.md.
/// </summary>
public sealed class DeviceLinkCode : IDisposable
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int CodeBytes = 20;

    private readonly SecretKey _transferKey;

    private DeviceLinkCode(string code, byte[] lookupId, SecretKey transferKey)
    {
        Code = code;
        LookupId = lookupId;
        _transferKey = transferKey;
    }

    /// <summary>The code to show to the user, e.g. <c>K7QX-...</c>.</summary>
    public string Code { get; }

    public byte[] LookupId { get; }

    public static DeviceLinkCode Create()
    {
        byte[] random = SecureRandom.Bytes(CodeBytes);
        StringBuilder code = new();
        int bits = 0;
        int buffer = 0;
        foreach (byte b in random)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                code.Append(Alphabet[(buffer >> bits) & 31]);
            }
        }

        string plain = code.ToString();
        return Parse(string.Join('-', Enumerable.Range(0, plain.Length / 4).Select(i => plain.Substring(i * 4, 4))));
    }

    /// <summary>Derives the lookup id and transfer key from a code typed by the user (case and dashes ignored).</summary>
    public static DeviceLinkCode Parse(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        string normalized = new([.. code.ToUpperInvariant().Where(c => c != '-' && !char.IsWhiteSpace(c))]);
        if (normalized.Length != 32 || normalized.Any(c => !Alphabet.Contains(c, StringComparison.Ordinal)))
        {
            throw new FormatException("A link code is 32 characters from A-Z and 2-9 (without I, O, 0 and 1), usually in groups of four.");
        }

        using SecretKey master = SecretKey.Import(Blake2b.Hash(Encoding.ASCII.GetBytes(normalized), 32));
        using SecretKey lookup = SubkeyDerivation.DeriveSubkey(master, 1, "linklkup");
        byte[] lookupId = new byte[Limits.LinkLookupIdBytes];
        lookup.Export(lookupId);
        SecretKey transfer = SubkeyDerivation.DeriveSubkey(master, 2, "linkxfer");
        string display = string.Join('-', Enumerable.Range(0, 8).Select(i => normalized.Substring(i * 4, 4)));
        return new DeviceLinkCode(display, lookupId, transfer);
    }

    /// <summary>Encrypts the payload for the new device: nonce(24) || XChaCha20-Poly1305(payload, ad = lookupId).</summary>
    public byte[] Seal(ReadOnlySpan<byte> payload)
    {
        byte[] nonce = SecureRandom.Nonce();
        byte[] ciphertext = XChaCha20Poly1305.Encrypt(_transferKey, nonce, payload, LookupId);
        return [.. nonce, .. ciphertext];
    }

    /// <summary>Decrypts a payload sealed with the same code; false if it was altered or sealed under another code.</summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedPayload, out byte[]? payload)
    {
        payload = null;
        if (sealedPayload.Length < XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            return false;
        }

        return XChaCha20Poly1305.TryDecrypt(_transferKey, sealedPayload[..XChaCha20Poly1305.NonceSize], sealedPayload[XChaCha20Poly1305.NonceSize..], LookupId, out payload);
    }

    public void Dispose() => _transferKey.Dispose();
}
