using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>Comparisons of secrets whose time does not depend on where the inputs differ.</summary>
public static class ConstantTime
{
    /// <summary>
    /// True when both spans hold the same bytes (libsodium <c>sodium_memcmp</c>). Lengths are not
    /// secret: different lengths return false at once.
    /// </summary>
    public static bool AreEqual(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Sodium.EnsureInitialized();
        if (left.Length != right.Length)
        {
            return false;
        }

        if (left.IsEmpty)
        {
            return true;
        }

        return sodium_memcmp(left, right, (nuint)left.Length) == 0;
    }
}
