using System.Buffers.Binary;
using Coordination.Crypto;

namespace Coordination.Client.Messaging;

/// <summary>
/// Protocol section 6.3: a group message encrypted with the sender's current chain step; the
/// inner message is padded inside the ciphertext so the envelope is exactly one bucket long.
/// </summary>
public static class GroupEnvelope
{
    public const byte Version = 0x01;
    public const byte Type = 0x02;
    private const int HeaderBytes = 2 + 4 + SenderChain.HintBytes;

    public static byte[] Seal(Guid conversationId, Guid messageId, uint epoch, ReadOnlySpan<byte> inner, SenderChain chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        (SecretKey messageKey, byte[] hint, _) = chain.Next();
        using (messageKey)
        {
            byte[] header = Header(epoch, hint);
            byte[] nonce = SecureRandom.Nonce();
            byte[] padded = EnvelopePadding.PadInner(inner, HeaderBytes + XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize);
            byte[] body = XChaCha20Poly1305.Encrypt(messageKey, nonce, padded, Ad(header, conversationId, messageId));
            Array.Clear(padded);
            return [.. header, .. nonce, .. body];
        }
    }

    /// <summary>The epoch a group envelope declares, or false if it is not a group envelope.</summary>
    public static bool TryReadEpoch(ReadOnlySpan<byte> plaintext, out uint epoch)
    {
        epoch = 0;
        if (plaintext.Length < HeaderBytes || plaintext[0] != Version || plaintext[1] != Type)
        {
            return false;
        }

        epoch = BinaryPrimitives.ReadUInt32BigEndian(plaintext[2..]);
        return true;
    }

    public static bool TryOpen(ReadOnlySpan<byte> plaintext, Guid conversationId, Guid messageId, ReceivingChains chains, out byte[]? inner, out Guid senderDeviceId)
    {
        ArgumentNullException.ThrowIfNull(chains);
        inner = null;
        senderDeviceId = Guid.Empty;
        if (!TryReadEpoch(plaintext, out _) || plaintext.Length < HeaderBytes + XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            return false;
        }

        ReadOnlySpan<byte> header = plaintext[..HeaderBytes];
        using SecretKey? messageKey = chains.TakeKey(header[6..], out senderDeviceId);
        if (messageKey is null)
        {
            return false;
        }

        if (!XChaCha20Poly1305.TryDecrypt(
            messageKey,
            plaintext.Slice(HeaderBytes, XChaCha20Poly1305.NonceSize),
            plaintext[(HeaderBytes + XChaCha20Poly1305.NonceSize)..],
            Ad(header.ToArray(), conversationId, messageId),
            out byte[]? padded))
        {
            return false;
        }

        return EnvelopePadding.TryUnpadInner(padded!, out inner);
    }

    private static byte[] Header(uint epoch, byte[] hint)
    {
        byte[] header = new byte[HeaderBytes];
        header[0] = Version;
        header[1] = Type;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(2), epoch);
        hint.CopyTo(header.AsSpan(6));
        return header;
    }

    /// <summary><c>0x01 || 0x02 || conversation || message_id || epoch || hint</c>.</summary>
    private static byte[] Ad(byte[] header, Guid conversationId, Guid messageId)
    {
        byte[] ad = new byte[2 + 32 + 4 + SenderChain.HintBytes];
        ad[0] = Version;
        ad[1] = Type;
        Wire.WriteUuid(ad.AsSpan(2), conversationId);
        Wire.WriteUuid(ad.AsSpan(18), messageId);
        header.AsSpan(2, 4 + SenderChain.HintBytes).CopyTo(ad.AsSpan(34));
        return ad;
    }
}
