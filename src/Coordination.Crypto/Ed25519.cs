using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// An Ed25519 public key (RFC 8032), 32 bytes. Verification follows libsodium 1.0.18: canonical
/// encodings only, small-order keys and R values rejected.
/// </summary>
public sealed class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    public const int Size = crypto_sign_ed25519_PUBLICKEYBYTES;

    private readonly byte[] _bytes;

    private Ed25519PublicKey(byte[] bytes)
    {
        _bytes = bytes;
    }

    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Wraps 32 bytes as a public key; any other length throws.</summary>
    public static Ed25519PublicKey FromBytes(ReadOnlySpan<byte> publicKey)
    {
        Error.ThrowIfLength(publicKey, Size, "An Ed25519 public key", nameof(publicKey));
        return new Ed25519PublicKey(publicKey.ToArray());
    }

    /// <summary>
    /// True only for a valid 64-byte signature of <paramref name="message"/> by this key. A signature
    /// of any other length is simply invalid.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        Sodium.EnsureInitialized();
        if (signature.Length != Ed25519KeyPair.SignatureSize)
        {
            return false;
        }

        return crypto_sign_ed25519_verify_detached(signature, message, (ulong)message.Length, _bytes) == 0;
    }

    public byte[] ToArray() => (byte[])_bytes.Clone();

    public bool Equals(Ed25519PublicKey? other) => other is not null && ConstantTime.AreEqual(_bytes, other._bytes);

    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => Convert.ToBase64String(_bytes);
}

/// <summary>An Ed25519 signing key pair; the secret half lives in secure memory.</summary>
public sealed class Ed25519KeyPair : IDisposable
{
    public const int SeedSize = crypto_sign_ed25519_SEEDBYTES;
    public const int SignatureSize = crypto_sign_ed25519_BYTES;

    private readonly Interop.SecureMemoryHandle _secretKey;

    private Ed25519KeyPair(Interop.SecureMemoryHandle secretKey, Ed25519PublicKey publicKey)
    {
        _secretKey = secretKey;
        PublicKey = publicKey;
    }

    public Ed25519PublicKey PublicKey { get; }

    public bool IsDisposed => _secretKey.IsClosed;

    /// <summary>A new key pair from a random seed; the seed is wiped before returning.</summary>
    public static Ed25519KeyPair Generate()
    {
        Sodium.EnsureInitialized();
        Span<byte> seed = stackalloc byte[SeedSize];
        try
        {
            randombytes_buf(seed, SeedSize);
            return FromSeed(seed);
        }
        finally
        {
            sodium_memzero(seed, SeedSize);
        }
    }

    /// <summary>The key pair for a 32-byte seed (RFC 8032 private key).</summary>
    public static Ed25519KeyPair FromSeed(ReadOnlySpan<byte> seed)
    {
        Sodium.EnsureInitialized();
        Error.ThrowIfLength(seed, SeedSize, "An Ed25519 seed", nameof(seed));
        Interop.SecureMemoryHandle secretKey = Interop.SecureMemoryHandle.Allocate(crypto_sign_ed25519_SECRETKEYBYTES);
        Span<byte> publicKey = stackalloc byte[Ed25519PublicKey.Size];
        _ = crypto_sign_ed25519_seed_keypair(publicKey, secretKey, seed);
        return new Ed25519KeyPair(secretKey, Ed25519PublicKey.FromBytes(publicKey));
    }

    /// <summary>A detached 64-byte signature of <paramref name="message"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        byte[] signature = new byte[SignatureSize];
        Sign(message, signature);
        return signature;
    }

    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        ObjectDisposedException.ThrowIf(_secretKey.IsClosed, this);
        if (signature.Length != SignatureSize)
        {
            throw Error.Destination(nameof(signature), SignatureSize, signature.Length);
        }

        _ = crypto_sign_ed25519_detached(signature, out _, message, (ulong)message.Length, _secretKey);
    }

    /// <summary>Copies the 32-byte seed out for encrypted storage; the caller must wipe it.</summary>
    public void ExportSeed(Span<byte> seed)
    {
        ObjectDisposedException.ThrowIf(_secretKey.IsClosed, this);
        if (seed.Length != SeedSize)
        {
            throw Error.Destination(nameof(seed), SeedSize, seed.Length);
        }

        _ = crypto_sign_ed25519_sk_to_seed(seed, _secretKey);
    }

    public void Dispose() => _secretKey.Dispose();
}
