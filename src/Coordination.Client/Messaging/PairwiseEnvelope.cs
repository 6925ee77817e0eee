using System.Buffers.Binary;
using System.Text;
using Coordination.Crypto;

namespace Coordination.Client.Messaging;

/// <summary>A device an envelope is encrypted to.</summary>
public sealed record RecipientKey(Guid DeviceId, X25519PublicKey AgreementKey);

/// <summary>
/// Protocol section 6.2: one envelope for every device of a conversation, the sender's own
/// included. A random content key encrypts the padded, signed inner message once; an ephemeral
/// X25519 key wraps the content key for each recipient device with XChaCha20-Poly1305. Hints are
/// derived from each recipient's shared secret, so the relay cannot tell which slot is whose.
/// </summary>
public static class PairwiseEnvelope
{
    public const byte Version = 0x01;
    public const byte Type = 0x01;
    private const int SlotBytes = 8 + 32 + XChaCha20Poly1305.TagSize;
    private static readonly byte[] s_hintLabel = Encoding.ASCII.GetBytes("coordination/v1/hint");

    /// <summary>The envelope for <paramref name="recipients"/>, exactly one bucket long.</summary>
    public static byte[] Seal(Guid conversationId, Guid messageId, ReadOnlySpan<byte> inner, IReadOnlyList<RecipientKey> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count is 0 or > ushort.MaxValue)
        {
            throw new ArgumentException("A pairwise envelope needs 1 to 65535 recipient devices.", nameof(recipients));
        }

        using X25519KeyPair ephemeral = X25519KeyPair.Generate();
        using SecretKey contentKey = SecretKey.Generate(XChaCha20Poly1305.KeySize);
        byte[] ad = Ad(conversationId, messageId);
        byte[] contentKeyBytes = new byte[32];
        List<byte[]> slots = new(recipients.Count);
        try
        {
            contentKey.Export(contentKeyBytes);
            foreach (RecipientKey recipient in recipients)
            {
                if (!ephemeral.TryAgree(recipient.AgreementKey, out SecretKey? shared))
                {
                    throw new ArgumentException($"Device {recipient.DeviceId} has an unusable agreement key.", nameof(recipients));
                }

                using (shared)
                {
                    using SecretKey wrapKey = DeriveWrapKey(shared!, ephemeral.PublicKey, recipient.AgreementKey);
                    byte[] wrapped = XChaCha20Poly1305.Encrypt(wrapKey, new byte[XChaCha20Poly1305.NonceSize], contentKeyBytes, ad);
                    slots.Add([.. Hint(shared!, ephemeral.PublicKey, recipient.AgreementKey), .. wrapped]);
                }
            }
        }
        finally
        {
            Array.Clear(contentKeyBytes);
        }

