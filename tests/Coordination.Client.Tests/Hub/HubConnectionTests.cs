using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Coordination.Client.Hub;
using Coordination.Protocol;

namespace Coordination.Client.Tests.Hub;

/// <summary>The client against a real ASP.NET Core SignalR hub.</summary>
public class HubConnectionTests(HubTestServer server) : IClassFixture<HubTestServer>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Connect_AndInvoke_ReturnsTheServersResult()
    {
        await using HubConnection connection = await ConnectAsync();

        string echoed = await connection.InvokeAsync<string>("Echo", ["hello ✓ \"quoted\""], CancellationToken.None).WaitAsync(Limit);

        Assert.Equal("hello ✓ \"quoted\"", echoed);
        Assert.Equal(HubConnectionState.Connected, connection.State);
    }

    [Fact]
    public async Task Invoke_VoidMethod_CompletesWithoutResult()
    {
        await using HubConnection connection = await ConnectAsync();

        await connection.InvokeAsync("Nothing", [], CancellationToken.None).WaitAsync(Limit);
        string? none = await connection.InvokeAsync<string?>("Nothing", [], CancellationToken.None).WaitAsync(Limit);

        Assert.Null(none);
    }

    [Fact]
    public async Task Invoke_HubException_SurfacesTheServersMessage_AndTheConnectionStaysUsable()
    {
        await using HubConnection connection = await ConnectAsync();

        HubInvocationException error = await Assert.ThrowsAsync<HubInvocationException>(
            () => connection.InvokeAsync("Fail", ["no such conversation"], CancellationToken.None).WaitAsync(Limit));

        Assert.Equal("An unexpected error occurred invoking 'Fail' on the server. HubException: no such conversation", error.Message);
        Assert.Equal("Fail", error.Method);
        Assert.Equal("still here", await connection.InvokeAsync<string>("Echo", ["still here"], CancellationToken.None).WaitAsync(Limit));
    }

    [Fact]
    public async Task Invoke_UnexpectedServerException_WithDetailedErrors_CarriesItsMessage()
    {
        await using HubConnection connection = await ConnectAsync();

        HubInvocationException error = await Assert.ThrowsAsync<HubInvocationException>(
            () => connection.InvokeAsync<int>("Crash", [], CancellationToken.None).WaitAsync(Limit));

        Assert.Contains("InvalidOperationException: kaboom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_UnknownMethod_FailsWithTheServersError()
    {
        await using HubConnection connection = await ConnectAsync();

        HubInvocationException error = await Assert.ThrowsAsync<HubInvocationException>(
            () => connection.InvokeAsync("NoSuchMethod", [], CancellationToken.None).WaitAsync(Limit));

        Assert.Contains("NoSuchMethod", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerCallback_WithTypedObjectAndByteArray_RoundTrips()
    {
        await using HubConnection connection = await ConnectAsync();
        var received = new TaskCompletionSource<EnvelopeDelivery>(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = connection.On<EnvelopeDelivery>(nameof(IRelayClient.ReceiveEnvelope), envelope =>
        {
            received.TrySetResult(envelope);
            return Task.CompletedTask;
        });
        var sent = new EnvelopeDelivery(Guid.NewGuid(), 42, Guid.NewGuid(), RandomNumberGenerator.GetBytes(1024), 1_700_000_000_000);

        await connection.InvokeAsync("Deliver", [sent], CancellationToken.None).WaitAsync(Limit);
        EnvelopeDelivery got = await received.Task.WaitAsync(Limit);

        Assert.Equal(sent.ConversationId, got.ConversationId);
        Assert.Equal(sent.Seq, got.Seq);
        Assert.Equal(sent.MessageId, got.MessageId);
        Assert.Equal(sent.ExpiresAt, got.ExpiresAt);
        Assert.Equal(sent.Ciphertext, got.Ciphertext);
    }

    [Fact]
    public async Task ServerCallback_WithoutArguments_RunsTheHandler()
    {
        await using HubConnection connection = await ConnectAsync();
        var notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = connection.On("Notified", () =>
        {
            notified.TrySetResult();
            return Task.CompletedTask;
        });

        await connection.InvokeAsync("Notify", [], CancellationToken.None).WaitAsync(Limit);

        await notified.Task.WaitAsync(Limit);
    }

    [Fact]
    public async Task ConcurrentInvokes_EachCompleteWithTheirOwnResult()
    {
        await using HubConnection connection = await ConnectAsync();
        const int count = 40;

        // Later invocations finish sooner, so completions arrive out of order.
        Task<int>[] calls = Enumerable.Range(0, count)
            .Select(i => Task.Run(() => connection.InvokeAsync<int>("Delayed", [i, (count - i) % 8 * 15], CancellationToken.None)))
            .ToArray();
        int[] results = await Task.WhenAll(calls).WaitAsync(Limit);

        Assert.Equal(Enumerable.Range(0, count), results);
    }

    [Fact]
    public async Task ServerInvocations_RunOneAtATime_InOrderOfArrival()
    {
        await using HubConnection connection = await ConnectAsync();
        const int count = 50;
        var seen = new ConcurrentQueue<int>();
        int running = 0;
        int maxRunning = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = connection.On<int>("Item", async item =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            await Task.Delay(1);
            seen.Enqueue(item);
            Interlocked.Decrement(ref running);
            if (item == count - 1)
            {
                done.TrySetResult();
            }
        });

        await connection.InvokeAsync("Burst", [count], CancellationToken.None).WaitAsync(Limit);
        await done.Task.WaitAsync(Limit);

        Assert.Equal(Enumerable.Range(0, count), seen);
        Assert.Equal(1, maxRunning);
    }

    [Fact]
    public async Task SlowHandler_DoesNotDelayCompletions()
    {
        await using HubConnection connection = await ConnectAsync();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = connection.On("Notified", () =>
        {
            entered.TrySetResult();
            return gate.Task;
        });

        await connection.InvokeAsync("Notify", [], CancellationToken.None).WaitAsync(Limit);
        await entered.Task.WaitAsync(Limit);

        // The handler is still blocked; completions keep flowing.
        Assert.Equal("through", await connection.InvokeAsync<string>("Echo", ["through"], CancellationToken.None).WaitAsync(Limit));
        Assert.False(gate.Task.IsCompleted);
        gate.SetResult();
    }

    [Fact]
    public async Task HandlerException_IsReportedThroughError_AndLaterInvocationsStillRun()
    {
        await using HubConnection connection = await ConnectAsync();
        var errors = new ConcurrentQueue<HubErrorEventArgs>();
        connection.Error += (_, e) => errors.Enqueue(e);
        var second = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = connection.On<int>("Item", item =>
        {
            if (item == 0)
            {
                throw new InvalidOperationException("handler failed");
            }

            second.TrySetResult(item);
            return Task.CompletedTask;
        });

        await connection.InvokeAsync("Burst", [2], CancellationToken.None).WaitAsync(Limit);

        Assert.Equal(1, await second.Task.WaitAsync(Limit));
        HubErrorEventArgs error = Assert.Single(errors);
        Assert.Equal("Item", error.Method);
        Assert.Equal("handler failed", error.Exception.Message);
        Assert.Equal(HubConnectionState.Connected, connection.State);
    }

    [Fact]
    public async Task DisposedHandler_IsNoLongerCalled_AndSendAsyncReachesTheServer()
    {
        await using HubConnection connection = await ConnectAsync();
        var removed = new ConcurrentQueue<string>();
        var kept = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable first = connection.On<string>("Recorded", value =>
        {
            removed.Enqueue(value);
            return Task.CompletedTask;
        });
        using IDisposable second = connection.On<string>("recorded", value =>
        {
            kept.TrySetResult(value);
            return Task.CompletedTask;
        });
        first.Dispose();
        first.Dispose();

        await connection.SendAsync("Record", ["fire and forget"], CancellationToken.None).WaitAsync(Limit);

        Assert.Equal("fire and forget", await kept.Task.WaitAsync(Limit));
        Assert.Empty(removed);
    }

    [Fact]
    public async Task HandlersFallingTooFarBehind_CloseTheConnection_InsteadOfBufferingWithoutBound()
    {
        var options = new HubConnectionOptions { MaxQueuedServerInvocations = 4 };
        await using HubConnection connection = await ConnectAsync(options: options);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = connection.On<int>("Item", _ => gate.Task);
        Task<int> pending = connection.InvokeAsync<int>("Delayed", [1, 30_000], CancellationToken.None);

        await connection.SendAsync("Burst", [50], CancellationToken.None).WaitAsync(Limit);

        // Pending invocations fail at once; Closed waits for the handler that is still running.
        HubConnectionClosedException failed = await Assert.ThrowsAsync<HubConnectionClosedException>(() => pending.WaitAsync(Limit));
        HubClientException reason = Assert.IsType<HubClientException>(failed.Reason);
        Assert.Contains("More than 4 server invocations", reason.Message, StringComparison.Ordinal);
        Assert.False(connection.ConnectionClosed.IsCompleted);
        gate.SetResult();
        Assert.Same(reason, await connection.ConnectionClosed.WaitAsync(Limit));
    }

    [Fact]
    public async Task ClientResultRequest_IsAnsweredWithAnError()
    {
        await using HubConnection connection = await ConnectAsync();

        HubInvocationException error = await Assert.ThrowsAsync<HubInvocationException>(
            () => connection.InvokeAsync<string>("AskClient", [], CancellationToken.None).WaitAsync(Limit));

        Assert.Contains("Client didn't provide a result.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_AbandonsTheWait_ButKeepsTheConnection()
    {
        await using HubConnection connection = await ConnectAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => connection.InvokeAsync<int>("Delayed", [1, 1000], cancel.Token).WaitAsync(Limit));

        Assert.Equal(HubConnectionState.Connected, connection.State);
        Assert.Equal(2, await connection.InvokeAsync<int>("Delayed", [2, 1200], CancellationToken.None).WaitAsync(Limit));
    }

    [Fact]
    public async Task OversizedIncomingMessage_ClosesTheConnectionWithAnError()
    {
        var options = new HubConnectionOptions { MaxMessageBytes = 1024 };
        await using HubConnection connection = await ConnectAsync(options: options);
        var closedWith = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += reason =>
        {
            closedWith.TrySetResult(reason);
            return Task.CompletedTask;
        };

        // Just under the limit is fine.
        Assert.Equal(900, (await connection.InvokeAsync<string>("Big", [900], CancellationToken.None).WaitAsync(Limit)).Length);
        HubConnectionClosedException failed = await Assert.ThrowsAsync<HubConnectionClosedException>(
            () => connection.InvokeAsync<string>("Big", [4000], CancellationToken.None).WaitAsync(Limit));

        Assert.IsType<HubProtocolException>(failed.Reason);
        Assert.IsType<HubProtocolException>(await closedWith.Task.WaitAsync(Limit));
        Assert.IsType<HubProtocolException>(await connection.ConnectionClosed.WaitAsync(Limit));
        Assert.Equal(HubConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task ServerAbort_RaisesClosedOnce_AndFailsPendingInvocations()
    {
        const string token = "abort-token";
        await using HubConnection connection = await ConnectAsync(token);
        int closedCount = 0;
        connection.Closed += _ =>
        {
            Interlocked.Increment(ref closedCount);
            return Task.CompletedTask;
        };
        Task<int> pending = connection.InvokeAsync<int>("Delayed", [1, 30_000], CancellationToken.None);

        await connection.SendAsync("Abort", [], CancellationToken.None).WaitAsync(Limit);

        HubConnectionClosedException failed = await Assert.ThrowsAsync<HubConnectionClosedException>(() => pending.WaitAsync(Limit));
        Exception? reason = await connection.ConnectionClosed.WaitAsync(Limit);
        await server.Observations.Disconnected("header:" + token).WaitAsync(Limit);

        // Context.Abort() makes the server send an empty Close message ({"type":7}): a clean close.
        Assert.Null(reason);
        Assert.Null(failed.Reason);
        await Task.Delay(200);
        Assert.Equal(1, closedCount);
        Assert.Equal(HubConnectionState.Closed, connection.State);
        await Assert.ThrowsAsync<HubConnectionClosedException>(() => connection.InvokeAsync("Nothing", [], CancellationToken.None).WaitAsync(Limit));
        await Assert.ThrowsAsync<HubConnectionClosedException>(() => connection.SendAsync("Nothing", [], CancellationToken.None).WaitAsync(Limit));
    }

    [Fact]
    public async Task Dispose_IsIdempotent_ClosesCleanly_AndFailsPendingInvocations()
    {
        const string token = "dispose-token";
        HubConnection connection = await ConnectAsync(token);
        int closedCount = 0;
        Exception? closedWith = new InvalidOperationException("not raised");
        connection.Closed += reason =>
        {
            Interlocked.Increment(ref closedCount);
            closedWith = reason;
            return Task.CompletedTask;
        };
        Task<int> pending = connection.InvokeAsync<int>("Delayed", [1, 30_000], CancellationToken.None);
        Assert.Equal("sent", await connection.InvokeAsync<string>("Echo", ["sent"], CancellationToken.None).WaitAsync(Limit));

        await connection.DisposeAsync().AsTask().WaitAsync(Limit);
        await connection.DisposeAsync().AsTask().WaitAsync(Limit);

        HubConnectionClosedException failed = await Assert.ThrowsAsync<HubConnectionClosedException>(() => pending.WaitAsync(Limit));
        Assert.Null(failed.Reason);
        Assert.Null(await connection.ConnectionClosed.WaitAsync(Limit));
        Assert.Equal(1, closedCount);
        Assert.Null(closedWith);
        Assert.Equal(HubConnectionState.Closed, connection.State);

        // The server saw a clean close (a close frame), not a dropped connection.
        Assert.Null(await server.Observations.Disconnected("header:" + token).WaitAsync(Limit));
    }

    [Fact]
    public async Task DisposeAsync_FromAClosedCallback_DoesNotDeadlock()
    {
        HubConnection connection = await ConnectAsync();
        var disposedInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += async _ =>
        {
            await connection.DisposeAsync();
            disposedInside.TrySetResult();
        };

        await connection.SendAsync("Abort", [], CancellationToken.None).WaitAsync(Limit);

        await disposedInside.Task.WaitAsync(Limit);
        await connection.DisposeAsync().AsTask().WaitAsync(Limit);
    }

    [Fact]
    public async Task Token_IsSentAsBearerHeader_ByDefault()
    {
        await using HubConnection connection = await ConnectAsync("header-secret");

        Assert.Equal("header:header-secret", await connection.InvokeAsync<string>("WhoAmI", [], CancellationToken.None).WaitAsync(Limit));
    }

    [Fact]
    public async Task Token_IsSentAsEscapedQueryParameter_WithTheOption()
    {
        const string token = "a+b/c=d&e é";
        await using HubConnection connection = await ConnectAsync(token, new HubConnectionOptions { TokenInQueryString = true });

        // Only the query carries it: the hub prefers the header when both are present.
        Assert.Equal("query:" + token, await connection.InvokeAsync<string>("WhoAmI", [], CancellationToken.None).WaitAsync(Limit));
    }

    [Fact]
    public async Task MissingToken_ServerClosesWithItsError()
    {
        await using HubConnection connection = await ConnectAsync(token: null);

        Exception? reason = await connection.ConnectionClosed.WaitAsync(Limit);

        HubServerClosedException closed = Assert.IsType<HubServerClosedException>(reason);
        Assert.Contains("A token is required.", closed.ServerError, StringComparison.Ordinal);
        Assert.False(closed.AllowReconnect);
        Assert.Equal(HubConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task ConnectFailure_DoesNotExposeTheToken()
    {
        const string token = "never-show-this-token";

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => HubConnection.ConnectAsync(
            server.Url("/no-such-hub"), token, new HubConnectionOptions { TokenInQueryString = true }, CancellationToken.None).WaitAsync(Limit));

        Assert.DoesNotContain(token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configure_RunsBeforeTheLoopsStart()
    {
        HubConnection? seen = null;
        await using HubConnection connection = await HubConnection.ConnectAsync(
            server.Url(HubTestServer.HubPath), "token", options: null, c => seen = c, CancellationToken.None).WaitAsync(Limit);

        Assert.Same(connection, seen);
    }

    private Task<HubConnection> ConnectAsync(string? token = "token", HubConnectionOptions? options = null) =>
        HubConnection.ConnectAsync(server.Url(HubTestServer.HubPath), token, options, CancellationToken.None).WaitAsync(Limit);

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

/// <summary>The client against hand-written WebSocket servers: framing, handshake and close edge cases.</summary>
public class RawServerTests(HubTestServer server) : IClassFixture<HubTestServer>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RecordsInOneMessage_AndRecordsSplitAcrossFrames_AreAllDelivered()
    {
        var notes = new ConcurrentQueue<string>();
        var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The handshake response shares its message with two invocations: handlers must exist before the loops start.
        await using HubConnection connection = await HubConnection.ConnectAsync(Url("framing"), "token", options: null, c => c.On<string>("Note", note =>
        {
            notes.Enqueue(note);
            if (note == "third")
            {
                third.TrySetResult();
            }

            return Task.CompletedTask;
        }), CancellationToken.None).WaitAsync(Limit);

        string echoed = await connection.InvokeAsync<string>("Echo", ["✓"], CancellationToken.None).WaitAsync(Limit);
        await third.Task.WaitAsync(Limit);

        Assert.Equal("echo:é✓", echoed);
        Assert.Equal(["first", "second", "third"], notes);
    }

    [Fact]
    public async Task HandshakeError_ThrowsWithTheServersMessage()
    {
        HubHandshakeException error = await Assert.ThrowsAsync<HubHandshakeException>(
            () => HubConnection.ConnectAsync(Url("handshake-error"), "token", null, CancellationToken.None).WaitAsync(Limit));

        Assert.Contains("Requested protocol 'json' is not available.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoHandshakeResponse_TimesOut()
    {
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAsync<TimeoutException>(() => HubConnection.ConnectAsync(
            Url("silent"), "token", new HubConnectionOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) }, CancellationToken.None).WaitAsync(Limit));

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(250), $"gave up after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task SilentServer_ClosesWithTimeoutAfterServerTimeout()
    {
        var options = new HubConnectionOptions { ServerTimeout = TimeSpan.FromMilliseconds(300), KeepAliveInterval = TimeSpan.FromMilliseconds(100) };
        await using HubConnection connection = await HubConnection.ConnectAsync(Url("quiet-after-handshake"), "token", options, CancellationToken.None).WaitAsync(Limit);
        var stopwatch = Stopwatch.StartNew();

        Exception? reason = await connection.ConnectionClosed.WaitAsync(Limit);

        Assert.IsType<TimeoutException>(reason);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(200), $"closed after {stopwatch.Elapsed}");
        Assert.Equal(HubConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task CloseMessageWithError_ClosesWithServerError()
    {
        await using HubConnection connection = await HubConnection.ConnectAsync(Url("server-close-error"), "token", null, CancellationToken.None).WaitAsync(Limit);

        HubServerClosedException closed = Assert.IsType<HubServerClosedException>(await connection.ConnectionClosed.WaitAsync(Limit));

        Assert.Equal("Server is shutting down.", closed.ServerError);
        Assert.True(closed.AllowReconnect);
    }

    [Fact]
    public async Task WebSocketCloseWithErrorStatus_ClosesWithServerError()
    {
        await using HubConnection connection = await HubConnection.ConnectAsync(Url("websocket-close-error"), "token", null, CancellationToken.None).WaitAsync(Limit);

        HubServerClosedException closed = Assert.IsType<HubServerClosedException>(await connection.ConnectionClosed.WaitAsync(Limit));

        Assert.Contains("1008", closed.Message, StringComparison.Ordinal);
        Assert.Contains("go away", closed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SocketDrop_FailsPendingInvocations_AndRaisesClosedOnceWithTheError()
    {
        await using HubConnection connection = await HubConnection.ConnectAsync(Url("drop-after-invocation"), "token", null, CancellationToken.None).WaitAsync(Limit);
        int closedCount = 0;
        connection.Closed += _ =>
        {
            Interlocked.Increment(ref closedCount);
            return Task.CompletedTask;
        };

        HubConnectionClosedException failed = await Assert.ThrowsAsync<HubConnectionClosedException>(
            () => connection.InvokeAsync<string>("Echo", ["x"], CancellationToken.None).WaitAsync(Limit));
        Exception? reason = await connection.ConnectionClosed.WaitAsync(Limit);

        Assert.NotNull(reason);
        Assert.Same(reason, failed.Reason);
        Assert.Equal(1, closedCount);
    }

    [Fact]
    public async Task KeepAlive_SendsPingsWhenNothingElseIsSent()
    {
        var options = new HubConnectionOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(100) };

        (int pings, int others, long milliseconds) = await CountPingsAsync(options, "count-three-pings");

        // Pings come by themselves (a loaded machine may delay them) and never more than one per interval.
        Assert.True(pings >= 3, $"{pings} pings in {milliseconds} ms");
        Assert.True(pings <= (milliseconds / 100) + 2, $"{pings} pings in {milliseconds} ms: more than one per 100 ms interval");
        Assert.Equal(0, others);
    }

    [Fact]
    public async Task KeepAlive_Off_SendsNoPings()
    {
        var options = new HubConnectionOptions { KeepAliveInterval = Timeout.InfiniteTimeSpan };

        (int pings, int others, _) = await CountPingsAsync(options, "count-pings");

        Assert.Equal(0, pings);
        Assert.Equal(0, others);
    }

    private async Task<(int Pings, int Others, long Milliseconds)> CountPingsAsync(HubConnectionOptions options, string scenario)
    {
        var counted = new TaskCompletionSource<long[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using HubConnection connection = await HubConnection.ConnectAsync(Url(scenario), "token", options, c => c.On<long[]>("Pings", counts =>
        {
            counted.TrySetResult(counts);
            return Task.CompletedTask;
        }), CancellationToken.None).WaitAsync(Limit);

        long[] result = await counted.Task.WaitAsync(Limit);
        return ((int)result[0], (int)result[1], result[2]);
    }

    private Uri Url(string scenario) => server.Url("/raw/" + scenario);
}
