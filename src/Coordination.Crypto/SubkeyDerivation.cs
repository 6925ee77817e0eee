using System.Text;
using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// libsodium <c>crypto_kdf_derive_from_key</c>: many independent subkeys from one 32-byte master key,
/// told apart by a 64-bit id and an 8-character context (BLAKE2b with salt = id, personal = context).
/// </summary>
public static class SubkeyDerivation
{
    public const int MasterKeySize = crypto_kdf_KEYBYTES;
    public const int ContextSize = crypto_kdf_CONTEXTBYTES;
    public const int MinSubkeySize = crypto_kdf_BYTES_MIN;
    public const int MaxSubkeySize = crypto_kdf_BYTES_MAX;

    /// <param name="masterKey">32 bytes.</param>
    /// <param name="subkeyId">Which subkey; each id gives an unrelated key.</param>
    /// <param name="context">Exactly 8 ASCII characters naming the purpose, e.g. "grpchain".</param>
    /// <param name="length">16 to 64 bytes.</param>
    public static SecretKey DeriveSubkey(SecretKey masterKey, ulong subkeyId, string context, int length = 32)
    {
        Error.ThrowIfKeyLength(masterKey, MasterKeySize, "A crypto_kdf master key", nameof(masterKey));
        ArgumentNullException.ThrowIfNull(context);
        if (context.Length != ContextSize || !Ascii.IsValid(context))
        {
            throw new ArgumentException($"The context must be exactly {ContextSize} ASCII characters.", nameof(context));
        }

        if (length is < MinSubkeySize or > MaxSubkeySize)
        {
            throw Error.LengthRange(nameof(length), "A crypto_kdf subkey", MinSubkeySize, MaxSubkeySize, length);
        }

        Span<byte> ctx = stackalloc byte[ContextSize];
        _ = Encoding.ASCII.GetBytes(context, ctx);
        SecretKey subkey = SecretKey.Allocate(length);
        _ = crypto_kdf_derive_from_key(subkey.Memory, (nuint)length, subkeyId, ctx, masterKey.Memory);
        return subkey;
    }
}
