using System.Text;
using Coordination.Protocol;
using Coordination.Server.Relay;
using Coordination.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Privacy;

/// <summary>
/// Sends a unique canary through the whole relay path, then scans everything the database keeps at
/// rest (SQLite: the file, its -wal and -shm; PostgreSQL: the database's files and the write-ahead
/// log) and every line the server logged, for the canary, the client's address and the session
/// token; and, on SQLite, after delivery and deletion, for the stored ciphertext itself.
/// </summary>
public sealed class CanaryScanTests : IClassFixture<RelayFactory>
{
    private readonly RelayFactory _relay;

    public CanaryScanTests(RelayFactory relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Canary_ThroughTheRelay_NeverAtRestOrInLogs() => await SendDeliverAndDeleteAsync();

    /// <summary>
    /// SQLite only: secure_delete zeroes a deleted row in the file and the sweep checkpoints the
    /// WAL. PostgreSQL keeps a deleted row's bytes in its heap pages until VACUUM reuses them and
    /// in the write-ahead log until the segment is recycled (see the threat model).
    /// </summary>
    [SqliteFact]
    public async Task Canary_DeletedCiphertext_IsGoneFromTheDatabaseFiles()
    {
        List<byte[]> ciphertexts = await SendDeliverAndDeleteAsync();

        byte[] storage = _relay.ReadStorage();
        Assert.All(ciphertexts, c => Assert.False(Contains(storage, c), "deleted ciphertext lingers in the database, -wal or -shm: " + Where(c)));
    }

    /// <summary>Five envelopes with the canary, fetched, acknowledged by every device and swept; returns their ciphertexts.</summary>
    private async Task<List<byte[]>> SendDeliverAndDeleteAsync()
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
        // Either half will do: a record in PostgreSQL's WAL that crosses a page boundary is split
        // by the next page's header (the table's own page holds it whole once checkpointed).
        byte[] stored = _relay.ReadStorage();
        Assert.All(ciphertexts, c => Assert.True(
            Contains(stored, c[..(c.Length / 2)]) || Contains(stored, c[(c.Length / 2)..]),
            "the ciphertext is stored while undelivered"));

        // Delivered, acknowledged by every device, swept: the rows are gone, and still no secret anywhere.
        long last = inbox.Envelopes[^1].Seq;
        await bob.Api.AckAsync([new Ack(conversation, last)]).WaitAsync(TestTimeouts.Default);
        await alice.Api.AckAsync([new Ack(conversation, last)]).WaitAsync(TestTimeouts.Default);
        await _relay.Services.GetRequiredService<RelayWriter>().SweepAsync().WaitAsync(TestTimeouts.Default);

        AssertAbsent(secrets, "after deletion");
        Assert.Equal(0, _relay.Count("SELECT COUNT(*) FROM Envelopes WHERE ConversationId = $0", conversation));
        return ciphertexts;
    }

    private void AssertAbsent(string[] secrets, string when)
    {
        byte[] storage = _relay.ReadStorage();
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

    /// <summary>Where in the SQLite file, -wal and -shm a needle is (offset -1: not there), for the failure message.</summary>
    private string Where(byte[] needle)
    {
        List<string> found = [];
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            string path = _relay.DatabasePath + suffix;
            if (File.Exists(path))
            {
                byte[] content = RelayFactory.ReadShared(path);
                found.Add($"{suffix}:{content.Length}:{content.AsSpan().IndexOf(needle)}");
            }
        }

        return string.Join(" ", found);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
