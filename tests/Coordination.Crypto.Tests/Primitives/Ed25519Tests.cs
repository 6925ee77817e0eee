namespace Coordination.Crypto.Tests.Primitives;

public class Ed25519Tests
{
    // RFC 8032, section 7.1, TEST 1 (empty message).
    private const string Rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    private const string Rfc8032Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    private const string Rfc8032Signature = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    [Fact]
    public void FromSeed_Rfc8032Test1_GivesPublishedKeyAndSignature()
    {
        using Ed25519KeyPair keys = Ed25519KeyPair.FromSeed(Hex.Bytes(Rfc8032Seed));

        Assert.Equal(Rfc8032Public, Hex.Of(keys.PublicKey.Bytes));
        Assert.Equal(Rfc8032Signature, Hex.Of(keys.Sign([])));
        Assert.True(keys.PublicKey.Verify([], Hex.Bytes(Rfc8032Signature)));
    }

    [Fact]
    public void Sign_ThenVerify_RoundTrips()
    {
        using Ed25519KeyPair keys = Ed25519KeyPair.Generate();
        byte[] message = "membership entry 7"u8.ToArray();

        byte[] signature = keys.Sign(message);

        Assert.Equal(Ed25519KeyPair.SignatureSize, signature.Length);
        Assert.True(keys.PublicKey.Verify(message, signature));
    }

    [Fact]
    public void Verify_TamperedMessageOrSignature_IsFalse()
    {
        using Ed25519KeyPair keys = Ed25519KeyPair.Generate();
        byte[] message = "challenge"u8.ToArray();
        byte[] signature = keys.Sign(message);

        Assert.False(keys.PublicKey.Verify(Hex.Flip(message, 0), signature));
        for (int i = 0; i < signature.Length; i += 7)
        {
            Assert.False(keys.PublicKey.Verify(message, Hex.Flip(signature, i)), $"byte {i}");
        }
    }

    [Fact]
    public void Verify_OtherKey_IsFalse()
    {
        using Ed25519KeyPair signer = Ed25519KeyPair.Generate();
        using Ed25519KeyPair other = Ed25519KeyPair.Generate();
        byte[] signature = signer.Sign("x"u8);

        Assert.False(other.PublicKey.Verify("x"u8, signature));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    [InlineData(65)]
    public void Verify_SignatureOfWrongLength_IsFalse(int length)
    {
        using Ed25519KeyPair keys = Ed25519KeyPair.Generate();

        Assert.False(keys.PublicKey.Verify("x"u8, new byte[length]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void FromBytes_WrongLength_ThrowsWithClearMessage(int length)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => Ed25519PublicKey.FromBytes(new byte[length]));

        Assert.Contains("exactly 32 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSeed_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => Ed25519KeyPair.FromSeed(new byte[31]));
    }

    [Fact]
    public void ExportSeed_ThenFromSeed_GivesSameKey()
    {
        using Ed25519KeyPair keys = Ed25519KeyPair.Generate();
        byte[] seed = new byte[Ed25519KeyPair.SeedSize];
        keys.ExportSeed(seed);

        using Ed25519KeyPair again = Ed25519KeyPair.FromSeed(seed);

        Assert.Equal(keys.PublicKey, again.PublicKey);
    }
}
