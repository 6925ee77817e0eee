using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// ISO/IEC 7816-4 padding through libsodium <c>sodium_pad</c> / <c>sodium_unpad</c>: a 0x80 byte, then
/// zeros up to a multiple of the block size. Always adds at least one byte, so it is unambiguous.
/// </summary>
public static class Padding
{
    /// <summary>The padded length of <paramref name="length"/> bytes for <paramref name="blockSize"/>.</summary>
    public static int PaddedLength(int length, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        return checked(((length / blockSize) + 1) * blockSize);
    }

    public static byte[] Pad(ReadOnlySpan<byte> data, int blockSize)
    {
        Sodium.EnsureInitialized();
        int padded = PaddedLength(data.Length, blockSize);
        byte[] buffer = new byte[padded];
        data.CopyTo(buffer);
        if (sodium_pad(out nuint written, buffer, (nuint)data.Length, (nuint)blockSize, (nuint)buffer.Length) != 0 || written != (nuint)padded)
        {
            throw new InvalidOperationException("sodium_pad failed.");
        }

        return buffer;
    }

    /// <summary>
    /// The unpadded length, or false when <paramref name="padded"/> is not correctly padded to
    /// <paramref name="blockSize"/>.
    /// </summary>
    public static bool TryUnpad(ReadOnlySpan<byte> padded, int blockSize, out int length)
    {
        Sodium.EnsureInitialized();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        length = 0;
        if (padded.IsEmpty || padded.Length % blockSize != 0)
        {
            return false;
        }

        if (sodium_unpad(out nuint unpadded, padded, (nuint)padded.Length, (nuint)blockSize) != 0)
        {
            return false;
        }

        length = (int)unpadded;
        return true;
    }
}
