using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Messaging;

/// <summary>Pads envelope plaintexts to the relay's size buckets (ISO/IEC 7816-4, <c>sodium_pad</c>).</summary>
public static class EnvelopePadding
{
    /// <summary>The padded envelope: exactly one bucket long. Throws when the message is too large for any bucket.</summary>
    public static byte[] Pad(ReadOnlySpan<byte> plaintext)
    {
        int bucket = Limits.BucketFor(plaintext.Length + 1);
        if (bucket < 0)
        {
            throw new ArgumentException($"The message is too large: {plaintext.Length} bytes, at most {Limits.MaxEnvelopeBytes - 1} fit in an envelope.", nameof(plaintext));
        }

        return Padding.Pad(plaintext, bucket);
    }

    /// <summary>The plaintext inside a padded envelope, or false if the padding is wrong.</summary>
    public static bool TryUnpad(byte[] envelope, out ReadOnlyMemory<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        plaintext = default;
        if (!Limits.IsEnvelopeBucket(envelope.Length) || !Padding.TryUnpad(envelope, envelope.Length, out int length))
        {
            return false;
        }

        plaintext = envelope.AsMemory(0, length);
        return true;
    }
}
