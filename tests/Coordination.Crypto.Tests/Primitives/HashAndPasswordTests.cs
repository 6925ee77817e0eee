using System.Text;

namespace Coordination.Crypto.Tests.Primitives;

public class Blake2bTests
{
    [Fact]
    public void Hash_Rfc7693Abc_MatchesAppendixA()
    {
        byte[] digest = Blake2b.Hash("abc"u8, 64);

        Assert.Equal(
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
            Hex.Of(digest));
    }

    [Fact]
    public void KeyedHash_ReferenceKat_EmptyInput()
    {
        // BLAKE2 reference implementation keyed KAT (blake2b-kat.txt): key 00..3f, empty input.
        byte[] keyBytes = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        using SecretKey key = SecretKey.Import(keyBytes);

        byte[] mac = Blake2b.KeyedHash(key, [], 64);

        Assert.Equal(
            "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568",
            Hex.Of(mac));
    }

    [Fact]
    public void KeyedHash_DifferentKeys_DifferentTags()
    {
        using SecretKey a = SecretKey.Generate();
        using SecretKey b = SecretKey.Generate();

        Assert.NotEqual(Blake2b.KeyedHash(a, "lawyer"u8), Blake2b.KeyedHash(b, "lawyer"u8));
        Assert.Equal(Blake2b.KeyedHash(a, "lawyer"u8), Blake2b.KeyedHash(a, "lawyer"u8));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(65)]
    public void Hash_SizeOutOfRange_Throws(int size)
    {
        Assert.Throws<ArgumentException>(() => Blake2b.Hash("x"u8, size));
    }

    [Fact]
    public void KeyedHash_KeyTooShort_Throws()
    {
        using SecretKey key = SecretKey.Generate(8);

        Assert.Throws<ArgumentException>(() => Blake2b.KeyedHash(key, "x"u8));
    }
}

public class Argon2idTests
{
    private static readonly byte[] s_salt = Enumerable.Range(0, Argon2id.SaltSize).Select(i => (byte)i).ToArray();
    private static readonly Argon2idCost s_cheap = new(1, 8 * 1024 * 1024);

    [Fact]
    public void DeriveKey_SameInputs_SameKey()
    {
        using SecretKey a = Argon2id.DeriveKey(Encoding.UTF8.GetBytes("correct horse"), s_salt, s_cheap);
        using SecretKey b = Argon2id.DeriveKey(Encoding.UTF8.GetBytes("correct horse"), s_salt, s_cheap);

        Assert.True(a.ContentEquals(b));
        Assert.Equal(32, a.Length);
    }

    [Fact]
    public void DeriveKey_OtherPasswordSaltOrCost_DifferentKey()
    {
        byte[] otherSalt = Hex.Flip(s_salt, 0);
        using SecretKey baseline = Argon2id.DeriveKey("pass"u8, s_salt, s_cheap);
        using SecretKey otherPassword = Argon2id.DeriveKey("pasS"u8, s_salt, s_cheap);
        using SecretKey fromOtherSalt = Argon2id.DeriveKey("pass"u8, otherSalt, s_cheap);
        using SecretKey otherCost = Argon2id.DeriveKey("pass"u8, s_salt, s_cheap with { Operations = 2 });

        Assert.False(baseline.ContentEquals(otherPassword));
        Assert.False(baseline.ContentEquals(fromOtherSalt));
        Assert.False(baseline.ContentEquals(otherCost));
    }

    [Fact]
    public void DeriveBytes_MatchesDeriveKey()
    {
        byte[] lookup = new byte[32];
        Argon2id.DeriveBytes("receipt words"u8, s_salt, s_cheap, lookup);
        using SecretKey key = Argon2id.DeriveKey("receipt words"u8, s_salt, s_cheap);

        Assert.Equal(Hex.Of(key), Hex.Of(lookup));
    }

    [Fact]
    public void DeriveKey_BadSaltOrCost_Throws()
    {
        Assert.Throws<ArgumentException>(() => Argon2id.DeriveKey("p"u8, new byte[8], s_cheap));
        Assert.Throws<ArgumentOutOfRangeException>(() => Argon2id.DeriveKey("p"u8, s_salt, new Argon2idCost(0, 8192)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Argon2id.DeriveKey("p"u8, s_salt, new Argon2idCost(1, 1024)));
    }
}

public class ConstantTimeTests
{
    [Fact]
    public void AreEqual_ComparesContentAndLength()
    {
        Assert.True(ConstantTime.AreEqual([1, 2, 3], [1, 2, 3]));
        Assert.True(ConstantTime.AreEqual([], []));
        Assert.False(ConstantTime.AreEqual([1, 2, 3], [1, 2, 4]));
        Assert.False(ConstantTime.AreEqual([1, 2, 3], [1, 2]));
    }
}

public class PaddingTests
{
    [Theory]
    [InlineData(0, 16, 16)]
    [InlineData(15, 16, 16)]
    [InlineData(16, 16, 32)]
    [InlineData(500, 256, 512)]
    public void Pad_ThenUnpad_RoundTripsToBlockMultiple(int length, int block, int expected)
    {
        byte[] data = SecureRandom.Bytes(length);

        byte[] padded = Padding.Pad(data, block);

        Assert.Equal(expected, padded.Length);
        Assert.Equal(expected, Padding.PaddedLength(length, block));
        Assert.True(Padding.TryUnpad(padded, block, out int unpadded));
        Assert.Equal(length, unpadded);
        Assert.Equal(data, padded[..unpadded]);
    }

    [Fact]
    public void TryUnpad_BadPadding_IsFalse()
    {
        Assert.False(Padding.TryUnpad(new byte[16], 16, out _));
        Assert.False(Padding.TryUnpad(new byte[15], 16, out _));
        Assert.False(Padding.TryUnpad([], 16, out _));
    }
}

public class SecureRandomTests
{
    [Fact]
    public void Bytes_TwoDraws_Differ()
    {
        Assert.NotEqual(SecureRandom.Bytes(32), SecureRandom.Bytes(32));
        Assert.Equal(24, SecureRandom.Nonce().Length);
    }

    [Fact]
    public void Uniform_StaysInRange()
    {
        for (int i = 0; i < 1000; i++)
        {
            Assert.InRange(SecureRandom.Uniform(7), 0u, 6u);
        }
    }
}
