using System.Security.Cryptography;
using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>An X25519 public key (RFC 7748), 32 bytes. Also the public key of crypto_box and crypto_kx.</summary>
public sealed class X25519PublicKey : IEquatable<X25519PublicKey>
{
    public const int Size = crypto_scalarmult_curve25519_BYTES;

    private readonly byte[] _bytes;

    private X25519PublicKey(byte[] bytes)
    {
        _bytes = bytes;
    }

    public ReadOnlySpan<byte> Bytes => _bytes;

    public static X25519PublicKey FromBytes(ReadOnlySpan<byte> publicKey)
    {
        Error.ThrowIfLength(publicKey, Size, "An X25519 public key", nameof(publicKey));
        return new X25519PublicKey(publicKey.ToArray());
    }

    public byte[] ToArray() => (byte[])_bytes.Clone();

    public bool Equals(X25519PublicKey? other) => other is not null && ConstantTime.AreEqual(_bytes, other._bytes);

    public override bool Equals(object? obj) => Equals(obj as X25519PublicKey);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => Convert.ToBase64String(_bytes);
}

/// <summary>
/// An X25519 key pair; the private scalar lives in secure memory. Usable for raw key agreement,
/// <see cref="Box"/>, <see cref="SealedBox"/> and <see cref="KeyExchange"/>.
/// </summary>
public sealed class X25519KeyPair : IDisposable
{
    public const int PrivateKeySize = crypto_scalarmult_curve25519_SCALARBYTES;

    private readonly Interop.SecureMemoryHandle _privateKey;

    private X25519KeyPair(Interop.SecureMemoryHandle privateKey, X25519PublicKey publicKey)
    {
        _privateKey = privateKey;
        PublicKey = publicKey;
    }

    public X25519PublicKey PublicKey { get; }

    public bool IsDisposed => _privateKey.IsClosed;

    internal Interop.SecureMemoryHandle PrivateKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_privateKey.IsClosed, this);
            return _privateKey;
        }
    }

    public static X25519KeyPair Generate()
    {
        Sodium.EnsureInitialized();
        Span<byte> scalar = stackalloc byte[PrivateKeySize];
        try
        {
            randombytes_buf(scalar, PrivateKeySize);
            return FromPrivateKey(scalar);
        }
        finally
        {
            sodium_memzero(scalar, PrivateKeySize);
        }
    }

    /// <summary>The key pair for a 32-byte private scalar (clamped by the primitive, as RFC 7748 says).</summary>
    public static X25519KeyPair FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        Sodium.EnsureInitialized();
        Error.ThrowIfLength(privateKey, PrivateKeySize, "An X25519 private key", nameof(privateKey));
        Interop.SecureMemoryHandle scalar = Interop.SecureMemoryHandle.Allocate(PrivateKeySize);
        scalar.CopyFrom(privateKey);

        Span<byte> publicKey = stackalloc byte[X25519PublicKey.Size];
        if (crypto_scalarmult_curve25519_base(publicKey, scalar) != 0)
        {
            scalar.Dispose();
            throw new CryptographicException("The X25519 private key gives no valid public key.");
        }

        return new X25519KeyPair(scalar, X25519PublicKey.FromBytes(publicKey));
    }

    /// <summary>
    /// Raw X25519 with <paramref name="peer"/>. Returns false (and no key) when the result is all
    /// zeros, which happens for low-order public keys; libsodium refuses those.
    /// Hash the raw secret (with both public keys) before using it as a key, or use <see cref="KeyExchange"/>.
    /// </summary>
    public bool TryAgree(X25519PublicKey peer, out SecretKey? sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(peer);
        SecretKey shared = SecretKey.Allocate(crypto_scalarmult_curve25519_BYTES);
        if (crypto_scalarmult_curve25519(shared.Memory, PrivateKey, peer.Bytes) != 0)
        {
            shared.Dispose();
            sharedSecret = null;
            return false;
        }

        sharedSecret = shared;
        return true;
    }

    /// <summary>Copies the private scalar out for encrypted storage; the caller must wipe it.</summary>
    public void ExportPrivateKey(Span<byte> privateKey)
    {
        if (privateKey.Length != PrivateKeySize)
        {
            throw Error.Destination(nameof(privateKey), PrivateKeySize, privateKey.Length);
        }

        PrivateKey.CopyTo(privateKey);
    }

    public void Dispose() => _privateKey.Dispose();
}