        byte[] nonce = SecureRandom.Nonce();
        byte[] header = [Version, Type, .. ephemeral.PublicKey.Bytes];
        int overhead = header.Length + 2 + (recipients.Count * SlotBytes) + XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize;
        byte[] padded = EnvelopePadding.PadInner(inner, overhead);
        byte[] body = XChaCha20Poly1305.Encrypt(contentKey, nonce, padded, BodyAd(conversationId, messageId, ephemeral.PublicKey));
        Array.Clear(padded);
        byte[] count = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(count, (ushort)recipients.Count);
        return [.. header, .. count, .. slots.SelectMany(s => s), .. nonce, .. body];
    }

    /// <summary>
    /// Opens an envelope plaintext with this device's agreement key. False when it is not a
    /// pairwise envelope, not addressed to this device, or altered in any way.
    /// </summary>
    public static bool TryOpen(ReadOnlySpan<byte> plaintext, Guid conversationId, Guid messageId, X25519KeyPair device, out byte[]? inner)
    {
        ArgumentNullException.ThrowIfNull(device);
        inner = null;
        if (plaintext.Length < 2 + 32 + 2 || plaintext[0] != Version || plaintext[1] != Type)
        {
            return false;
        }

        X25519PublicKey ephemeral = X25519PublicKey.FromBytes(plaintext.Slice(2, 32));
        int count = BinaryPrimitives.ReadUInt16BigEndian(plaintext[34..]);
        int slotsEnd = 36 + (count * SlotBytes);
        if (count == 0 || plaintext.Length < slotsEnd + XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            return false;
        }

        if (!device.TryAgree(ephemeral, out SecretKey? shared))
        {
            return false;
        }

        byte[] ad = Ad(conversationId, messageId);
        byte[] myHint = Hint(shared!, ephemeral, device.PublicKey);
        using SecretKey wrapKey = DeriveWrapKey(shared!, ephemeral, device.PublicKey);
        byte[]? contentKeyBytes = null;
        try
        {
            // The matching hint first; every slot after, so a hint collision cannot hide a message.
            List<int> order = new(count);
            for (int i = 0; i < count; i++)
            {
                if (plaintext.Slice(36 + (i * SlotBytes), 8).SequenceEqual(myHint))
                {
                    order.Insert(0, i);
                }
                else
                {
                    order.Add(i);
                }
            }

            foreach (int i in order)
            {
                ReadOnlySpan<byte> wrapped = plaintext.Slice(36 + (i * SlotBytes) + 8, SlotBytes - 8);
                if (XChaCha20Poly1305.TryDecrypt(wrapKey, new byte[XChaCha20Poly1305.NonceSize], wrapped, ad, out contentKeyBytes))
                {
                    break;
                }
            }

            if (contentKeyBytes is null)
            {
                return false;
            }

            using SecretKey contentKey = SecretKey.Import(contentKeyBytes);
            ReadOnlySpan<byte> nonce = plaintext.Slice(slotsEnd, XChaCha20Poly1305.NonceSize);
            if (!XChaCha20Poly1305.TryDecrypt(contentKey, nonce, plaintext[(slotsEnd + XChaCha20Poly1305.NonceSize)..], BodyAd(conversationId, messageId, ephemeral), out byte[]? padded))
            {
                return false;
            }

            return EnvelopePadding.TryUnpadInner(padded!, out inner);
        }
        finally
        {
            shared!.Dispose();
            if (contentKeyBytes is not null)
            {
                Array.Clear(contentKeyBytes);
            }
        }
    }

    /// <summary><c>wrap_key = BLAKE2b-256(shared || eph_pk || recipient_pk)</c>.</summary>
    private static SecretKey DeriveWrapKey(SecretKey shared, X25519PublicKey ephemeral, X25519PublicKey recipient)
    {
        byte[] input = new byte[32 + 32 + 32];
        try
        {
            shared.Export(input.AsSpan(0, 32));
            ephemeral.Bytes.CopyTo(input.AsSpan(32));
            recipient.Bytes.CopyTo(input.AsSpan(64));
            byte[] key = Blake2b.Hash(input, 32);
            try
            {
                return SecretKey.Import(key);
            }
            finally
            {
                Array.Clear(key);
            }
        }
        finally
        {
            Array.Clear(input);
        }
    }

    /// <summary><c>hint = first 8 bytes of BLAKE2b-256("coordination/v1/hint" || shared || eph_pk || recipient_pk)</c>.</summary>
    private static byte[] Hint(SecretKey shared, X25519PublicKey ephemeral, X25519PublicKey recipient)
    {
        byte[] input = new byte[s_hintLabel.Length + 32 + 32 + 32];
        try
        {
            s_hintLabel.CopyTo(input, 0);
            shared.Export(input.AsSpan(s_hintLabel.Length, 32));
            ephemeral.Bytes.CopyTo(input.AsSpan(s_hintLabel.Length + 32));
            recipient.Bytes.CopyTo(input.AsSpan(s_hintLabel.Length + 64));
            return Blake2b.Hash(input, 32)[..8];
        }
        finally
        {
            Array.Clear(input);
        }
    }

    private static byte[] Ad(Guid conversationId, Guid messageId)
    {
        byte[] ad = new byte[32];
        Wire.WriteUuid(ad, conversationId);
        Wire.WriteUuid(ad.AsSpan(16), messageId);
        return ad;
    }

    private static byte[] BodyAd(Guid conversationId, Guid messageId, X25519PublicKey ephemeral) =>
        [Version, Type, .. Ad(conversationId, messageId), .. ephemeral.Bytes];
}
