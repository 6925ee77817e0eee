using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Hub;
using Coordination.Client.Identity;
using Coordination.Protocol;
using Coordination.Server.Tests.Durability;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Faults;

/// <summary>
/// Every send a fault test made: what was attempted, what the relay acknowledged (with its seq),
/// and how every other send (or inbox fetch) ended. The promise checked at the end is the relay's promise to a
/// sender: an acknowledged send is delivered exactly once, as that seq, byte for byte; and a
/// failure is a clear answer (a problem with a status that says "not now"), never a 500 or silence.
/// </summary>
public sealed class SendLedger
{
    /// <summary>The statuses that say "the relay cannot store this now; try again", each with a problem detail.</summary>
    public static readonly IReadOnlySet<HttpStatusCode> ClearStatuses = new HashSet<HttpStatusCode>
    {
        HttpStatusCode.TooManyRequests,
        HttpStatusCode.ServiceUnavailable,
        HttpStatusCode.InsufficientStorage,
    };

    /// <summary>
    /// SignalR completes an invocation that threw a HubException with "An unexpected error occurred
    /// invoking 'Send' on the server. HubException: (the relay's message)"; any other exception gets
    /// that first sentence alone, the hub's 500.
    /// </summary>
    private const string HubExceptionMarker = "HubException: ";

    public ConcurrentDictionary<Guid, SendEnvelope> Attempted { get; } = new();

    public ConcurrentDictionary<Guid, SendResult> Acknowledged { get; } = new();

    public ConcurrentQueue<SendFailure> Failures { get; } = new();

    /// <summary>The failures that are not a clear answer: a 500 or other status, no detail, no answer at all, a broken connection.</summary>
    public IReadOnlyList<SendFailure> Unclear => [.. Failures.Where(f => !f.IsClear)];

