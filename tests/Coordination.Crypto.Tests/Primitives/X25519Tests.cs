namespace Coordination.Crypto.Tests.Primitives;

public class X25519Tests
{
    // RFC 7748, section 6.1.
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string Shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    [Fact]
    public void TryAgree_Rfc7748Vectors_BothSidesGetPublishedSecret()
    {
        using X25519KeyPair alice = X25519KeyPair.FromPrivateKey(Hex.Bytes(AlicePrivate));
        using X25519KeyPair bob = X25519KeyPair.FromPrivateKey(Hex.Bytes(BobPrivate));

        Assert.Equal(AlicePublic, Hex.Of(alice.PublicKey.Bytes));
        Assert.Equal(BobPublic, Hex.Of(bob.PublicKey.Bytes));
        Assert.True(alice.TryAgree(bob.PublicKey, out SecretKey? fromAlice));
        Assert.True(bob.TryAgree(alice.PublicKey, out SecretKey? fromBob));
        using (fromAlice)
        using (fromBob)
        {
            Assert.Equal(Shared, Hex.Of(fromAlice!));
            Assert.True(fromAlice!.ContentEquals(fromBob!));
        }
    }

    [Fact]
    public void TryAgree_LowOrderPoint_IsRefused()
    {
        using X25519KeyPair keys = X25519KeyPair.Generate();

        Assert.False(keys.TryAgree(X25519PublicKey.FromBytes(new byte[32]), out SecretKey? shared));
        Assert.Null(shared);
    }

    [Fact]
    public void FromBytes_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => X25519PublicKey.FromBytes(new byte[33]));
        Assert.Throws<ArgumentException>(() => X25519KeyPair.FromPrivateKey(new byte[16]));
    }

    [Fact]
    public void ExportPrivateKey_ThenImport_GivesSamePublicKey()
    {
        using X25519KeyPair keys = X25519KeyPair.Generate();
        byte[] scalar = new byte[X25519KeyPair.PrivateKeySize];
        keys.ExportPrivateKey(scalar);

        using X25519KeyPair again = X25519KeyPair.FromPrivateKey(scalar);

        Assert.Equal(keys.PublicKey, again.PublicKey);
    }
}
