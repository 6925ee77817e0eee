using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

// sodium/crypto_generichash.h (BLAKE2b)
internal static partial class Interop
{
    internal static partial class Libsodium
    {
        internal const int crypto_generichash_BYTES_MIN = 16;
        internal const int crypto_generichash_BYTES_MAX = 64;
        internal const int crypto_generichash_BYTES = 32;
        internal const int crypto_generichash_KEYBYTES_MIN = 16;
        internal const int crypto_generichash_KEYBYTES_MAX = 64;

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nuint crypto_generichash_bytes_max();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nuint crypto_generichash_keybytes_max();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_generichash(Span<byte> @out, nuint outlen, ReadOnlySpan<byte> @in, ulong inlen, nint key, nuint keylen);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_generichash(Span<byte> @out, nuint outlen, ReadOnlySpan<byte> @in, ulong inlen, SecureMemoryHandle key, nuint keylen);
    }
}