    /// <summary>Sends over REST within <paramref name="timeout"/>; returns null when acknowledged, else how it failed (also recorded).</summary>
    public async Task<SendFailure?> SendAsync(RelayApi api, SendEnvelope envelope, TimeSpan timeout)
    {
        Attempted.TryAdd(envelope.MessageId, envelope);
        Stopwatch elapsed = Stopwatch.StartNew();
        using CancellationTokenSource cancel = new(timeout);
        try
        {
            SendResult result = await api.SendAsync(envelope, cancel.Token).WaitAsync(timeout + TimeSpan.FromSeconds(5));
            Record(envelope, result);
            return null;
        }
        catch (RelayApiException ex)
        {
            bool clear = ClearStatuses.Contains(ex.Status) && IsExplained(ex.Detail);
            return Fail(new SendFailure(envelope.MessageId, "rest", (int)ex.Status, ex.Detail ?? "(no detail)", elapsed.Elapsed, clear));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or TimeoutException or JsonException)
        {
            string what = ex is OperationCanceledException or TimeoutException
                ? string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0} s")
                : $"{ex.GetType().Name}: {ex.Message}";
            return Fail(new SendFailure(envelope.MessageId, "rest", null, what, elapsed.Elapsed, IsClear: false));
        }
    }

    /// <summary>
    /// Sends over the hub within <paramref name="timeout"/>; as <see cref="SendAsync(RelayApi, SendEnvelope, TimeSpan)"/>.
    /// A hub error is clear when it carries the relay's own message (a HubException), not SignalR's
    /// bare "unexpected error", the hub's 500. A connection the relay closed is clear too: the
    /// client knows at once that it has no answer, reconnects (<see cref="ReconnectingHub"/>), and
    /// retries with the same id.
    /// </summary>
    public async Task<SendFailure?> SendAsync(ReconnectingHub hub, SendEnvelope envelope, TimeSpan timeout)
    {
        Attempted.TryAdd(envelope.MessageId, envelope);
        Stopwatch elapsed = Stopwatch.StartNew();
        using CancellationTokenSource cancel = new(timeout);
        try
        {
            SendResult result = await hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [envelope], cancel.Token).WaitAsync(timeout + TimeSpan.FromSeconds(5));
            Record(envelope, result);
            return null;
        }
        catch (HubInvocationException ex)
        {
            int marker = ex.Message.IndexOf(HubExceptionMarker, StringComparison.Ordinal);
            string relayMessage = marker < 0 ? "" : ex.Message[(marker + HubExceptionMarker.Length)..];
            bool clear = IsExplained(relayMessage);
            return Fail(new SendFailure(envelope.MessageId, "hub", null, clear ? relayMessage : ex.Message, elapsed.Elapsed, clear));
        }
        catch (HubConnectionClosedException ex)
        {
            string reason = ex.Reason is null ? "closed cleanly" : ex.Reason.GetType().Name;
            return Fail(new SendFailure(envelope.MessageId, "hub", null, $"connection closed ({reason}); reconnecting", elapsed.Elapsed, IsClear: true));
        }
        catch (Exception ex) when (ex is HubClientException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
        {
            string what = ex is OperationCanceledException or TimeoutException
                ? string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0} s")
                : $"{ex.GetType().Name}: {ex.Message}";
            return Fail(new SendFailure(envelope.MessageId, "hub", null, what, elapsed.Elapsed, IsClear: false));
        }
    }

    /// <summary>
    /// Fetches a page of the inbox within <paramref name="timeout"/> (a device polling; reads go
    /// through the database's connection pool, not the writer); returns null when it answered, else
    /// how it failed, recorded among the failures as a "fetch".
    /// </summary>
    public async Task<SendFailure?> FetchAsync(RelayApi api, TimeSpan timeout)
    {
        Stopwatch elapsed = Stopwatch.StartNew();
        using CancellationTokenSource cancel = new(timeout);
        try
        {
            await api.FetchAsync(10, cancel.Token).WaitAsync(timeout + TimeSpan.FromSeconds(5));
            return null;
        }
        catch (RelayApiException ex)
        {
            bool clear = ClearStatuses.Contains(ex.Status) && IsExplained(ex.Detail);
            return Fail(new SendFailure(Guid.Empty, "fetch", (int)ex.Status, ex.Detail ?? "(no detail)", elapsed.Elapsed, clear));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or TimeoutException or JsonException)
        {
            string what = ex is OperationCanceledException or TimeoutException
                ? string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0} s")
                : $"{ex.GetType().Name}: {ex.Message}";
            return Fail(new SendFailure(Guid.Empty, "fetch", null, what, elapsed.Elapsed, IsClear: false));
        }
    }

    /// <summary>
    /// What a client does once the relay answers again: sends every envelope it has no
    /// acknowledgement for again, with the same message id. Each must now be acknowledged (a
    /// duplicate when the first attempt had been stored after all).
    /// </summary>
    public async Task<int> RetryUnansweredAsync(RelayApi api, TimeSpan timeout, string context, ServerProcess server)
    {
        int duplicates = 0;
        foreach (SendEnvelope envelope in Attempted.Values.Where(e => !Acknowledged.ContainsKey(e.MessageId)).OrderBy(e => e.MessageId).ToList())
        {
            using CancellationTokenSource cancel = new(timeout);
            SendResult result;
            try
            {
                result = await api.SendAsync(envelope, cancel.Token).WaitAsync(timeout + TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is RelayApiException or HttpRequestException or OperationCanceledException or TimeoutException)
            {
                Assert.Fail($"{context}: the retry of unanswered {envelope.MessageId} failed after the relay recovered: {ex.GetType().Name}: {ex.Message}{Environment.NewLine}{server.Output}");
                throw;
            }

            Assert.Equal(envelope.MessageId, result.MessageId);
            duplicates += result.Duplicate ? 1 : 0;
            Record(envelope, result);
        }

        return duplicates;
    }

    /// <summary>
    /// Checks the inbox of one recipient device against the ledger: nothing delivered twice, nothing
    /// that was never sent, every ciphertext byte for byte, every acknowledged send delivered as the
    /// seq it was acknowledged with; with <paramref name="everyAttemptRetried"/>, every attempted send delivered.
    /// </summary>
    public void Verify(IReadOnlyList<EnvelopeDelivery> delivered, Guid conversation, bool everyAttemptRetried, string context, ServerProcess server)
    {
        HashSet<Guid> seen = [];
        foreach (EnvelopeDelivery envelope in delivered)
        {
            Assert.True(envelope.ConversationId == conversation, $"{context}: an envelope of another conversation {envelope.ConversationId} was delivered.");
            Assert.True(seen.Add(envelope.MessageId), string.Create(CultureInfo.InvariantCulture,
                $"{context}: {envelope.MessageId} (seq {envelope.Seq}) was delivered twice.{Environment.NewLine}{server.Output}"));
            Assert.True(Attempted.TryGetValue(envelope.MessageId, out SendEnvelope? sent), string.Create(CultureInfo.InvariantCulture,
                $"{context}: {envelope.MessageId} (seq {envelope.Seq}) was delivered but never sent."));
            Assert.True(sent.Ciphertext.AsSpan().SequenceEqual(envelope.Ciphertext), string.Create(CultureInfo.InvariantCulture,
                $"{context}: the ciphertext delivered for {envelope.MessageId} (seq {envelope.Seq}) differs from what was sent."));
            if (Acknowledged.TryGetValue(envelope.MessageId, out SendResult? acknowledged))
            {
                Assert.True(acknowledged.Seq == envelope.Seq, string.Create(CultureInfo.InvariantCulture,
                    $"{context}: {envelope.MessageId} was delivered as seq {envelope.Seq}; the relay acknowledged it as seq {acknowledged.Seq}."));
            }
        }

        List<KeyValuePair<Guid, SendResult>> lost = [.. Acknowledged.Where(p => !seen.Contains(p.Key)).OrderBy(p => p.Value.Seq)];
        Assert.True(lost.Count == 0, string.Create(CultureInfo.InvariantCulture,
            $"{context}: {lost.Count} of {Acknowledged.Count} acknowledged sends were not delivered, e.g. " +
            $"{string.Join(", ", lost.Take(10).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} (seq {p.Value.Seq})")))}.{Environment.NewLine}{server.Output}"));
        if (everyAttemptRetried)
        {
            List<Guid> missing = [.. Attempted.Keys.Where(id => !seen.Contains(id))];
            Assert.True(missing.Count == 0, string.Create(CultureInfo.InvariantCulture,
                $"{context}: {missing.Count} of {Attempted.Count} attempted sends were not delivered, e.g. {string.Join(", ", missing.Take(10))}."));
        }
    }

    /// <summary>Failures grouped by what the sender saw, most frequent first: "503 'detail' x12; ...".</summary>
    public string DescribeFailures(int max = 8) =>
        Failures.IsEmpty
            ? "none"
            : string.Join("; ", Failures
                .GroupBy(f => (f.Transport, f.Status, f.Detail))
                .OrderByDescending(g => g.Count())
                .Take(max)
                .Select(g => string.Create(CultureInfo.InvariantCulture,
                    $"{g.Key.Transport} {(g.Key.Status is { } status ? status.ToString(CultureInfo.InvariantCulture) : "-")} '{g.Key.Detail}' x{g.Count()} (after {g.Min(f => f.Elapsed.TotalSeconds):0.0}-{g.Max(f => f.Elapsed.TotalSeconds):0.0} s)")));

    private static bool IsExplained(string? detail) => !string.IsNullOrWhiteSpace(detail);

    private void Record(SendEnvelope envelope, SendResult result)
    {
        Assert.Equal(envelope.MessageId, result.MessageId);
        SendResult first = Acknowledged.GetOrAdd(envelope.MessageId, result);
        Assert.True(first.Seq == result.Seq, string.Create(CultureInfo.InvariantCulture,
            $"{envelope.MessageId} was acknowledged as seq {first.Seq} and, sent again, as seq {result.Seq}."));
    }

    private SendFailure Fail(SendFailure failure)
    {
        Failures.Enqueue(failure);
        return failure;
    }
}

