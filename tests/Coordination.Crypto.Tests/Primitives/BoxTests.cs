namespace Coordination.Crypto.Tests.Primitives;

public class BoxTests
{
    private static readonly byte[] s_message = "court support at 10:00"u8.ToArray();

    [Fact]
    public void Encrypt_ThenDecrypt_RoundTrips()
    {
        using X25519KeyPair alice = X25519KeyPair.Generate();
        using X25519KeyPair bob = X25519KeyPair.Generate();
        byte[] nonce = SecureRandom.Nonce();

        byte[] ciphertext = Box.Encrypt(s_message, nonce, bob.PublicKey, alice);

        Assert.Equal(s_message.Length + Box.TagSize, ciphertext.Length);
        Assert.True(Box.TryDecrypt(ciphertext, nonce, alice.PublicKey, bob, out byte[]? plaintext));
        Assert.Equal(s_message, plaintext);
    }

    [Fact]
    public void TryDecrypt_AnyFlippedByte_Fails()
    {
        using X25519KeyPair alice = X25519KeyPair.Generate();
        using X25519KeyPair bob = X25519KeyPair.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] ciphertext = Box.Encrypt(s_message, nonce, bob.PublicKey, alice);

        for (int i = 0; i < ciphertext.Length; i++)
        {
            Assert.False(Box.TryDecrypt(Hex.Flip(ciphertext, i), nonce, alice.PublicKey, bob, out byte[]? plaintext), $"byte {i}");
            Assert.Null(plaintext);
        }

        Assert.False(Box.TryDecrypt(ciphertext, Hex.Flip(nonce, 3), alice.PublicKey, bob, out _));
        Assert.False(Box.TryDecrypt(ciphertext.AsSpan(0, ciphertext.Length - 1), nonce, alice.PublicKey, bob, out _));
        Assert.False(Box.TryDecrypt(ciphertext.AsSpan(0, 5), nonce, alice.PublicKey, bob, out _));
    }

    [Fact]
    public void TryDecrypt_WrongKeys_Fails()
    {
        using X25519KeyPair alice = X25519KeyPair.Generate();
        using X25519KeyPair bob = X25519KeyPair.Generate();
        using X25519KeyPair mallory = X25519KeyPair.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] ciphertext = Box.Encrypt(s_message, nonce, bob.PublicKey, alice);

        Assert.False(Box.TryDecrypt(ciphertext, nonce, alice.PublicKey, mallory, out _));
        Assert.False(Box.TryDecrypt(ciphertext, nonce, mallory.PublicKey, bob, out _));
    }

    [Fact]
    public void Encrypt_WrongNonceLength_Throws()
    {
        using X25519KeyPair alice = X25519KeyPair.Generate();

        ArgumentException error = Assert.Throws<ArgumentException>(() => Box.Encrypt(s_message, new byte[12], alice.PublicKey, alice));
        Assert.Contains("24 bytes", error.Message, StringComparison.Ordinal);
    }
}

public class SealedBoxTests
{
    [Fact]
    public void Seal_ThenOpen_RoundTrips()
    {
        using X25519KeyPair intake = X25519KeyPair.Generate();
        byte[] report = "detained near the station"u8.ToArray();

        byte[] sealedReport = SealedBox.Seal(report, intake.PublicKey);

        Assert.Equal(report.Length + SealedBox.Overhead, sealedReport.Length);
        Assert.True(SealedBox.TryOpen(sealedReport, intake, out byte[]? opened));
        Assert.Equal(report, opened);
    }

    [Fact]
    public void Seal_SameMessageTwice_GivesDifferentCiphertexts()
    {
        using X25519KeyPair intake = X25519KeyPair.Generate();

        Assert.NotEqual(SealedBox.Seal("same"u8, intake.PublicKey), SealedBox.Seal("same"u8, intake.PublicKey));
    }

    [Fact]
    public void TryOpen_TamperedOrWrongRecipient_Fails()
    {
        using X25519KeyPair intake = X25519KeyPair.Generate();
        using X25519KeyPair other = X25519KeyPair.Generate();
        byte[] sealedReport = SealedBox.Seal("report"u8, intake.PublicKey);

        for (int i = 0; i < sealedReport.Length; i++)
        {
            Assert.False(SealedBox.TryOpen(Hex.Flip(sealedReport, i), intake, out byte[]? opened), $"byte {i}");
            Assert.Null(opened);
        }

        Assert.False(SealedBox.TryOpen(sealedReport, other, out _));
        Assert.False(SealedBox.TryOpen(sealedReport.AsSpan(0, SealedBox.Overhead - 1), intake, out _));
    }

    [Fact]
    public void Seal_EmptyMessage_RoundTrips()
    {
        using X25519KeyPair intake = X25519KeyPair.Generate();

        byte[] sealedEmpty = SealedBox.Seal([], intake.PublicKey);

        Assert.True(SealedBox.TryOpen(sealedEmpty, intake, out byte[]? opened));
        Assert.Empty(opened!);
    }
}

public class KeyExchangeTests
{
    [Fact]
    public void SessionKeys_ClientAndServer_Mirror()
    {
        using X25519KeyPair client = X25519KeyPair.Generate();
        using X25519KeyPair server = X25519KeyPair.Generate();

        using SessionKeys c = KeyExchange.ClientSessionKeys(client, server.PublicKey);
        using SessionKeys s = KeyExchange.ServerSessionKeys(server, client.PublicKey);

        Assert.True(c.Transmit.ContentEquals(s.Receive));
        Assert.True(c.Receive.ContentEquals(s.Transmit));
        Assert.False(c.Transmit.ContentEquals(c.Receive));
    }

    [Fact]
    public void SessionKeys_OtherPeer_Differ()
    {
        using X25519KeyPair client = X25519KeyPair.Generate();
        using X25519KeyPair server = X25519KeyPair.Generate();
        using X25519KeyPair impostor = X25519KeyPair.Generate();

        using SessionKeys c = KeyExchange.ClientSessionKeys(client, server.PublicKey);
        using SessionKeys i = KeyExchange.ServerSessionKeys(impostor, client.PublicKey);

        Assert.False(c.Transmit.ContentEquals(i.Receive));
    }

    [Fact]
    public void ClientSessionKeys_LowOrderServerKey_Throws()
    {
        using X25519KeyPair client = X25519KeyPair.Generate();

        Assert.Throws<System.Security.Cryptography.CryptographicException>(
            () => KeyExchange.ClientSessionKeys(client, X25519PublicKey.FromBytes(new byte[32])));
    }
}
