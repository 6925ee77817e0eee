using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

// sodium/version.h
internal static partial class Interop
{
    internal static partial class Libsodium
    {
        /// <summary>libsodium 1.0.18 reports library version 10.3.</summary>
        internal const int SODIUM_LIBRARY_VERSION_MAJOR_MIN = 10;
        internal const int SODIUM_LIBRARY_VERSION_MINOR_MIN = 3;

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int sodium_library_version_major();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial int sodium_library_version_minor();

        [LibraryImport(Libraries.Libsodium)]
        [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
        internal static partial nint sodium_version_string();
    }
}
