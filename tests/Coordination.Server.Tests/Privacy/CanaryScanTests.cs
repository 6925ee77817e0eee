using System.Text;
using Coordination.Protocol;
using Coordination.Server.Relay;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Privacy;

/// <summary>
/// Sends a unique canary through the whole relay path, then scans the database file, its -wal and
/// -shm, and every line the server logged, for the canary, the client's address and the session
/// token; and, after delivery and deletion, for the stored ciphertext itself.
/// </summary>
public sealed class CanaryScanTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public CanaryScanTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Canary_ThroughTheRelay_NeverAtRestOrInLogs()
    {
        string canary = "CANARY-" + Guid.NewGuid().ToString("N");
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        string userAgent = "CanaryAgent" + Guid.NewGuid().ToString("N")[..8];
        alice.Api.Http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent + "/1.0");
        bob.Api.Http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent + "/1.0");
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        List<byte[]> ciphertexts = [];
        for (int i = 0; i < 5; i++)
        {
            SendEnvelope envelope = TestDevice.Envelope(conversation, $"{canary} message {i}: court support at the district court");
            ciphertexts.Add(envelope.Ciphertext);
            await alice.Api.SendAsync(envelope).WaitAsync(TestTimeouts.Default);
        }

        InboxPage inbox = await bob.Api.FetchAsync().WaitAsync(TestTimeouts.Default);
        Assert.Equal(5, inbox.Envelopes.Count);
        string[] secrets = [canary, RelayFactory.ClientAddress, alice.Api.Token!, bob.Api.Token!, userAgent];

        // While stored: no plaintext, no address, no token anywhere.
        AssertAbsent(secrets, "while stored");
        Assert.All(ciphertexts, c => Assert.True(Contains(ReadStorage(), c), "the ciphertext is stored while undelivered"));

        // Delivered, acknowledged by every device, swept: the ciphertext is gone from the file too.
        long last = inbox.Envelopes[^1].Seq;
        await bob.Api.AckAsync([new Ack(conversation, last)]).WaitAsync(TestTimeouts.Default);
        await alice.Api.AckAsync([new Ack(conversation, last)]).WaitAsync(TestTimeouts.Default);
        await _relay.Services.GetRequiredService<RelayWriter>().SweepAsync().WaitAsync(TestTimeouts.Default);

        AssertAbsent(secrets, "after deletion");
        byte[] storage = ReadStorage();
        Assert.All(ciphertexts, c => Assert.False(Contains(storage, c), "deleted ciphertext lingers in the database, -wal or -shm: " + Where(c)));
        Assert.Equal(0, _relay.Count("SELECT COUNT(*) FROM Envelopes"));
    }

    private void AssertAbsent(string[] secrets, string when)
    {
        byte[] storage = ReadStorage();
        string logs = string.Join('\n', _relay.Logs);
        Assert.NotEmpty(_relay.Logs);
        foreach (string secret in secrets)
        {
            Assert.False(Contains(storage, Encoding.UTF8.GetBytes(secret)), $"{when}: a secret was found in the database files");
            Assert.False(Contains(storage, Encoding.Unicode.GetBytes(secret)), $"{when}: a secret was found (UTF-16) in the database files");
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }

        foreach (string token in secrets[2..4])
        {
            Assert.False(Contains(storage, System.Buffers.Text.Base64Url.DecodeFromChars(token)), $"{when}: a raw token was found in the database files");
        }
    }

    private byte[] ReadStorage()
    {
        using MemoryStream all = new();
        foreach (string suffix in new[] { "", "-wal", "-shm", "-journal" })
        {
            string path = _relay.DatabasePath + suffix;
            if (File.Exists(path))
            {
                using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.CopyTo(all);
            }
        }

        return all.ToArray();
    }

    private string Where(byte[] needle)
    {
        List<string> found = [];
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            string path = _relay.DatabasePath + suffix;
            if (File.Exists(path))
            {
                using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using MemoryStream copy = new();
                file.CopyTo(copy);
                found.Add($"{suffix}:{copy.Length}:{copy.ToArray().AsSpan().IndexOf(needle)}");
            }
        }

        return string.Join(" ", found);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
