using System.Buffers.Binary;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Benchmarks;

/// <summary>What the load sends: 512-byte payloads, encrypted and padded for the relay exactly as a client would.</summary>
internal static class Payloads
{
    /// <summary>The application payload size in every scenario.</summary>
    public const int PlaintextBytes = 512;

    private static readonly byte[] _salt = SecureRandom.Bytes(8);

    /// <summary>
    /// The relay bucket a 512-byte payload lands in: nonce (24) + payload + tag (16) + at least one
    /// padding byte is 553 bytes, so it is padded to the 1024-byte bucket.
    /// </summary>
    public static int RelayCiphertextBytes { get; } = Limits.BucketFor(XChaCha20Poly1305.NonceSize + PlaintextBytes + XChaCha20Poly1305.TagSize + 1);

    /// <summary>A message id that carries the driver's sequence number (first 8 bytes) and a per-run salt.</summary>
    public static Guid MessageIdFor(long id)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, id);
        _salt.CopyTo(bytes[8..]);
        return new Guid(bytes);
    }

    public static long IdOf(Guid messageId)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = messageId.TryWriteBytes(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    /// <summary>
    /// Real envelopes: a random 512-byte payload sealed with XChaCha20-Poly1305 under a fresh key and
    /// padded (ISO/IEC 7816-4) to the bucket. A pool is built once so the load spends its CPU on the wire.
    /// </summary>
    public static byte[][] RelayCiphertexts(int count)
    {
        byte[][] pool = new byte[count][];
        using SecretKey key = SecretKey.Generate();
        for (int i = 0; i < count; i++)
        {
            byte[] nonce = SecureRandom.Nonce();
            byte[] sealedPayload = [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, SecureRandom.Bytes(PlaintextBytes))];
            pool[i] = Padding.Pad(sealedPayload, RelayCiphertextBytes)[..RelayCiphertextBytes];
        }

        return pool;
    }

    /// <summary>
    /// Group envelopes for a cell at <paramref name="epoch"/>, laid out as the SDK's group messages
    /// (protocol section 6.3): <c>0x01 || 0x02 || epoch (u32) || hint (8) || nonce (24) || AEAD(pad(payload))</c>,
    /// the payload padded before encryption so that the whole envelope fills the bucket. The relay
    /// reads the first six bytes of every envelope sent to a cell (version, type, current epoch) and
    /// nothing else. A pool is built once, as for <see cref="RelayCiphertexts"/>.
    /// </summary>
    public static byte[][] GroupCiphertexts(int count, uint epoch)
    {
        const int HeaderBytes = 2 + 4 + 8;
        int overhead = HeaderBytes + XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize;
        byte[][] pool = new byte[count][];
        using SecretKey key = SecretKey.Generate();
        for (int i = 0; i < count; i++)
        {
            byte[] header = new byte[HeaderBytes];
            header[0] = 0x01;
            header[1] = 0x02;
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(2, 4), epoch);
            SecureRandom.Bytes(8).CopyTo(header, 6);
            byte[] nonce = SecureRandom.Nonce();
            byte[] padded = Padding.Pad(SecureRandom.Bytes(PlaintextBytes), RelayCiphertextBytes - overhead);
            pool[i] = [.. header, .. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, padded, header)];
        }

        return pool;
    }

    public static SendEnvelope Envelope(Guid conversationId, long id, byte[][] pool) =>
        new(conversationId, MessageIdFor(id), pool[(int)(id % pool.Length)], TtlSeconds: 3600);

    /// <summary>The baseline's 512-byte payload: random bytes whose first 8 are the sequence number.</summary>
    public static byte[] BaselinePayload(long id, byte[] template)
    {
        byte[] payload = (byte[])template.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(payload, id);
        return payload;
    }

    public static long IdOfBaselinePayload(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload);
}
