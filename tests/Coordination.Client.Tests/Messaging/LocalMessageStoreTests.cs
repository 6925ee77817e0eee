using System.Text;
using Coordination.Client.Messaging;
using Coordination.Crypto;

namespace Coordination.Client.Tests.Messaging;

/// <summary>The device's history at rest: ciphertext only, private files, survives a reopen, refuses another key.</summary>
public sealed class LocalMessageStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "coordination-store-tests", Guid.NewGuid().ToString("N"), "messages");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public void History_and_records_are_ciphertext_in_owner_only_files_and_reopen()
    {
        byte[] key = SecureRandom.Bytes(32);
        string secret = "meet at the library " + Guid.NewGuid().ToString("N");
        StoredMessage message = new(Guid.NewGuid(), 7, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 1, secret, false, null);
        using (LocalMessageStore store = LocalMessageStore.Open(_directory, key))
        {
            Assert.True(store.Add(message));
            Assert.False(store.Add(message));
            store.SaveRecord("cells", Encoding.UTF8.GetBytes(secret));
            store.SaveState(Encoding.UTF8.GetBytes(secret));
        }

        string[] files = Directory.GetFiles(_directory);
        Assert.Equal(["cells.enc", "group-state.enc", "history.enc"], files.Select(Path.GetFileName).Order());
        foreach (string file in files)
        {
            Assert.DoesNotContain(secret, File.ReadAllText(file), StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        }

        using (LocalMessageStore reopened = LocalMessageStore.Open(_directory, key))
        {
            Assert.Equal([secret], reopened.Messages.Select(m => m.Text));
            Assert.Equal(secret, Encoding.UTF8.GetString(reopened.LoadRecord("cells")!));
            Assert.Null(reopened.LoadRecord("absent"));
        }

        Assert.Throws<InvalidDataException>(() => LocalMessageStore.Open(_directory, SecureRandom.Bytes(32)));
    }
}