/// <summary>One send that was not acknowledged: how (status and detail, or what the transport said) and after how long.</summary>
public sealed record SendFailure(Guid MessageId, string Transport, int? Status, string Detail, TimeSpan Elapsed, bool IsClear);

/// <summary>Alice (the sender) and Bob (the recipient) in a direct conversation on a server process.</summary>
public sealed class FaultPair : IDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(20);

    private FaultPair(DeviceIdentity alice, DeviceIdentity bob, RelayApi aliceApi, RelayApi bobApi, Guid conversation)
    {
        Alice = alice;
        Bob = bob;
        AliceApi = aliceApi;
        BobApi = bobApi;
        Conversation = conversation;
    }

    public DeviceIdentity Alice { get; }

    public DeviceIdentity Bob { get; }

    public RelayApi AliceApi { get; private set; }

    public RelayApi BobApi { get; private set; }

    public Guid Conversation { get; }

    public static async Task<FaultPair> SignUpAsync(ServerProcess server)
    {
        DeviceIdentity alice = DeviceIdentity.CreateAccount();
        DeviceIdentity bob = DeviceIdentity.CreateAccount();
        RelayApi aliceApi = CreateApi(server);
        RelayApi bobApi = CreateApi(server);
        try
        {
            await aliceApi.RegisterAccountAsync(alice).WaitAsync(CallTimeout);
            await aliceApi.LoginAsync(alice).WaitAsync(CallTimeout);
            await bobApi.RegisterAccountAsync(bob).WaitAsync(CallTimeout);
            await bobApi.LoginAsync(bob).WaitAsync(CallTimeout);
            Guid conversation = (await aliceApi.OpenDirectConversationAsync(bob.AccountId).WaitAsync(CallTimeout)).ConversationId;
            return new FaultPair(alice, bob, aliceApi, bobApi, conversation);
        }
        catch
        {
            aliceApi.Dispose();
            bobApi.Dispose();
            alice.Dispose();
            bob.Dispose();
            throw;
        }
    }

    /// <summary>Signs both devices in again on <paramref name="server"/> (a restarted process on the same data).</summary>
    public async Task LogInAgainAsync(ServerProcess server)
    {
        AliceApi.Dispose();
        BobApi.Dispose();
        AliceApi = CreateApi(server);
        BobApi = CreateApi(server);
        await AliceApi.LoginAsync(Alice).WaitAsync(CallTimeout);
        await BobApi.LoginAsync(Bob).WaitAsync(CallTimeout);
    }

    /// <summary>
    /// A client without HttpClient's own timeout: every call is bounded by its caller instead, so
    /// a slow answer is seen for what it is rather than cut off at HttpClient's 100 s or 30 s.
    /// </summary>
    public static RelayApi CreateApi(ServerProcess server) => new(new HttpClient { BaseAddress = server.Address, Timeout = Timeout.InfiniteTimeSpan });

    /// <summary>An envelope of about <paramref name="size"/> bytes of ciphertext (padded to its bucket).</summary>
    public SendEnvelope Envelope(string label, int size = 0) =>
        TestDevice.Envelope(Conversation, label.Length >= size ? label : label + new string('.', size - label.Length));

    /// <summary>Fetches and acknowledges Bob's inbox page by page until it is empty.</summary>
    public async Task<List<EnvelopeDelivery>> DrainBobAsync(string context)
    {
        List<EnvelopeDelivery> delivered = [];
        for (int page = 0; page < 1000; page++)
        {
            InboxPage inbox = await BobApi.FetchAsync(Limits.MaxFetchPageSize).WaitAsync(CallTimeout);
            if (inbox.Envelopes.Count == 0)
            {
                Assert.False(inbox.More, $"{context}: Bob's inbox page is empty but says there is more.");
                return delivered;
            }

            delivered.AddRange(inbox.Envelopes);
            await BobApi.AckAsync([.. inbox.Envelopes.GroupBy(e => e.ConversationId).Select(g => new Ack(g.Key, g.Max(e => e.Seq)))]).WaitAsync(CallTimeout);
        }

        Assert.Fail($"{context}: Bob's inbox did not drain in 1000 pages.");
        return delivered;
    }

    public void Dispose()
    {
        AliceApi.Dispose();
        BobApi.Dispose();
        Alice.Dispose();
        Bob.Dispose();
    }
}

