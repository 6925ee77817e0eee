using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// XChaCha20-Poly1305 IETF AEAD (draft-irtf-cfrg-xchacha), libsodium
/// <c>crypto_aead_xchacha20poly1305_ietf_*</c>. Key 32 bytes, nonce 24 bytes (random nonces are
/// safe at this size), tag 16 bytes. Ciphertext = encrypted message || tag.
/// </summary>
public static class XChaCha20Poly1305
{
    public const int KeySize = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
    public const int NonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    public const int TagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;

    public static byte[] Encrypt(SecretKey key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        byte[] ciphertext = new byte[plaintext.Length + TagSize];
        Encrypt(key, nonce, plaintext, associatedData, ciphertext);
        return ciphertext;
    }

    /// <summary>Encrypts into <paramref name="ciphertext"/>, which must be plaintext length + 16 bytes.</summary>
    public static void Encrypt(SecretKey key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertext)
    {
        Error.ThrowIfKeyLength(key, KeySize, "An XChaCha20-Poly1305 key", nameof(key));
        Error.ThrowIfLength(nonce, NonceSize, "An XChaCha20-Poly1305 nonce", nameof(nonce));
        if (ciphertext.Length != plaintext.Length + TagSize)
        {
            throw Error.Destination(nameof(ciphertext), plaintext.Length + TagSize, ciphertext.Length);
        }

        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
            ciphertext, out _, plaintext, (ulong)plaintext.Length, associatedData, (ulong)associatedData.Length, 0, nonce, key.Memory);
    }

    /// <summary>
    /// Decrypts and authenticates. Returns false, with no plaintext, on a wrong key, nonce or
    /// associated data, or on any change to the ciphertext (libsodium writes nothing on failure).
    /// </summary>
    public static bool TryDecrypt(SecretKey key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, out byte[]? plaintext)
    {
        plaintext = null;
        if (ciphertext.Length < TagSize)
        {
            Error.ThrowIfKeyLength(key, KeySize, "An XChaCha20-Poly1305 key", nameof(key));
            Error.ThrowIfLength(nonce, NonceSize, "An XChaCha20-Poly1305 nonce", nameof(nonce));
            return false;
        }

        byte[] output = new byte[ciphertext.Length - TagSize];
        if (!TryDecrypt(key, nonce, ciphertext, associatedData, output))
        {
            return false;
        }

        plaintext = output;
        return true;
    }

    /// <summary>Decrypts into <paramref name="plaintext"/>, which must be ciphertext length - 16 bytes.</summary>
    public static bool TryDecrypt(SecretKey key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        Error.ThrowIfKeyLength(key, KeySize, "An XChaCha20-Poly1305 key", nameof(key));
        Error.ThrowIfLength(nonce, NonceSize, "An XChaCha20-Poly1305 nonce", nameof(nonce));
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        if (plaintext.Length != ciphertext.Length - TagSize)
        {
            throw Error.Destination(nameof(plaintext), ciphertext.Length - TagSize, plaintext.Length);
        }

        return crypto_aead_xchacha20poly1305_ietf_decrypt(
            plaintext, out _, 0, ciphertext, (ulong)ciphertext.Length, associatedData, (ulong)associatedData.Length, nonce, key.Memory) == 0;
    }
}
