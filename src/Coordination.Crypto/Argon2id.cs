using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>Work factors for Argon2id: passes over memory and memory in bytes.</summary>
public readonly record struct Argon2idCost(ulong Operations, long MemoryBytes)
{
    /// <summary>libsodium's interactive preset: 2 passes, 64 MiB.</summary>
    public static Argon2idCost Interactive { get; } = new(crypto_pwhash_OPSLIMIT_INTERACTIVE, (long)crypto_pwhash_MEMLIMIT_INTERACTIVE);

    /// <summary>libsodium's moderate preset: 3 passes, 256 MiB.</summary>
    public static Argon2idCost Moderate { get; } = new(crypto_pwhash_OPSLIMIT_MODERATE, (long)crypto_pwhash_MEMLIMIT_MODERATE);

    /// <summary>libsodium's sensitive preset: 4 passes, 1 GiB.</summary>
    public static Argon2idCost Sensitive { get; } = new(crypto_pwhash_OPSLIMIT_SENSITIVE, (long)crypto_pwhash_MEMLIMIT_SENSITIVE);

    /// <summary>The smallest cost libsodium accepts; for tests only.</summary>
    public static Argon2idCost Minimum { get; } = new(crypto_pwhash_OPSLIMIT_MIN, (long)crypto_pwhash_MEMLIMIT_MIN);
}

/// <summary>
/// Argon2id v1.3 (RFC 9106) through libsodium <c>crypto_pwhash</c> with <c>crypto_pwhash_ALG_ARGON2ID13</c>:
/// turns a passphrase (or receipt phrase) and a 16-byte salt into a key or a lookup id.
/// </summary>
public static class Argon2id
{
    public const int SaltSize = crypto_pwhash_SALTBYTES;
    public const int MinOutputSize = crypto_pwhash_BYTES_MIN;

    /// <summary>A secret key (in secure memory) derived from <paramref name="password"/>.</summary>
    public static SecretKey DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Argon2idCost cost, int length = 32)
    {
        Check(salt, cost, length);
        SecretKey key = SecretKey.Allocate(length);
        if (crypto_pwhash(key.Memory, (ulong)length, password, (ulong)password.Length, salt, cost.Operations, (nuint)cost.MemoryBytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
        {
            key.Dispose();
            throw new System.Security.Cryptography.CryptographicException("Argon2id could not allocate the requested memory.");
        }

        return key;
    }

    /// <summary>Derived bytes that are not themselves secret (e.g. a lookup id) into <paramref name="output"/>.</summary>
    public static void DeriveBytes(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Argon2idCost cost, Span<byte> output)
    {
        Check(salt, cost, output.Length);
        if (crypto_pwhash(output, (ulong)output.Length, password, (ulong)password.Length, salt, cost.Operations, (nuint)cost.MemoryBytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
        {
            throw new System.Security.Cryptography.CryptographicException("Argon2id could not allocate the requested memory.");
        }
    }

    private static void Check(ReadOnlySpan<byte> salt, Argon2idCost cost, int length)
    {
        Sodium.EnsureInitialized();
        Error.ThrowIfLength(salt, SaltSize, "An Argon2id salt", nameof(salt));
        if (cost.Operations < crypto_pwhash_OPSLIMIT_MIN || cost.MemoryBytes < (long)crypto_pwhash_MEMLIMIT_MIN)
        {
            throw new ArgumentOutOfRangeException(nameof(cost), cost, "The Argon2id cost is below libsodium's minimum.");
        }

        if (length < MinOutputSize)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Argon2id output must be at least {MinOutputSize} bytes.");
        }
    }
}
