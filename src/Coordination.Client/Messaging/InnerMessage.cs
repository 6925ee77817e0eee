using System.Buffers.Binary;
using System.Text;
using Coordination.Client.Identity;
using Coordination.Crypto;

namespace Coordination.Client.Messaging;

/// <summary>What a message body is.</summary>
public enum ContentType : byte
{
    Text = 1,
    SenderKeyDistribution = 2,
    Json = 3,
}

/// <summary>
/// The signed message inside every envelope (protocol section 6.1): who sent it, when, and the
/// body, with the sender device's Ed25519 signature bound to the conversation and message id.
/// </summary>
public sealed record InnerMessage(Guid SenderAccountId, Guid SenderDeviceId, long SentAt, ContentType ContentType, byte[] Body, byte[] Signature)
{
    public const string SignatureLabel = "coordination/v1/message";

    /// <summary>Largest body accepted when decoding (the largest envelope bucket bounds it anyway).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>Creates and signs a message from <paramref name="sender"/>.</summary>
    public static InnerMessage Create(DeviceIdentity sender, Guid conversationId, Guid messageId, ContentType contentType, byte[] body, long sentAt)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(body);
        byte[] statement = Statement(conversationId, messageId, sender.AccountId, sender.DeviceId, sentAt, contentType, body);
        return new InnerMessage(sender.AccountId, sender.DeviceId, sentAt, contentType, body, sender.SigningKey.Sign(statement));
    }

    /// <summary>True when the signature verifies with <paramref name="senderSigningKey"/> for this conversation and message id.</summary>
    public bool Verify(Ed25519PublicKey senderSigningKey, Guid conversationId, Guid messageId)
    {
        ArgumentNullException.ThrowIfNull(senderSigningKey);
        return senderSigningKey.Verify(Statement(conversationId, messageId, SenderAccountId, SenderDeviceId, SentAt, ContentType, Body), Signature);
    }

    public byte[] Encode()
    {
        byte[] output = new byte[16 + 16 + 8 + 1 + 4 + Body.Length + Ed25519KeyPair.SignatureSize];
        Span<byte> span = output;
        Wire.WriteUuid(span, SenderAccountId);
        Wire.WriteUuid(span[16..], SenderDeviceId);
        BinaryPrimitives.WriteInt64BigEndian(span[32..], SentAt);
        span[40] = (byte)ContentType;
        BinaryPrimitives.WriteUInt32BigEndian(span[41..], (uint)Body.Length);
        Body.CopyTo(span[45..]);
        Signature.CopyTo(span[(45 + Body.Length)..]);
        return output;
    }

    public static bool TryDecode(ReadOnlySpan<byte> data, out InnerMessage? message)
    {
        message = null;
        if (data.Length < 45 + Ed25519KeyPair.SignatureSize)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(data[41..]);
        if (length > MaxBodyBytes || data.Length != 45 + (int)length + Ed25519KeyPair.SignatureSize)
        {
            return false;
        }

        byte type = data[40];
        if (type is < 1 or > 3)
        {
            return false;
        }

        message = new InnerMessage(
            Wire.ReadUuid(data),
            Wire.ReadUuid(data[16..]),
            BinaryPrimitives.ReadInt64BigEndian(data[32..]),
            (ContentType)type,
            data.Slice(45, (int)length).ToArray(),
            data.Slice(45 + (int)length, Ed25519KeyPair.SignatureSize).ToArray());
        return true;
    }

    internal static byte[] Statement(Guid conversationId, Guid messageId, Guid senderAccountId, Guid senderDeviceId, long sentAt, ContentType contentType, byte[] body)
    {
        byte[] label = Encoding.ASCII.GetBytes(SignatureLabel);
        byte[] statement = new byte[label.Length + 1 + (16 * 4) + 8 + 1 + 32];
        Span<byte> span = statement;
        label.CopyTo(span);
        int offset = label.Length + 1;
        Wire.WriteUuid(span[offset..], conversationId);
        Wire.WriteUuid(span[(offset + 16)..], messageId);
        Wire.WriteUuid(span[(offset + 32)..], senderAccountId);
        Wire.WriteUuid(span[(offset + 48)..], senderDeviceId);
        BinaryPrimitives.WriteInt64BigEndian(span[(offset + 64)..], sentAt);
        span[offset + 72] = (byte)contentType;
        Blake2b.Hash(body, span[(offset + 73)..]);
        return statement;
    }
}

/// <summary>Byte-level helpers shared by the message formats.</summary>
internal static class Wire
{
    public static void WriteUuid(Span<byte> destination, Guid value) => _ = value.TryWriteBytes(destination[..16], bigEndian: true, out _);

    public static Guid ReadUuid(ReadOnlySpan<byte> source) => new(source[..16], bigEndian: true);
}
