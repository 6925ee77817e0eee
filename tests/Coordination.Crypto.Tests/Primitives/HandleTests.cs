namespace Coordination.Crypto.Tests.Primitives;

public class HandleTests
{
    [Fact]
    public void SecretKey_UseAfterDispose_ThrowsObjectDisposed()
    {
        SecretKey key = SecretKey.Generate();
        key.Dispose();

        Assert.True(key.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => XChaCha20Poly1305.Encrypt(key, SecureRandom.Nonce(), "x"u8));
        Assert.Throws<ObjectDisposedException>(() => key.Export(new byte[32]));
        Assert.Throws<ObjectDisposedException>(() => Blake2b.KeyedHash(key, "x"u8));
        Assert.Throws<ObjectDisposedException>(() => SubkeyDerivation.DeriveSubkey(key, 1, "grpchain"));
    }

    [Fact]
    public void SecretKey_DoubleDispose_IsHarmless()
    {
        SecretKey key = SecretKey.Generate();
        key.Dispose();
        key.Dispose();

        Assert.True(key.IsDisposed);
    }

    [Fact]
    public void Ed25519KeyPair_UseAfterDispose_ThrowsObjectDisposed()
    {
        Ed25519KeyPair keys = Ed25519KeyPair.Generate();
        Ed25519PublicKey publicKey = keys.PublicKey;
        keys.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keys.Sign("x"u8));
        Assert.Throws<ObjectDisposedException>(() => keys.ExportSeed(new byte[32]));
        Assert.False(publicKey.Verify("x"u8, new byte[64]));
    }

    [Fact]
    public void X25519KeyPair_UseAfterDispose_ThrowsObjectDisposed()
    {
        X25519KeyPair keys = X25519KeyPair.Generate();
        using X25519KeyPair peer = X25519KeyPair.Generate();
        keys.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keys.TryAgree(peer.PublicKey, out _));
        Assert.Throws<ObjectDisposedException>(() => SealedBox.TryOpen(new byte[64], keys, out _));
        Assert.Throws<ObjectDisposedException>(() => Box.Encrypt("x"u8, SecureRandom.Nonce(), peer.PublicKey, keys));
    }

    [Fact]
    public void SessionKeys_Dispose_DisposesBoth()
    {
        using X25519KeyPair client = X25519KeyPair.Generate();
        using X25519KeyPair server = X25519KeyPair.Generate();
        SessionKeys keys = KeyExchange.ClientSessionKeys(client, server.PublicKey);

        keys.Dispose();

        Assert.True(keys.Receive.IsDisposed);
        Assert.True(keys.Transmit.IsDisposed);
    }

    [Fact]
    public void SecretKey_ImportExport_RoundTripsAndBoundsLength()
    {
        byte[] material = SecureRandom.Bytes(32);
        using SecretKey key = SecretKey.Import(material);
        byte[] exported = new byte[32];

        key.Export(exported);

        Assert.Equal(material, exported);
        Assert.Throws<ArgumentException>(() => key.Export(new byte[31]));
        Assert.Throws<ArgumentException>(() => SecretKey.Import([]));
        Assert.Throws<ArgumentException>(() => SecretKey.Generate(65));
    }

    [Fact]
    public void SecretKey_ManyKeys_AllocateAndFree()
    {
        // sodium_malloc puts guard pages around each key; make sure thousands fit and free cleanly.
        List<SecretKey> keys = [];
        try
        {
            for (int i = 0; i < 2000; i++)
            {
                keys.Add(SecretKey.Generate());
            }

            Assert.Equal(2000, keys.Count(k => k.Length == 32));
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }

        Assert.All(keys, k => Assert.True(k.IsDisposed));
    }
}
