using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// Authenticated public-key encryption, libsodium <c>crypto_box_easy</c>
/// (X25519 + XSalsa20-Poly1305). Both sides are authenticated; the nonce (24 bytes) must never repeat
/// for the same pair of keys, so use <see cref="SecureRandom.Nonce"/>.
/// Ciphertext = 16-byte tag || encrypted message.
/// </summary>
public static class Box
{
    public const int NonceSize = crypto_box_NONCEBYTES;
    public const int TagSize = crypto_box_MACBYTES;

    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> nonce, X25519PublicKey recipient, X25519KeyPair sender)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(sender);
        Error.ThrowIfLength(nonce, NonceSize, "A crypto_box nonce", nameof(nonce));
        byte[] ciphertext = new byte[plaintext.Length + TagSize];
        if (crypto_box_easy(ciphertext, plaintext, (ulong)plaintext.Length, nonce, recipient.Bytes, sender.PrivateKey) != 0)
        {
            throw new System.Security.Cryptography.CryptographicException("crypto_box_easy refused the recipient key (low order).");
        }

        return ciphertext;
    }

    /// <summary>
    /// Decrypts and authenticates. Returns false, with no plaintext, on any failure: wrong key, wrong
    /// nonce, tampered or truncated ciphertext.
    /// </summary>
    public static bool TryDecrypt(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> nonce, X25519PublicKey sender, X25519KeyPair recipient, out byte[]? plaintext)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipient);
        Error.ThrowIfLength(nonce, NonceSize, "A crypto_box nonce", nameof(nonce));
        plaintext = null;
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        byte[] output = new byte[ciphertext.Length - TagSize];
        if (crypto_box_open_easy(output, ciphertext, (ulong)ciphertext.Length, nonce, sender.Bytes, recipient.PrivateKey) != 0)
        {
            return false;
        }

        plaintext = output;
        return true;
    }
}

/// <summary>
/// Anonymous public-key encryption to a recipient, libsodium <c>crypto_box_seal</c>: an ephemeral
/// X25519 key per message, so the sender is not identified and cannot decrypt afterwards.
/// Ciphertext = ephemeral public key (32) || tag (16) || encrypted message.
/// </summary>
public static class SealedBox
{
    public const int Overhead = crypto_box_SEALBYTES;

    public static byte[] Seal(ReadOnlySpan<byte> plaintext, X25519PublicKey recipient)
    {
        Sodium.EnsureInitialized();
        ArgumentNullException.ThrowIfNull(recipient);
        byte[] ciphertext = new byte[plaintext.Length + Overhead];
        if (crypto_box_seal(ciphertext, plaintext, (ulong)plaintext.Length, recipient.Bytes) != 0)
        {
            throw new System.Security.Cryptography.CryptographicException("crypto_box_seal refused the recipient key (low order).");
        }

        return ciphertext;
    }

    /// <summary>Opens a sealed box; false, with no plaintext, if it was not sealed to this key pair or was altered.</summary>
    public static bool TryOpen(ReadOnlySpan<byte> ciphertext, X25519KeyPair recipient, out byte[]? plaintext)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        plaintext = null;
        if (ciphertext.Length < Overhead)
        {
            return false;
        }

        byte[] output = new byte[ciphertext.Length - Overhead];
        if (crypto_box_seal_open(output, ciphertext, (ulong)ciphertext.Length, recipient.PublicKey.Bytes, recipient.PrivateKey) != 0)
        {
            return false;
        }

        plaintext = output;
        return true;
    }
}
