using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>libsodium's CSPRNG (<c>randombytes_buf</c>, <c>randombytes_uniform</c>).</summary>
public static class SecureRandom
{
    public static void Fill(Span<byte> buffer)
    {
        Sodium.EnsureInitialized();
        randombytes_buf(buffer, (nuint)buffer.Length);
    }

    public static byte[] Bytes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        byte[] bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    /// <summary>A fresh random 24-byte nonce for <see cref="XChaCha20Poly1305"/> or <see cref="Box"/>.</summary>
    public static byte[] Nonce() => Bytes(XChaCha20Poly1305.NonceSize);

    /// <summary>A uniformly distributed number in [0, <paramref name="upperBound"/>), without modulo bias.</summary>
    public static uint Uniform(uint upperBound)
    {
        Sodium.EnsureInitialized();
        ArgumentOutOfRangeException.ThrowIfZero(upperBound);
        return randombytes_uniform(upperBound);
    }
}
