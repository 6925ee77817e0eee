using System.Globalization;

namespace Coordination.Crypto;

/// <summary>Throw helpers with one wording for every length and range error.</summary>
internal static class Error
{
    internal static ArgumentException Length(string parameter, string what, int expected, int actual) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{what} must be exactly {expected} bytes, got {actual}."), parameter);

    internal static ArgumentException LengthRange(string parameter, string what, int min, int max, int actual) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{what} must be {min} to {max} bytes, got {actual}."), parameter);

    internal static ArgumentException Destination(string parameter, int needed, int actual) =>
        new(string.Create(CultureInfo.InvariantCulture, $"The destination must be exactly {needed} bytes, got {actual}."), parameter);

    internal static void ThrowIfLength(ReadOnlySpan<byte> value, int expected, string what, string parameter)
    {
        if (value.Length != expected)
        {
            throw Length(parameter, what, expected, value.Length);
        }
    }

    internal static void ThrowIfKeyLength(SecretKey key, int expected, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(key, parameter);
        if (key.Length != expected)
        {
            throw Length(parameter, what, expected, key.Length);
        }
    }
}
