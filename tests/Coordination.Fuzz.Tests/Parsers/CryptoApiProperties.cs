using System.Security.Cryptography;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// Keys, signatures, nonces and ciphertexts of any length and content through the crypto API, as
/// they arrive from the network: a wrong length is an <see cref="ArgumentException"/>, a key the
/// primitive refuses (low order) a <see cref="CryptographicException"/>, a forgery or garbage a
/// plain false; nothing else, and nothing reaches libsodium with a buffer of the wrong size.
/// </summary>
public sealed class CryptoApiProperties : IDisposable
{
    /// <summary>Curve25519 points of small order (all-zero, one, the order-8 points and non-canonical encodings), as libsodium's blocklist has them.</summary>
    private static readonly byte[][] s_lowOrder =
    [
        new byte[32],
        [1, .. new byte[31]],
        Convert.FromHexString("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        Convert.FromHexString("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        Convert.FromHexString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Convert.FromHexString("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000080"),
        Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000080"),
        Convert.FromHexString("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    ];

    private readonly Ed25519KeyPair _signer = Ed25519KeyPair.Generate();
    private readonly X25519KeyPair _agreement = X25519KeyPair.Generate();

    private static Gen<Bytes> KeyLike { get; } = Gen.Frequency(
        (5, Gens.Bytes(0, 100)),
        (3, Gens.ExactBytes(32).Select(b => new Bytes(b, "32 random bytes"))),
        (2, Gen.Elements(s_lowOrder).Select(b => new Bytes(b, "low-order point"))));

    [Fact]
    public void Ed25519_PublicKeysAndSignaturesOfAnyLength_FalseOrArgumentException()
    {
        Gen<(Bytes Key, Bytes Message, Bytes Signature)> cases =
            from key in KeyLike
            from message in Gens.Bytes(0, 300)
            from signature in Gen.Frequency((3, Gens.ExactBytes(64).Select(b => new Bytes(b, "64 random bytes"))), (2, Gens.Bytes(0, 130)))
            select (key, message, signature);
        Fuzzer.Check(3000, Fuzzer.Cases(cases), c =>
        {
            Ed25519PublicKey key;
            try
            {
                key = Ed25519PublicKey.FromBytes(c.Key.Value);
            }
            catch (ArgumentException)
            {
                Assert.NotEqual(Ed25519PublicKey.Size, c.Key.Length);
                return;
            }

            Assert.False(key.Verify(c.Message.Value, c.Signature.Value));
        });
    }

    [Fact]
    public void Ed25519_ChangedMessageOrSignature_DoesNotVerify()
    {
        byte[] message = "coordination/v1/login\0https://relay.example\0"u8.ToArray();
        byte[] signature = _signer.Sign(message);
        Assert.True(_signer.PublicKey.Verify(message, signature));
        Gen<(byte[] Message, byte[] Signature)> cases = Gen.OneOf(
            Gens.Mutations(message).Select(m => (m.Value, signature)),
            Gens.Mutations(signature).Select(m => (message, m.Value)),
            // S + L (the group order): the same signature, not canonical; libsodium refuses it.
            Gen.Constant((message, NonCanonical(signature))));
        Fuzzer.Check(2000, Fuzzer.Cases(cases), c => Assert.False(_signer.PublicKey.Verify(c.Message, c.Signature)));
    }

    [Fact]
    public void Ed25519_SeedsOfAnyLength_KeyPairOrArgumentException()
    {
        Fuzzer.Check(500, Fuzzer.Cases(Gens.Bytes(0, 80)), seed =>
        {
            try
            {
                using Ed25519KeyPair pair = Ed25519KeyPair.FromSeed(seed.Value);
                Assert.Equal(Ed25519KeyPair.SeedSize, seed.Length);
                Assert.True(pair.PublicKey.Verify([1, 2, 3], pair.Sign([1, 2, 3])));
            }
            catch (ArgumentException)
            {
                Assert.NotEqual(Ed25519KeyPair.SeedSize, seed.Length);
            }
        });
    }

    [Fact]
    public void X25519_KeysOfAnyLengthAndContent_AgreeRefuseOrArgumentException()
    {
        Fuzzer.Check(2000, Fuzzer.Cases(KeyLike), bytes =>
        {
            X25519PublicKey peer;
            try
            {
                peer = X25519PublicKey.FromBytes(bytes.Value);
            }
            catch (ArgumentException)
            {
                Assert.NotEqual(X25519PublicKey.Size, bytes.Length);
                return;
            }

            if (_agreement.TryAgree(peer, out SecretKey? shared))
            {
                using (shared)
                {
                    Assert.Equal(32, shared!.Length);
                }
            }
            else
            {
                Assert.Null(shared);
            }

            AcceptsOrRefuses(() => KeyExchange.ClientSessionKeys(_agreement, peer).Dispose());
            AcceptsOrRefuses(() => KeyExchange.ServerSessionKeys(_agreement, peer).Dispose());
            AcceptsOrRefuses(() => SealedBox.Seal([1, 2, 3], peer));
            AcceptsOrRefuses(() => Box.Encrypt([1, 2, 3], new byte[Box.NonceSize], peer, _agreement));
            Assert.False(Box.TryDecrypt(new byte[40], new byte[Box.NonceSize], peer, _agreement, out _));
        });
    }

    [Fact]
    public void X25519_PrivateKeysOfAnyLengthAndContent_KeyPairOrException()
    {
        Fuzzer.Check(1000, Fuzzer.Cases(KeyLike), bytes =>
        {
            try
            {
                using X25519KeyPair pair = X25519KeyPair.FromPrivateKey(bytes.Value);
                Assert.Equal(X25519KeyPair.PrivateKeySize, bytes.Length);
            }
            catch (ArgumentException)
            {
                Assert.NotEqual(X25519KeyPair.PrivateKeySize, bytes.Length);
            }
            catch (CryptographicException)
            {
                Assert.Equal(X25519KeyPair.PrivateKeySize, bytes.Length);
            }
        });
    }

    [Fact]
    public void SealedBoxAndBox_ArbitraryOrMutatedCiphertext_False()
    {
        using X25519KeyPair sender = X25519KeyPair.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] sealedBox = SealedBox.Seal("sealed"u8, _agreement.PublicKey);
        byte[] box = Box.Encrypt("boxed"u8, nonce, _agreement.PublicKey, sender);
        Gen<(byte[] Ciphertext, Bytes Nonce)> cases =
            from ciphertext in Gen.OneOf(Gens.Bytes(0, 200).Select(b => b.Value), Gens.Mutations(sealedBox).Select(m => m.Value), Gens.Mutations(box).Select(m => m.Value))
            from boxNonce in Gen.Frequency((4, Gen.Constant(new Bytes(nonce, "the nonce"))), (1, Gens.Bytes(0, 40)))
            select (ciphertext, boxNonce);
        Fuzzer.Check(2000, Fuzzer.Cases(cases), c =>
        {
            Assert.False(SealedBox.TryOpen(c.Ciphertext, _agreement, out byte[]? opened));
            Assert.Null(opened);
            try
            {
                Assert.False(Box.TryDecrypt(c.Ciphertext, c.Nonce.Value, sender.PublicKey, _agreement, out byte[]? plaintext));
                Assert.Null(plaintext);
            }
            catch (ArgumentException)
            {
                Assert.NotEqual(Box.NonceSize, c.Nonce.Length);
            }
        });
    }

    [Fact]
    public void XChaCha20Poly1305_KeysNoncesAndCiphertextsOfAnyLength_FalseOrArgumentException()
    {
        using SecretKey key = SecretKey.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] ad = "ad"u8.ToArray();
        byte[] ciphertext = XChaCha20Poly1305.Encrypt(key, nonce, "plaintext"u8, ad);
        Gen<(Bytes Key, Bytes Nonce, byte[] Ciphertext)> cases =
            from keyBytes in Gen.Frequency((1, Gens.Bytes(0, 80)), (3, Gens.ExactBytes(32).Select(b => new Bytes(b, "32 random bytes"))))
            from nonceBytes in Gen.Frequency((1, Gens.Bytes(0, 40)), (3, Gen.Constant(new Bytes(nonce, "the nonce"))))
            from bytes in Gen.OneOf(Gens.Bytes(0, 100).Select(b => b.Value), Gens.Mutations(ciphertext).Select(m => m.Value))
            select (keyBytes, nonceBytes, bytes);
        Fuzzer.Check(2000, Fuzzer.Cases(cases), c =>
        {
            SecretKey secret;
            try
            {
                secret = SecretKey.Import(c.Key.Value);
            }
            catch (ArgumentException)
            {
                Assert.True(c.Key.Length is 0 or > SecretKey.MaxLength);
                return;
            }

            using (secret)
            {
                try
                {
                    Assert.False(XChaCha20Poly1305.TryDecrypt(secret, c.Nonce.Value, c.Ciphertext, ad, out byte[]? plaintext));
                    Assert.Null(plaintext);
                }
                catch (ArgumentException)
                {
                    Assert.True(c.Key.Length != XChaCha20Poly1305.KeySize || c.Nonce.Length != XChaCha20Poly1305.NonceSize);
                }
            }
        });
    }

    [Fact]
    public void HashAndPadding_AnySizes_ResultOrArgumentException()
    {
        Gen<(Bytes Data, int Size)> cases = Gen.Zip(Gens.Bytes(0, 3000), Gen.Frequency((3, Gen.Choose(-2, 300)), (1, Gen.Elements(int.MinValue, int.MaxValue, 1024, 4096))));
        Fuzzer.Check(2000, Fuzzer.Cases(cases), c =>
        {
            try
            {
                Assert.Equal(c.Size, Blake2b.Hash(c.Data.Value, c.Size).Length);
            }
            catch (ArgumentException)
            {
                Assert.True(c.Size is < Blake2b.MinHashSize or > Blake2b.MaxHashSize);
            }

            try
            {
                if (Padding.TryUnpad(c.Data.Value, c.Size, out int length))
                {
                    Assert.InRange(length, 0, c.Data.Length - 1);
                    Assert.Equal(0x80, c.Data.Value[length]);
                }
            }
            catch (ArgumentException)
            {
                Assert.True(c.Size <= 0);
            }
        });
    }

    public void Dispose()
    {
        _signer.Dispose();
        _agreement.Dispose();
    }

    private static void AcceptsOrRefuses(Action action)
    {
        try
        {
            action();
        }
        catch (CryptographicException)
        {
            // A low-order key, refused by the primitive.
        }
    }

    /// <summary>The signature with S + L, the group order added: the same point equation, a non-canonical encoding.</summary>
    private static byte[] NonCanonical(byte[] signature)
    {
        byte[] order = Convert.FromHexString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        byte[] result = (byte[])signature.Clone();
        int carry = 0;
        for (int i = 0; i < 32; i++)
        {
            int sum = result[32 + i] + order[i] + carry;
            result[32 + i] = (byte)sum;
            carry = sum >> 8;
        }

        return result;
    }
}