/// <summary>Plain HTTP probes of a server process: /healthz, and the metrics endpoint when the process was started with them.</summary>
public static class Probes
{
    /// <summary>The settings that turn the metrics endpoint on with <paramref name="token"/>.</summary>
    public static string[] MetricsSettings(string token) => ["--Metrics:Enabled=true", $"--Metrics:Token={token}"];

    /// <summary>The /healthz status, or null when it did not answer within <paramref name="timeout"/>.</summary>
    public static async Task<HttpStatusCode?> HealthAsync(ServerProcess server, TimeSpan timeout)
    {
        using HttpClient http = new() { BaseAddress = server.Address, Timeout = timeout };
        try
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Polls /healthz until it answers 200; returns how long that took, or fails after <paramref name="within"/>.</summary>
    public static async Task<TimeSpan> UntilHealthyAsync(ServerProcess server, TimeSpan within, string context)
    {
        Stopwatch elapsed = Stopwatch.StartNew();
        HttpStatusCode? last = null;
        while (elapsed.Elapsed < within)
        {
            last = await HealthAsync(server, TimeSpan.FromSeconds(5));
            if (last == HttpStatusCode.OK)
            {
                return elapsed.Elapsed;
            }

            await Task.Delay(100);
        }

        Assert.Fail(string.Create(CultureInfo.InvariantCulture,
            $"{context}: /healthz did not return to 200 within {within.TotalSeconds:0} s (last: {(last is { } status ? ((int)status).ToString(CultureInfo.InvariantCulture) : "no answer")}).{Environment.NewLine}{server.Output}"));
        return elapsed.Elapsed;
    }

    /// <summary>
    /// The server's warnings and errors, each with its first message line ("warn: Category[id] message"),
    /// distinct and in order: what an operator would see in the journal during the fault.
    /// </summary>
    public static IReadOnlyList<string> Warnings(ServerProcess server)
    {
        IReadOnlyList<string> lines = server.StandardOutput;
        List<string> warnings = [];
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].StartsWith("warn: ", StringComparison.Ordinal) || lines[i].StartsWith("fail: ", StringComparison.Ordinal) || lines[i].StartsWith("crit: ", StringComparison.Ordinal))
            {
                string message = i + 1 < lines.Count ? lines[i + 1].Trim() : "";
                warnings.Add($"{lines[i]} {message}");
            }
        }

        return [.. warnings.Distinct()];
    }

    /// <summary>The metric lines whose name contains one of <paramref name="names"/> (or why metrics could not be read).</summary>
    public static async Task<IReadOnlyList<string>> MetricLinesAsync(ServerProcess server, string token, params string[] names)
    {
        using HttpClient http = new() { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri("metrics", UriKind.Relative));
            string text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                return [string.Create(CultureInfo.InvariantCulture, $"metrics unreadable: {(int)response.StatusCode} {text}")];
            }

            return [.. text.Split('\n').Where(l => !l.StartsWith('#') && names.Any(n => l.Contains(n, StringComparison.Ordinal)))];
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return [$"metrics unreadable: {ex.Message}"];
        }
    }
}
