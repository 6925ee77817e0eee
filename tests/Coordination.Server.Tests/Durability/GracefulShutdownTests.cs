using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Durability;

/// <summary>
/// SIGTERM (how systemd and container runtimes stop a service) in the middle of a burst of sends:
/// the relay stops cleanly (exit code 0), every send it acknowledged is there after a restart
/// exactly once, and a send that was already queued for the writer is committed rather than
/// failed. With <c>Logging:Console:FormatterName=json</c> every log line it writes is a JSON
/// object, and none carries a token, a user agent or anything the clients sent.
/// </summary>
public sealed class GracefulShutdownTests : IDisposable
{
    private const int Senders = 12;
    private const string UserAgent = "CanaryAgent/7.3 (shutdown test)";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "coordination-tests", "shutdown-" + Guid.NewGuid().ToString("N"));

    public GracefulShutdownTests() => Directory.CreateDirectory(_dataDirectory);

    [Fact]
    public async Task Sigterm_during_a_burst_stops_cleanly_and_keeps_every_acknowledged_send_with_json_logs_that_identify_no_one()
    {
        using DeviceIdentity alice = DeviceIdentity.CreateAccount();
        using DeviceIdentity bob = DeviceIdentity.CreateAccount();
        string[] json = ["--Logging:Console:FormatterName=json", "--Logging:LogLevel:Default=Debug"];
        ServerProcess server = await ServerProcess.StartAsync(_dataDirectory, s_timeout, json);
        ConcurrentDictionary<Guid, long> acknowledged = new();
        ConcurrentDictionary<Guid, SendEnvelope> attempted = new();
        string aliceToken;
        int exitCode;
        IReadOnlyList<string> logLines;
        try
        {
            RelayApi aliceApi = Api(server);
            RelayApi bobApi = Api(server);
            await aliceApi.RegisterAccountAsync(alice).WaitAsync(s_timeout);
            await aliceApi.LoginAsync(alice).WaitAsync(s_timeout);
            await bobApi.RegisterAccountAsync(bob).WaitAsync(s_timeout);
            await bobApi.LoginAsync(bob).WaitAsync(s_timeout);
            aliceToken = aliceApi.Token!;
            Guid conversation = (await aliceApi.OpenDirectConversationAsync(bob.AccountId).WaitAsync(s_timeout)).ConversationId;

            int stopping = 0;
            Task[] senders = [.. Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
            {
                for (int i = 0; ; i++)
                {
                    SendEnvelope envelope = TestDevice.Envelope(conversation, string.Create(CultureInfo.InvariantCulture, $"canary-shutdown {sender}/{i}"));
                    attempted[envelope.MessageId] = envelope;
                    try
                    {
                        acknowledged[envelope.MessageId] = (await aliceApi.SendAsync(envelope).WaitAsync(s_timeout)).Seq;
                    }
                    catch (Exception) when (Volatile.Read(ref stopping) == 1)
                    {
                        return;
                    }
                }
            }))];

            Stopwatch waited = Stopwatch.StartNew();
            while (acknowledged.Count < 50 && waited.Elapsed < s_timeout)
            {
                await Task.Delay(10);
            }

            Volatile.Write(ref stopping, 1);
            exitCode = await server.TerminateAsync(s_timeout);
            await Task.WhenAll(senders).WaitAsync(s_timeout);
            logLines = server.StandardOutput;
        }
        finally
        {
            server.Dispose();
        }

        Assert.True(exitCode == 0, $"the relay exited with {exitCode} after SIGTERM");
        Assert.True(acknowledged.Count >= 50, $"only {acknowledged.Count} sends were acknowledged before SIGTERM");

        // Structured: every line is one JSON object with a level and a category; and nothing identifying.
        Assert.NotEmpty(logLines);
        foreach (string line in logLines)
        {
            using JsonDocument entry = JsonDocument.Parse(line);
            Assert.True(entry.RootElement.TryGetProperty("LogLevel", out _) && entry.RootElement.TryGetProperty("Category", out _), line);
            Assert.DoesNotContain(aliceToken, line, StringComparison.Ordinal);
            Assert.DoesNotContain("CanaryAgent", line, StringComparison.Ordinal);
            Assert.DoesNotContain("canary-shutdown", line, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(logLines, l => l.Contains("shutting down", StringComparison.OrdinalIgnoreCase) && l.Contains("\"Warning\"", StringComparison.Ordinal));

        // After a restart every acknowledged send is in Bob's inbox exactly once, with the seq it was given.
        using ServerProcess restarted = await ServerProcess.StartAsync(_dataDirectory, s_timeout);
        RelayApi bobAgain = Api(restarted);
        await bobAgain.LoginAsync(bob).WaitAsync(s_timeout);
        List<EnvelopeDelivery> inbox = [];
        for (int page = 0; page < 1000; page++)
        {
            InboxPage fetched = await bobAgain.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(s_timeout);
            if (fetched.Envelopes.Count == 0)
            {
                break;
            }

            inbox.AddRange(fetched.Envelopes);
            await bobAgain.AckAsync([.. fetched.Envelopes.GroupBy(e => e.ConversationId).Select(g => new Ack(g.Key, g.Max(e => e.Seq)))]).WaitAsync(s_timeout);
        }

        Assert.Equal(inbox.Count, inbox.Select(e => e.MessageId).Distinct().Count());
        Assert.All(acknowledged, a => Assert.Equal(a.Value, inbox.SingleOrDefault(e => e.MessageId == a.Key)?.Seq));
        Assert.All(inbox, e => Assert.True(attempted.ContainsKey(e.MessageId)));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static RelayApi Api(ServerProcess server)
    {
        HttpClient http = new() { BaseAddress = server.Address, Timeout = s_timeout };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        return new RelayApi(http);
    }
}
