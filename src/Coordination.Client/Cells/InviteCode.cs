using System.Text;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Cells;

/// <summary>
/// The code an organizer hands to an invitee (protocol section 8.3): 16 random bytes and the first
/// 16 bytes of the cell's genesis hash, as 52 base32 characters in groups of four. The relay never
/// sees it. Everything derives from <c>master = BLAKE2b-256(secret)</c>: the lookup id the relay
/// indexes (<c>KDF(master, 1, "invlookp")</c>), the invite signing key (<c>KDF(master, 2,
/// "invsignk")</c> as an Ed25519 seed) and the key that seals the cell key (<c>KDF(master, 3,
/// "invcellk")</c>).
/// </summary>
public sealed class InviteCode : IDisposable
{
    public const int SecretBytes = 16;
    public const int GenesisTagBytes = 16;
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int Characters = 52;

    private readonly SecretKey _cellKeyWrap;

    private InviteCode(string code, byte[] genesisTag, byte[] lookupId, Ed25519KeyPair signingKey, SecretKey cellKeyWrap)
    {
        Code = code;
        GenesisTag = genesisTag;
        LookupId = lookupId;
        SigningKey = signingKey;
        _cellKeyWrap = cellKeyWrap;
    }

    public string Code { get; }

    /// <summary>The first 16 bytes of the cell's genesis hash: which cell the invitee expects.</summary>
    public byte[] GenesisTag { get; }

    public byte[] LookupId { get; }

    /// <summary>Signs the admission statement, proving the invitee holds the code.</summary>
    public Ed25519KeyPair SigningKey { get; }

    public static InviteCode Create(ReadOnlySpan<byte> genesisHash)
    {
        byte[] bytes = [.. SecureRandom.Bytes(SecretBytes), .. genesisHash[..GenesisTagBytes]];
        StringBuilder code = new();
        int bits = 0;
        int buffer = 0;
        foreach (byte b in bytes)
        {
            buffer = ((buffer << 8) | b) & 0xFFFF;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                code.Append(Alphabet[(buffer >> bits) & 31]);
            }
        }

        if (bits > 0)
        {
            code.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        Array.Clear(bytes);
        return Parse(code.ToString());
    }

    /// <summary>Reads a typed code (case, spaces and dashes ignored).</summary>
    public static InviteCode Parse(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        string normalized = new([.. code.ToUpperInvariant().Where(c => c != '-' && !char.IsWhiteSpace(c))]);
        if (normalized.Length != Characters || normalized.Any(c => !Alphabet.Contains(c, StringComparison.Ordinal)))
        {
            throw new FormatException($"An invite code is {Characters} characters from A-Z and 2-9 (without I, O, 0 and 1), usually in groups of four.");
        }

        byte[] bytes = new byte[SecretBytes + GenesisTagBytes];
        int bits = 0;
        int buffer = 0;
        int index = 0;
        foreach (char c in normalized)
        {
            buffer = ((buffer << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal)) & 0xFFFF;
            bits += 5;
            if (bits >= 8 && index < bytes.Length)
            {
                bits -= 8;
                bytes[index++] = (byte)(buffer >> bits);
            }
        }

        if ((buffer & ((1 << bits) - 1)) != 0)
        {
            // 52 characters carry 260 bits; the last 4 are zero in every code this version writes.
            throw new FormatException("This is not an invite code: its last character is not one a code can end with. Check for a typing mistake.");
        }

        using SecretKey master = SecretKey.Import(Blake2b.Hash(bytes.AsSpan(0, SecretBytes), 32));
        byte[] genesisTag = bytes[SecretBytes..];
        Array.Clear(bytes);
        using SecretKey lookup = SubkeyDerivation.DeriveSubkey(master, 1, "invlookp");
        byte[] lookupId = new byte[Limits.InviteLookupIdBytes];
        lookup.Export(lookupId);
        using SecretKey seed = SubkeyDerivation.DeriveSubkey(master, 2, "invsignk");
        byte[] seedBytes = new byte[Ed25519KeyPair.SeedSize];
        seed.Export(seedBytes);
        Ed25519KeyPair signing = Ed25519KeyPair.FromSeed(seedBytes);
        Array.Clear(seedBytes);
        SecretKey wrap = SubkeyDerivation.DeriveSubkey(master, 3, "invcellk");
        string display = string.Join('-', Enumerable.Range(0, Characters / 4).Select(i => normalized.Substring(i * 4, 4)));
        return new InviteCode(display, genesisTag, lookupId, signing, wrap);
    }

    /// <summary>nonce(24) || XChaCha20-Poly1305(cellKey, ad = lookupId).</summary>
    public byte[] SealCellKey(ReadOnlySpan<byte> cellKey)
    {
        byte[] nonce = SecureRandom.Nonce();
        return [.. nonce, .. XChaCha20Poly1305.Encrypt(_cellKeyWrap, nonce, cellKey, LookupId)];
    }

    public bool TryOpenCellKey(ReadOnlySpan<byte> sealedKey, out byte[]? cellKey)
    {
        cellKey = null;
        return sealedKey.Length >= XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize
            && XChaCha20Poly1305.TryDecrypt(_cellKeyWrap, sealedKey[..XChaCha20Poly1305.NonceSize], sealedKey[XChaCha20Poly1305.NonceSize..], LookupId, out cellKey);
    }

    public void Dispose()
    {
        SigningKey.Dispose();
        _cellKeyWrap.Dispose();
    }
}
