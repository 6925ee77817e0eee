namespace Coordination.Crypto.Tests.Primitives;

public class AeadTests
{
    private static readonly byte[] s_message = "samizdat issue 12, 400 copies"u8.ToArray();
    private static readonly byte[] s_header = "conv:1|epoch:3"u8.ToArray();

    [Fact]
    public void Encrypt_ThenDecrypt_RoundTrips()
    {
        using SecretKey key = SecretKey.Generate(XChaCha20Poly1305.KeySize);
        byte[] nonce = SecureRandom.Nonce();

        byte[] ciphertext = XChaCha20Poly1305.Encrypt(key, nonce, s_message, s_header);

        Assert.Equal(s_message.Length + XChaCha20Poly1305.TagSize, ciphertext.Length);
        Assert.True(XChaCha20Poly1305.TryDecrypt(key, nonce, ciphertext, s_header, out byte[]? plaintext));
        Assert.Equal(s_message, plaintext);
    }

    [Fact]
    public void TryDecrypt_AnyFlippedByte_Fails()
    {
        using SecretKey key = SecretKey.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] ciphertext = XChaCha20Poly1305.Encrypt(key, nonce, s_message, s_header);

        for (int i = 0; i < ciphertext.Length; i++)
        {
            Assert.False(XChaCha20Poly1305.TryDecrypt(key, nonce, Hex.Flip(ciphertext, i), s_header, out byte[]? plaintext), $"byte {i}");
            Assert.Null(plaintext);
        }

        Assert.False(XChaCha20Poly1305.TryDecrypt(key, Hex.Flip(nonce, 0), ciphertext, s_header, out _));
        Assert.False(XChaCha20Poly1305.TryDecrypt(key, nonce, ciphertext, Hex.Flip(s_header, 0), out _));
        Assert.False(XChaCha20Poly1305.TryDecrypt(key, nonce, ciphertext, default, out _));
        Assert.False(XChaCha20Poly1305.TryDecrypt(key, nonce, ciphertext.AsSpan(0, 15), s_header, out _));
    }

    [Fact]
    public void TryDecrypt_WrongKey_Fails()
    {
        using SecretKey key = SecretKey.Generate();
        using SecretKey other = SecretKey.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] ciphertext = XChaCha20Poly1305.Encrypt(key, nonce, s_message, s_header);

        Assert.False(XChaCha20Poly1305.TryDecrypt(other, nonce, ciphertext, s_header, out _));
    }

    [Fact]
    public void Encrypt_WrongKeyOrNonceLength_ThrowsWithClearMessage()
    {
        using SecretKey shortKey = SecretKey.Generate(16);
        using SecretKey key = SecretKey.Generate();

        ArgumentException keyError = Assert.Throws<ArgumentException>(() => XChaCha20Poly1305.Encrypt(shortKey, SecureRandom.Nonce(), s_message));
        ArgumentException nonceError = Assert.Throws<ArgumentException>(() => XChaCha20Poly1305.Encrypt(key, new byte[12], s_message));

        Assert.Contains("exactly 32 bytes, got 16", keyError.Message, StringComparison.Ordinal);
        Assert.Contains("exactly 24 bytes, got 12", nonceError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encrypt_DestinationOfWrongSize_Throws()
    {
        using SecretKey key = SecretKey.Generate();

        Assert.Throws<ArgumentException>(() => XChaCha20Poly1305.Encrypt(key, SecureRandom.Nonce(), s_message, default, new byte[s_message.Length]));
    }
}

public class SubkeyDerivationTests
{
    [Fact]
    public void DeriveSubkey_SameInputs_SameKey()
    {
        using SecretKey master = SecretKey.Generate();

        using SecretKey a = SubkeyDerivation.DeriveSubkey(master, 7, "grpchain");
        using SecretKey b = SubkeyDerivation.DeriveSubkey(master, 7, "grpchain");

        Assert.True(a.ContentEquals(b));
    }

    [Fact]
    public void DeriveSubkey_OtherIdContextOrMaster_DifferentKey()
    {
        using SecretKey master = SecretKey.Generate();
        using SecretKey otherMaster = SecretKey.Generate();
        using SecretKey baseline = SubkeyDerivation.DeriveSubkey(master, 7, "grpchain");

        using SecretKey otherId = SubkeyDerivation.DeriveSubkey(master, 8, "grpchain");
        using SecretKey otherContext = SubkeyDerivation.DeriveSubkey(master, 7, "grpmsgky");
        using SecretKey fromOtherMaster = SubkeyDerivation.DeriveSubkey(otherMaster, 7, "grpchain");

        Assert.False(baseline.ContentEquals(otherId));
        Assert.False(baseline.ContentEquals(otherContext));
        Assert.False(baseline.ContentEquals(fromOtherMaster));
    }

    [Fact]
    public void DeriveSubkey_UsableAsAeadKey_RoundTrips()
    {
        using SecretKey master = SecretKey.Generate();
        using SecretKey subkey = SubkeyDerivation.DeriveSubkey(master, 1, "message_");
        byte[] nonce = SecureRandom.Nonce();

        byte[] ciphertext = XChaCha20Poly1305.Encrypt(subkey, nonce, "hello"u8);
        using SecretKey again = SubkeyDerivation.DeriveSubkey(master, 1, "message_");

        Assert.True(XChaCha20Poly1305.TryDecrypt(again, nonce, ciphertext, default, out byte[]? plaintext));
        Assert.Equal("hello"u8.ToArray(), plaintext);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("too-long-context")]
    [InlineData("ключ1234")]
    public void DeriveSubkey_BadContext_Throws(string context)
    {
        using SecretKey master = SecretKey.Generate();

        Assert.Throws<ArgumentException>(() => SubkeyDerivation.DeriveSubkey(master, 1, context));
    }

    [Fact]
    public void DeriveSubkey_BadLengths_Throw()
    {
        using SecretKey master = SecretKey.Generate();
        using SecretKey shortMaster = SecretKey.Generate(16);

        Assert.Throws<ArgumentException>(() => SubkeyDerivation.DeriveSubkey(master, 1, "grpchain", 8));
        Assert.Throws<ArgumentException>(() => SubkeyDerivation.DeriveSubkey(master, 1, "grpchain", 65));
        Assert.Throws<ArgumentException>(() => SubkeyDerivation.DeriveSubkey(shortMaster, 1, "grpchain"));
    }
}
