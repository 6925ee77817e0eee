using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

// sodium/crypto_kx.h
internal static partial class Interop
{
    internal static partial class Libsodium
    {
        internal const int crypto_kx_PUBLICKEYBYTES = 32;
        internal const int crypto_kx_SECRETKEYBYTES = 32;
        internal const int crypto_kx_SESSIONKEYBYTES = 32;

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nuint crypto_kx_sessionkeybytes();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_kx_client_session_keys(SecureMemoryHandle rx, SecureMemoryHandle tx, ReadOnlySpan<byte> client_pk, SecureMemoryHandle client_sk, ReadOnlySpan<byte> server_pk);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int crypto_kx_server_session_keys(SecureMemoryHandle rx, SecureMemoryHandle tx, ReadOnlySpan<byte> server_pk, SecureMemoryHandle server_sk, ReadOnlySpan<byte> client_pk);
    }
}
