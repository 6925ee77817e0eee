namespace Coordination.Crypto;

/// <summary>
/// Secret key material held only in <c>sodium_malloc</c>'d memory (guard pages, locked where the OS
/// allows). Disposing frees the memory, and <c>sodium_free</c> zeroes it first. Using a disposed key
/// throws <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class SecretKey : IDisposable
{
    /// <summary>The largest secret this type holds (BLAKE2b keys go up to 64 bytes).</summary>
    public const int MaxLength = 64;

    private readonly Interop.SecureMemoryHandle _memory;

    private SecretKey(Interop.SecureMemoryHandle memory)
    {
        _memory = memory;
    }

    /// <summary>Length of the key in bytes.</summary>
    public int Length => _memory.Length;

    /// <summary>True once <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => _memory.IsClosed;

    /// <summary>Handle for native calls; throws if the key was disposed.</summary>
    internal Interop.SecureMemoryHandle Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return _memory;
        }
    }

    /// <summary>A fresh random key of <paramref name="length"/> bytes (default 32).</summary>
    public static SecretKey Generate(int length = 32)
    {
        Sodium.EnsureInitialized();
        SecretKey key = Allocate(length);
        Interop.Libsodium.randombytes_buf(key._memory, (nuint)length);
        return key;
    }

    /// <summary>
    /// Copies <paramref name="material"/> into secure memory. The caller still owns (and should wipe)
    /// the source span.
    /// </summary>
    public static SecretKey Import(ReadOnlySpan<byte> material)
    {
        Sodium.EnsureInitialized();
        SecretKey key = Allocate(material.Length);
        key._memory.CopyFrom(material);
        return key;
    }

    /// <summary>
    /// Copies the key out, for encrypted storage at rest. The destination must be exactly
    /// <see cref="Length"/> bytes; the caller must wipe it when done.
    /// </summary>
    public void Export(Span<byte> destination)
    {
        if (destination.Length != Length)
        {
            throw Error.Destination(nameof(destination), Length, destination.Length);
        }

        Memory.CopyTo(destination);
    }

    /// <summary>Compares two keys in constant time (for equal lengths).</summary>
    public bool ContentEquals(SecretKey other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Length != Length)
        {
            return false;
        }

        Span<byte> copy = stackalloc byte[other.Length];
        try
        {
            other.Export(copy);
            return Interop.Libsodium.sodium_memcmp(Memory, copy, (nuint)Length) == 0;
        }
        finally
        {
            Interop.Libsodium.sodium_memzero(copy, (nuint)copy.Length);
        }
    }

    public void Dispose() => _memory.Dispose();

    internal static SecretKey Allocate(int length)
    {
        if (length is <= 0 or > MaxLength)
        {
            throw Error.LengthRange(nameof(length), "A secret key", 1, MaxLength, length);
        }

        return new SecretKey(Interop.SecureMemoryHandle.Allocate(length));
    }
}
