using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// BLAKE2b (RFC 7693) through libsodium <c>crypto_generichash</c>: hashes of 16 to 64 bytes, plain or
/// keyed (a MAC / PRF with a 16 to 64-byte key).
/// </summary>
public static class Blake2b
{
    public const int MinHashSize = crypto_generichash_BYTES_MIN;
    public const int MaxHashSize = crypto_generichash_BYTES_MAX;
    public const int DefaultHashSize = crypto_generichash_BYTES;
    public const int MinKeySize = crypto_generichash_KEYBYTES_MIN;
    public const int MaxKeySize = crypto_generichash_KEYBYTES_MAX;

    public static byte[] Hash(ReadOnlySpan<byte> data, int hashSize = DefaultHashSize)
    {
        CheckHashSize(hashSize, nameof(hashSize));
        byte[] hash = new byte[hashSize];
        Hash(data, hash);
        return hash;
    }

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        Sodium.EnsureInitialized();
        CheckHashSize(hash.Length, nameof(hash));
        _ = crypto_generichash(hash, (nuint)hash.Length, data, (ulong)data.Length, 0, 0);
    }

    public static byte[] KeyedHash(SecretKey key, ReadOnlySpan<byte> data, int hashSize = DefaultHashSize)
    {
        CheckHashSize(hashSize, nameof(hashSize));
        byte[] hash = new byte[hashSize];
        KeyedHash(key, data, hash);
        return hash;
    }

    public static void KeyedHash(SecretKey key, ReadOnlySpan<byte> data, Span<byte> hash)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is < MinKeySize or > MaxKeySize)
        {
            throw Error.LengthRange(nameof(key), "A BLAKE2b key", MinKeySize, MaxKeySize, key.Length);
        }

        CheckHashSize(hash.Length, nameof(hash));
        _ = crypto_generichash(hash, (nuint)hash.Length, data, (ulong)data.Length, key.Memory, (nuint)key.Length);
    }

    private static void CheckHashSize(int size, string parameter)
    {
        if (size is < MinHashSize or > MaxHashSize)
        {
            throw Error.LengthRange(parameter, "A BLAKE2b hash", MinHashSize, MaxHashSize, size);
        }
    }
}
