using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

// sodium/crypto_kdf.h (BLAKE2b-based subkey derivation)
internal static partial class Interop
{
    internal static partial class Libsodium
    {
        internal const int crypto_kdf_BYTES_MIN = 16;
        internal const int crypto_kdf_BYTES_MAX = 64;
        internal const int crypto_kdf_CONTEXTBYTES = 8;
        internal const int crypto_kdf_KEYBYTES = 32;

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nuint crypto_kdf_contextbytes();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nuint crypto_kdf_keybytes();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_kdf_derive_from_key(SecureMemoryHandle subkey, nuint subkey_len, ulong subkey_id, ReadOnlySpan<byte> ctx, SecureMemoryHandle key);
    }
}
