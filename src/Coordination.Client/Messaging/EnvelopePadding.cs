using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Messaging;

/// <summary>
/// Pads the inner message <em>before</em> it is encrypted, so that the whole envelope is exactly one
/// of the relay's size buckets and nothing outside the ciphertext tells its real length
/// (ISO/IEC 7816-4 padding, <c>sodium_pad</c>, with the padded length as the block size).
/// </summary>
public static class EnvelopePadding
{
    /// <summary>
    /// The inner message padded so that <paramref name="overhead"/> + its length is the smallest
    /// bucket that fits. Throws when the message is too large for any bucket.
    /// </summary>
    public static byte[] PadInner(ReadOnlySpan<byte> inner, int overhead)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(overhead);
        int bucket = Limits.BucketFor(overhead + inner.Length + 1);
        if (bucket < 0)
        {
            throw new ArgumentException($"The message is too large: {inner.Length} bytes, at most {Limits.MaxEnvelopeBytes - overhead - 1} fit in this envelope.", nameof(inner));
        }

        return Padding.Pad(inner, bucket - overhead);
    }

    /// <summary>The inner message inside a padded plaintext, or false if the padding is wrong.</summary>
    public static bool TryUnpadInner(byte[] padded, out byte[]? inner)
    {
        ArgumentNullException.ThrowIfNull(padded);
        inner = null;
        if (padded.Length == 0 || !Padding.TryUnpad(padded, padded.Length, out int length))
        {
            return false;
        }

        inner = padded[..length];
        return true;
    }
}
