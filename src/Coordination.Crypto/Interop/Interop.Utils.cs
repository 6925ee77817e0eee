using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

// sodium/utils.h
internal static partial class Interop
{
    internal static partial class Libsodium
    {
        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial SecureMemoryHandle sodium_malloc(nuint size);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial void sodium_free(nint ptr);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial void sodium_memzero(Span<byte> pnt, nuint len);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int sodium_memcmp(ReadOnlySpan<byte> b1_, ReadOnlySpan<byte> b2_, nuint len);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int sodium_memcmp(SecureMemoryHandle b1_, ReadOnlySpan<byte> b2_, nuint len);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int sodium_pad(out nuint padded_buflen_p, Span<byte> buf, nuint unpadded_buflen, nuint blocksize, nuint max_buflen);

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int sodium_unpad(out nuint unpadded_buflen_p, ReadOnlySpan<byte> buf, nuint padded_buflen, nuint blocksize);
    }
}
