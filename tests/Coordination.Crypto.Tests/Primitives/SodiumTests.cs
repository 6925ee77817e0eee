namespace Coordination.Crypto.Tests.Primitives;

public class SodiumTests
{
    [Fact]
    public void Initialize_SystemLibrary_MeetsMinimumVersion()
    {
        Sodium.Initialize();
        Sodium.Initialize();

        Assert.True(Sodium.LibraryVersion >= Sodium.MinimumLibraryVersion, $"loaded {Sodium.LibraryVersion}");
        Assert.Matches(@"^1\.0\.\d+$", Sodium.VersionString);
    }

    [Fact]
    public void Initialize_ManyThreads_AllSucceed()
    {
        Parallel.For(0, 32, _ => Sodium.Initialize());

        Assert.NotEmpty(Sodium.VersionString);
    }

    [Fact]
    public void LibraryMissing_Message_NamesTheAptPackageAndCommand()
    {
        SodiumUnavailableException error = Sodium.LibraryMissing(new DllNotFoundException("libsodium"));

        Assert.Contains("apt-get install -y libsodium23", error.Message, StringComparison.Ordinal);
        Assert.Contains("libsodium.so.23", error.Message, StringComparison.Ordinal);
        Assert.IsType<DllNotFoundException>(error.InnerException);
    }
}
