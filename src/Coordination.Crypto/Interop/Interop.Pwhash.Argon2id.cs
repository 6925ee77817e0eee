using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

// sodium/crypto_pwhash.h (Argon2id v1.3)
internal static partial class Interop
{
    internal static partial class Libsodium
    {
        internal const int crypto_pwhash_ALG_ARGON2ID13 = 2;
        internal const int crypto_pwhash_SALTBYTES = 16;
        internal const int crypto_pwhash_BYTES_MIN = 16;
        internal const ulong crypto_pwhash_OPSLIMIT_MIN = 1;
        internal const ulong crypto_pwhash_OPSLIMIT_INTERACTIVE = 2;
        internal const ulong crypto_pwhash_OPSLIMIT_MODERATE = 3;
        internal const ulong crypto_pwhash_OPSLIMIT_SENSITIVE = 4;
        internal const nuint crypto_pwhash_MEMLIMIT_MIN = 8192;
        internal const nuint crypto_pwhash_MEMLIMIT_INTERACTIVE = 67108864;
        internal const nuint crypto_pwhash_MEMLIMIT_MODERATE = 268435456;
        internal const nuint crypto_pwhash_MEMLIMIT_SENSITIVE = 1073741824;

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_pwhash_alg_argon2id13();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nuint crypto_pwhash_saltbytes();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_pwhash(SecureMemoryHandle @out, ulong outlen, ReadOnlySpan<byte> passwd, ulong passwdlen, ReadOnlySpan<byte> salt, ulong opslimit, nuint memlimit, int alg);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_pwhash(Span<byte> @out, ulong outlen, ReadOnlySpan<byte> passwd, ulong passwdlen, ReadOnlySpan<byte> salt, ulong opslimit, nuint memlimit, int alg);
    }
}
