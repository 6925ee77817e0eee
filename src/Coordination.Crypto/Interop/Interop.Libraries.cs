using System.Reflection;
using System.Runtime.InteropServices;

namespace Coordination.Crypto;

internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>The library name every declaration imports; the resolver maps it to a real file.</summary>
        internal const string Libsodium = "libsodium";

        /// <summary>
        /// Sonames tried in order. Debian's <c>libsodium23</c> ships only <c>libsodium.so.23</c> (no
        /// unversioned link without <c>libsodium-dev</c>); newer distributions ship <c>.so.26</c>.
        /// </summary>
        internal static readonly string[] Candidates =
        [
            "libsodium.so.26",
            "libsodium.so.23",
            "libsodium",
            "libsodium.so",
            "libsodium.dylib",
            "libsodium.26.dylib",
            "libsodium.23.dylib",
        ];

        private static readonly Lazy<nint> s_handle = new(LoadLibsodium, LazyThreadSafetyMode.ExecutionAndPublication);
        private static int s_resolverInstalled;

        /// <summary>Installs the import resolver for this assembly once.</summary>
        internal static void EnsureResolver()
        {
            if (Interlocked.Exchange(ref s_resolverInstalled, 1) == 0)
            {
                NativeLibrary.SetDllImportResolver(typeof(Libraries).Assembly, Resolve);
            }
        }

        private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            return libraryName == Libsodium ? s_handle.Value : 0;
        }

        private static nint LoadLibsodium()
        {
            foreach (string candidate in Candidates)
            {
                if (NativeLibrary.TryLoad(candidate, typeof(Libraries).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out nint handle))
                {
                    return handle;
                }
            }

            // Returning 0 lets the runtime raise DllNotFoundException, which Sodium.Initialize turns into
            // a SodiumUnavailableException that names the package to install.
            return 0;
        }
    }
}
