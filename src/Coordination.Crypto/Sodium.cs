using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// Loads and checks the system libsodium once per process: a minimum-version gate (1.0.18, library
/// version 10.3), a misuse handler, <c>sodium_init</c>, and a self-test that compares this binding's
/// compiled-in sizes with the library's and runs one known-answer test.
/// </summary>
public static class Sodium
{
    /// <summary>The Debian package that provides the library.</summary>
    public const string DebianPackage = "libsodium23";

    /// <summary>The exact command that installs the library on Debian or Ubuntu.</summary>
    public const string InstallCommand = "sudo apt-get update && sudo apt-get install -y " + DebianPackage;

    private static readonly Lock s_gate = new();
    private static volatile bool s_ready;
    private static string s_versionString = "";

    /// <summary>The oldest library version accepted (libsodium 1.0.18 reports 10.3).</summary>
    public static Version MinimumLibraryVersion { get; } = new(SODIUM_LIBRARY_VERSION_MAJOR_MIN, SODIUM_LIBRARY_VERSION_MINOR_MIN);

    /// <summary>The library version of the loaded libsodium, e.g. 10.3.</summary>
    public static Version LibraryVersion { get; private set; } = new(0, 0);

    /// <summary>The release string of the loaded libsodium, e.g. "1.0.18".</summary>
    public static string VersionString
    {
        get
        {
            EnsureInitialized();
            return s_versionString;
        }
    }

    /// <summary>
    /// Loads, checks and initializes libsodium. Safe to call many times and from many threads.
    /// </summary>
    /// <exception cref="SodiumUnavailableException">The library is missing, too old, or failed its self-test.</exception>
    public static void Initialize()
    {
        if (s_ready)
        {
            return;
        }

        lock (s_gate)
        {
            if (s_ready)
            {
                return;
            }

            Interop.Libraries.EnsureResolver();
            try
            {
                Version version = new(sodium_library_version_major(), sodium_library_version_minor());
                if (version < MinimumLibraryVersion)
                {
                    throw new SodiumUnavailableException(
                        $"libsodium library version {version} is older than the required {MinimumLibraryVersion} (libsodium 1.0.18). Install a current one: {InstallCommand}");
                }

                LibraryVersion = version;
                s_versionString = Marshal.PtrToStringUTF8(sodium_version_string()) ?? "";
                InstallMisuseHandler();
                if (sodium_init() < 0)
                {
                    throw new SodiumUnavailableException("sodium_init() failed.");
                }
            }
            catch (DllNotFoundException ex)
            {
                throw LibraryMissing(ex);
            }
            catch (EntryPointNotFoundException ex)
            {
                throw new SodiumUnavailableException(
                    $"The libsodium that was loaded lacks a required function; version 1.0.18 or later is needed. Install it: {InstallCommand}", ex);
            }

            SelfTest.Run();
            s_ready = true;
        }
    }

    internal static SodiumUnavailableException LibraryMissing(Exception cause) =>
        new($"libsodium was not found (tried {string.Join(", ", Interop.Libraries.Candidates)}). Install it: {InstallCommand}", cause);

    internal static void EnsureInitialized()
    {
        if (!s_ready)
        {
            Initialize();
        }
    }

    private static unsafe void InstallMisuseHandler()
    {
        _ = sodium_set_misuse_handler(&OnMisuse);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnMisuse()
    {
        // libsodium calls this only on API misuse it cannot report otherwise; continuing would be unsafe.
        Environment.FailFast("libsodium reported a misuse of its API.");
    }
}

/// <summary>libsodium is missing, too old, or failed its start-up self-test.</summary>
public sealed class SodiumUnavailableException : Exception
{
    public SodiumUnavailableException()
    {
    }

    public SodiumUnavailableException(string message)
        : base(message)
    {
    }

    public SodiumUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
