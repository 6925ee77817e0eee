namespace Coordination.Crypto.Tests.Primitives;

internal static class Hex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex);

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static string Of(SecretKey key)
    {
        byte[] copy = new byte[key.Length];
        key.Export(copy);
        return Of(copy);
    }

    public static byte[] Flip(ReadOnlySpan<byte> data, int index)
    {
        byte[] copy = data.ToArray();
        copy[index] ^= 0x01;
        return copy;
    }
}
