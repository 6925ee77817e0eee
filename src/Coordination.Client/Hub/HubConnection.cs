using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Coordination.Client.Hub;

/// <summary>
/// A SignalR client for the JSON hub protocol (version 1) over one WebSocket, without the negotiate
/// request. One instance is one connection: it never reconnects; a reconnecting client creates a new
/// one (see <see cref="Closed"/> and <see cref="HubServerClosedException.AllowReconnect"/>).
/// </summary>
/// <remarks>
/// <para>
/// Three loops run per connection: the receive loop (framing, completions, close), the handler loop
/// (server-to-client invocations, one at a time in order of arrival, so a slow handler never delays
/// a completion) and the timer loop (keep-alive pings, server timeout).
/// </para>
/// <para>
/// When the connection closes, pending invocations fail with <see cref="HubConnectionClosedException"/>,
/// server invocations already received still reach their handlers (unless the connection was disposed),
/// then <see cref="Closed"/> is raised once and <see cref="ConnectionClosed"/> completes.
/// </para>
/// <para>The access token is only handed to the WebSocket; it is never stored, logged or put in a message.</para>
/// </remarks>
public sealed class HubConnection : IAsyncDisposable
{
    private const int InvocationMessageType = 1;
    private const int CompletionMessageType = 3;
    private const int CloseMessageType = 7;

    /// <summary>What the .NET client answers when the server asks for a client result it has no handler for.</summary>
    private const string NoClientResultError = "Client didn't provide a result.";

    private static readonly byte[] _handshakeRequest = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] _pingRecord = "{\"type\":6}\u001e"u8.ToArray();

    private readonly ClientWebSocket _socket;
    private readonly RecordFramer _framer;
    private readonly JsonSerializerOptions _json;
    private readonly TimeSpan _keepAliveInterval;
    private readonly TimeSpan _serverTimeout;
    private readonly TimeSpan _closeTimeout;
    private readonly int _maxQueuedInvocations;

    // ClientWebSocket allows one send at a time (close frames included).
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    // Cancelled when the connection is torn down; cancelling a socket operation aborts the socket.
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _stateLock = new();
    private readonly ConcurrentDictionary<string, PendingInvocation> _pending = new(StringComparer.Ordinal);
    private readonly Lock _handlersLock = new();
    private readonly Dictionary<string, HandlerRegistration[]> _handlers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Channel<ServerInvocation> _inbound;
    private readonly TaskCompletionSource<Exception?> _connectionClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // True on the handler loop (and in handlers and Closed callbacks), which DisposeAsync must not wait for.
    private readonly AsyncLocal<bool> _onHandlerLoop = new();

    private Task _receiveLoop = Task.CompletedTask;
    private Task _handlerLoop = Task.CompletedTask;
    private Task _timerLoop = Task.CompletedTask;
    private long _nextInvocationId;
    private long _lastSendTicks;
    private long _lastReceiveTicks;
    private int _state;
    private Exception? _closeReason;
    private int _disposed;
    private volatile bool _dropQueuedInvocations;

    private HubConnection(ClientWebSocket socket, RecordFramer framer, HubConnectionOptions options)
    {
        _socket = socket;
        _framer = framer;
        _json = options.JsonSerializerOptions ?? JsonSerializerOptions.Web;
        _keepAliveInterval = options.KeepAliveInterval;
        _serverTimeout = options.ServerTimeout;
        _closeTimeout = options.CloseTimeout;
        _maxQueuedInvocations = options.MaxQueuedServerInvocations;
        _inbound = Channel.CreateBounded<ServerInvocation>(new BoundedChannelOptions(_maxQueuedInvocations)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>
    /// Raised once when the connection has closed, after every pending invocation failed and every
    /// server invocation received before the close was handled. The argument is why it closed: null
    /// for a clean close (disposed, or closed by the server without an error). Raised on a background
    /// thread; exceptions from callbacks are reported through <see cref="Error"/>.
    /// </summary>
    public event Func<Exception?, Task>? Closed;

    /// <summary>Failures that do not close the connection: handlers that throw, arguments that cannot be read.</summary>
    public event EventHandler<HubErrorEventArgs>? Error;

    public HubConnectionState State => (HubConnectionState)Volatile.Read(ref _state);

    /// <summary>Completes (never faults) after <see cref="Closed"/> was raised, with the same reason.</summary>
    public Task<Exception?> ConnectionClosed => _connectionClosed.Task;

    private Exception? CloseReason
    {
        get
        {
            lock (_stateLock)
            {
                return _closeReason;
            }
        }
    }

    /// <summary>Opens the WebSocket to <paramref name="hubUrl"/> (http→ws, https→wss) and performs the SignalR handshake.</summary>
    /// <exception cref="TimeoutException">Connecting and the handshake took longer than <see cref="HubConnectionOptions.HandshakeTimeout"/>.</exception>
    /// <exception cref="HubHandshakeException">The server refused the handshake.</exception>
    /// <exception cref="WebSocketException">The WebSocket could not be opened (refused, 401, ...).</exception>
    public static Task<HubConnection> ConnectAsync(Uri hubUrl, string? accessToken, HubConnectionOptions? options, CancellationToken ct) =>
        ConnectAsync(hubUrl, accessToken, options, configure: null, ct);

    /// <summary>
    /// As <see cref="ConnectAsync(Uri, string?, HubConnectionOptions?, CancellationToken)"/>, and calls
    /// <paramref name="configure"/> after the handshake but before any message from the server is
    /// processed: the place to register handlers so that no early server invocation is missed.
    /// </summary>
    public static async Task<HubConnection> ConnectAsync(Uri hubUrl, string? accessToken, HubConnectionOptions? options, Action<HubConnection>? configure, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(hubUrl);
        options ??= new HubConnectionOptions();
        options.Validate();
        Uri socketUri = BuildSocketUri(hubUrl, accessToken, options.TokenInQueryString);

        var socket = new ClientWebSocket();
        try
        {
            if (!string.IsNullOrEmpty(accessToken) && !options.TokenInQueryString)
            {
                socket.Options.SetRequestHeader("Authorization", "Bearer " + accessToken);
            }

            options.ConfigureWebSocket?.Invoke(socket.Options);
            var framer = new RecordFramer(options.MaxMessageBytes);
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                handshake.CancelAfter(options.HandshakeTimeout);
                try
                {
                    await socket.ConnectAsync(socketUri, handshake.Token).ConfigureAwait(false);
                    await socket.SendAsync(_handshakeRequest, WebSocketMessageType.Text, endOfMessage: true, handshake.Token).ConfigureAwait(false);
                    await ReadHandshakeResponseAsync(socket, framer, handshake.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebSocketException && handshake.IsCancellationRequested)
                {
                    ct.ThrowIfCancellationRequested();
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"The hub connection and handshake did not complete within {options.HandshakeTimeout.TotalSeconds} s."), ex);
                }
            }

            var connection = new HubConnection(socket, framer, options);
            configure?.Invoke(connection);
            connection.Start();
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Invokes a hub method and returns its result.</summary>
    /// <exception cref="HubInvocationException">The server completed the invocation with an error.</exception>
    /// <exception cref="HubConnectionClosedException">The connection closed before the completion arrived.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; the result, if it comes, is discarded.</exception>
    public Task<TResult> InvokeAsync<TResult>(string method, object?[] args, CancellationToken ct) =>
        InvokeCoreAsync<TResult>(method, args, ct);

    /// <summary>Invokes a hub method and waits for it to complete; any result is ignored.</summary>
    /// <inheritdoc cref="InvokeAsync{TResult}(string, object?[], CancellationToken)" path="/exception"/>
    public Task InvokeAsync(string method, object?[] args, CancellationToken ct) =>
        InvokeCoreAsync<IgnoredResult>(method, args, ct);

    /// <summary>Invokes a hub method without waiting for it (no invocation id: the server sends no completion, and no error).</summary>
    /// <exception cref="HubConnectionClosedException">The connection is closed.</exception>
    public async Task SendAsync(string method, object?[] args, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(args);
        ct.ThrowIfCancellationRequested();
        ThrowIfClosed();
        ReadOnlyMemory<byte> record = SerializeInvocation(invocationId: null, method, args);
        await SendRecordAsync(record, ct).ConfigureAwait(false);
    }

    /// <summary>Handles the server-to-client method <paramref name="method"/> (matched case-insensitively) with one argument.</summary>
    /// <returns>Dispose it to remove this handler.</returns>
    public IDisposable On<T>(string method, Func<T, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(handler);
        return Register(method, new HandlerRegistration([typeof(T)], arguments => handler((T)arguments[0]!)));
    }

    /// <summary>Handles the server-to-client method <paramref name="method"/> (matched case-insensitively) without arguments.</summary>
    /// <returns>Dispose it to remove this handler.</returns>
    public IDisposable On(string method, Func<Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(handler);
        return Register(method, new HandlerRegistration([], _ => handler()));
    }

    /// <summary>
    /// Closes the connection: sends a WebSocket close frame (bounded by <see cref="HubConnectionOptions.CloseTimeout"/>),
    /// fails pending invocations, drops queued server invocations, stops the loops and disposes the
    /// socket. Idempotent. Waits for a handler that is running (handlers take no cancellation token);
    /// called from a handler or a <see cref="Closed"/> callback it does not wait for the handler loop
    /// (which is running the caller).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _dropQueuedInvocations = true;
            RequestClose(reason: null);
            if (!_receiveLoop.IsCompleted)
            {
                using (var timeout = new CancellationTokenSource(_closeTimeout))
                {
                    await TrySendCloseFrameAsync(WebSocketCloseStatus.NormalClosure, timeout.Token).ConfigureAwait(false);
                }

                // The server answers the close frame with its own, which ends the receive loop.
                await _receiveLoop.WaitAsync(_closeTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            _stopping.Cancel();
        }

        await _receiveLoop.ConfigureAwait(false);
        await _timerLoop.ConfigureAwait(false);
        if (!_onHandlerLoop.Value)
        {
            await _handlerLoop.ConfigureAwait(false);
        }
    }

    private static Uri BuildSocketUri(Uri hubUrl, string? accessToken, bool tokenInQueryString)
    {
        if (!hubUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("The hub URL must be absolute.", nameof(hubUrl));
        }

        var builder = new UriBuilder(hubUrl)
        {
            Scheme = hubUrl.Scheme switch
            {
                "http" or "ws" => "ws",
                "https" or "wss" => "wss",
                _ => throw new ArgumentException($"The hub URL must be http, https, ws or wss, not '{hubUrl.Scheme}'.", nameof(hubUrl)),
            },
            Fragment = string.Empty,
        };

        if (tokenInQueryString && !string.IsNullOrEmpty(accessToken))
        {
            // As the JavaScript client does for WebSockets.
            string parameter = "access_token=" + Uri.EscapeDataString(accessToken);
            string query = builder.Query.TrimStart('?');
            builder.Query = query.Length == 0 ? parameter : query + "&" + parameter;
        }

        return builder.Uri;
    }

    private static async Task ReadHandshakeResponseAsync(ClientWebSocket socket, RecordFramer framer, CancellationToken ct)
    {
        ReadOnlyMemory<byte> record;
        while (!framer.TryReadRecord(out record))
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(framer.GetMemory(), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new HubHandshakeException(string.Create(CultureInfo.InvariantCulture, $"The server closed the WebSocket during the handshake ({(int?)socket.CloseStatus} {socket.CloseStatusDescription})."));
            }

            framer.Advance(result.Count);
        }

        // Records after the handshake response stay in the framer for the receive loop.
        using JsonDocument response = ParseRecord(record, "handshake response");
        if (response.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new HubHandshakeException("The handshake response is not a JSON object.");
        }

        if (response.RootElement.TryGetProperty("error"u8, out JsonElement error))
        {
            throw new HubHandshakeException($"The server refused the handshake: {(error.ValueKind == JsonValueKind.String ? error.GetString() : error.GetRawText())}");
        }
    }

    private static JsonDocument ParseRecord(ReadOnlyMemory<byte> record, string what)
    {
        try
        {
            return JsonDocument.Parse(record);
        }
        catch (JsonException ex)
        {
            throw new HubProtocolException($"The server sent a {what} that is not valid JSON.", ex);
        }
    }

    private static string? GetOptionalString(JsonElement message, ReadOnlySpan<byte> name) =>
        !message.TryGetProperty(name, out JsonElement value) ? null : value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            _ => throw new HubProtocolException($"The server sent a message whose '{System.Text.Encoding.UTF8.GetString(name)}' is not a string."),
        };

    private void Start()
    {
        long now = Environment.TickCount64;
        _lastSendTicks = now;
        _lastReceiveTicks = now;

        // The loops must not carry the caller's async-locals (or its handler-loop flag) along.
        using (ExecutionContext.SuppressFlow())
        {
            _handlerLoop = Task.Run(HandlerLoopAsync);
            _receiveLoop = Task.Run(ReceiveLoopAsync);
            if (_keepAliveInterval != Timeout.InfiniteTimeSpan || _serverTimeout != Timeout.InfiniteTimeSpan)
            {
                _timerLoop = Task.Run(TimerLoopAsync);
            }
        }
    }

    private async Task<TResult> InvokeCoreAsync<TResult>(string method, object?[] args, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(args);
        ct.ThrowIfCancellationRequested();
        ThrowIfClosed();

        string invocationId = Interlocked.Increment(ref _nextInvocationId).ToString(CultureInfo.InvariantCulture);
        ReadOnlyMemory<byte> record = SerializeInvocation(invocationId, method, args);
        var pending = new PendingInvocation<TResult>(method);
        _pending[invocationId] = pending;
        try
        {
            // A close that started before the entry was added did not see it.
            ThrowIfClosed();
            await SendRecordAsync(record, ct).ConfigureAwait(false);
            return await pending.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            // Gone already when completed; removed here when cancelled or failed to send.
            _pending.TryRemove(invocationId, out _);
        }
    }

    private ReadOnlyMemory<byte> SerializeInvocation(string? invocationId, string method, object?[] args)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = _json.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("type"u8, InvocationMessageType);
            if (invocationId is not null)
            {
                writer.WriteString("invocationId"u8, invocationId);
            }

            writer.WriteString("target"u8, method);
            writer.WriteStartArray("arguments"u8);
            foreach (object? argument in args)
            {
                if (argument is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    JsonSerializer.Serialize(writer, argument, argument.GetType(), _json);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Terminate(buffer);
    }

    private static ReadOnlyMemory<byte> SerializeCompletionError(string invocationId, string error)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("type"u8, CompletionMessageType);
            writer.WriteString("invocationId"u8, invocationId);
            writer.WriteString("error"u8, error);
            writer.WriteEndObject();
        }

        return Terminate(buffer);
    }

    private static ReadOnlyMemory<byte> Terminate(ArrayBufferWriter<byte> buffer)
    {
        buffer.GetSpan(1)[0] = RecordFramer.RecordSeparator;
        buffer.Advance(1);
        return buffer.WrittenMemory;
    }

    private async Task SendRecordAsync(ReadOnlyMemory<byte> record, CancellationToken ct)
    {
        // The caller's token only bounds the wait for the lock: cancelling a WebSocket send aborts the socket.
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            await _socket.SendAsync(record, WebSocketMessageType.Text, endOfMessage: true, _stopping.Token).ConfigureAwait(false);
            Volatile.Write(ref _lastSendTicks, Environment.TickCount64);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket failed or is being torn down: either way the connection is over.
            Abort(ex is OperationCanceledException or ObjectDisposedException ? null : ex);
            throw HubConnectionClosedException.For(CloseReason ?? ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendPingAsync()
    {
        // A send under way keeps the connection alive as well; never queue pings behind it.
        if (!_sendLock.Wait(0))
        {
            return;
        }

        try
        {
            if (State == HubConnectionState.Connected)
            {
                await _socket.SendAsync(_pingRecord, WebSocketMessageType.Text, endOfMessage: true, _stopping.Token).ConfigureAwait(false);
                Volatile.Write(ref _lastSendTicks, Environment.TickCount64);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Abort(ex is OperationCanceledException or ObjectDisposedException ? null : ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task TrySendCloseFrameAsync(WebSocketCloseStatus status, CancellationToken ct)
    {
        try
        {
            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, statusDescription: null, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort: the socket is disposed right after.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            CancellationToken ct = _stopping.Token;

            // Records that arrived together with the handshake response come first.
            bool open = DrainRecords();
            while (open)
            {
                ValueWebSocketReceiveResult result = await _socket.ReceiveAsync(_framer.GetMemory(), ct).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    error = DescribeSocketClose();
                    break;
                }

                Volatile.Write(ref _lastReceiveTicks, Environment.TickCount64);
                _framer.Advance(result.Count);
                open = DrainRecords();
            }
        }
        catch (Exception ex)
        {
            // After a stop on purpose (disposed, or aborted with its reason recorded) the failure is only the echo of it.
            if (!_stopping.IsCancellationRequested)
            {
                error = ex;
            }
        }

        await TeardownAsync(error).ConfigureAwait(false);
    }

    private HubServerClosedException? DescribeSocketClose()
    {
        WebSocketCloseStatus? status = _socket.CloseStatus;
        if (status is null or WebSocketCloseStatus.NormalClosure or WebSocketCloseStatus.Empty)
        {
            return null;
        }

        string description = string.Create(CultureInfo.InvariantCulture, $"{(int)status.Value} {status.Value}: {_socket.CloseStatusDescription}");
        return new HubServerClosedException($"The server closed the WebSocket ({description}).", description, allowReconnect: true);
    }

    /// <returns>False once a Close message was processed.</returns>
    private bool DrainRecords()
    {
        while (_framer.TryReadRecord(out ReadOnlyMemory<byte> record))
        {
            if (!ProcessRecord(record))
            {
                return false;
            }
        }

        return true;
    }

    private bool ProcessRecord(ReadOnlyMemory<byte> record)
    {
        using JsonDocument document = ParseRecord(record, "message");
        JsonElement message = document.RootElement;
        if (message.ValueKind != JsonValueKind.Object
            || !message.TryGetProperty("type"u8, out JsonElement typeElement)
            || typeElement.ValueKind != JsonValueKind.Number
            || !typeElement.TryGetInt32(out int type))
        {
            throw new HubProtocolException("The server sent a message without a numeric 'type'.");
        }

        switch (type)
        {
            case InvocationMessageType:
                EnqueueServerInvocation(message);
                return true;
            case CompletionMessageType:
                CompleteInvocation(message);
                return true;
            case CloseMessageType:
                string? error = GetOptionalString(message, "error"u8);
                bool allowReconnect = message.TryGetProperty("allowReconnect"u8, out JsonElement flag) && flag.ValueKind == JsonValueKind.True;
                RequestClose(error is null ? null : new HubServerClosedException($"The server closed the connection: {error}", error, allowReconnect));
                return false;
            default:
                // Ping (6) needs nothing: any arrival resets the server timeout. Stream items, stream
                // invocations, cancellations, acks and sequence messages belong to features this client
                // never asks for; newer message types are ignored as the protocol requires.
                return true;
        }
    }

    private void EnqueueServerInvocation(JsonElement message)
    {
        string target = GetOptionalString(message, "target"u8) ?? throw new HubProtocolException("The server sent an invocation without a target.");
        string? invocationId = GetOptionalString(message, "invocationId"u8);
        if (!message.TryGetProperty("arguments"u8, out JsonElement arguments) || arguments.ValueKind != JsonValueKind.Array)
        {
            throw new HubProtocolException("The server sent an invocation without an 'arguments' array.");
        }

        // Clone: the record's buffer is reused by the next receive.
        if (!_inbound.Writer.TryWrite(new ServerInvocation(target, invocationId, arguments.Clone())))
        {
            throw new HubClientException(string.Create(CultureInfo.InvariantCulture, $"More than {_maxQueuedInvocations} server invocations are waiting for their handlers; the connection is closed rather than buffering without bound."));
        }
    }

    private void CompleteInvocation(JsonElement message)
    {
        string invocationId = GetOptionalString(message, "invocationId"u8) ?? throw new HubProtocolException("The server sent a completion without an invocation id.");
        if (!_pending.TryRemove(invocationId, out PendingInvocation? pending))
        {
            return; // Abandoned by its caller (cancelled).
        }

        if (GetOptionalString(message, "error"u8) is { } error)
        {
            pending.SetException(new HubInvocationException(pending.Method, error));
        }
        else
        {
            pending.SetResult(message.TryGetProperty("result"u8, out JsonElement result) ? result : null, _json);
        }
    }

    private async Task HandlerLoopAsync()
    {
        _onHandlerLoop.Value = true;

        // Ends when the receive loop's teardown completes the channel.
        await foreach (ServerInvocation invocation in _inbound.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (!_dropQueuedInvocations)
            {
                await DispatchAsync(invocation).ConfigureAwait(false);
            }
        }

        Exception? reason = CloseReason;
        if (Closed is { } closed)
        {
            foreach (Func<Exception?, Task> callback in closed.GetInvocationList().Cast<Func<Exception?, Task>>())
            {
                try
                {
                    await callback(reason).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    ReportError(method: null, ex);
                }
            }
        }

        _connectionClosed.TrySetResult(reason);
    }

    private async Task DispatchAsync(ServerInvocation invocation)
    {
        HandlerRegistration[]? handlers;
        lock (_handlersLock)
        {
            _ = _handlers.TryGetValue(invocation.Target, out handlers);
        }

        foreach (HandlerRegistration handler in handlers ?? [])
        {
            try
            {
                object?[] arguments = handler.Bind(invocation.Arguments, _json);
                await handler.Callback(arguments).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A handler's failure is the application's, not the connection's.
                ReportError(invocation.Target, ex);
            }
        }

        if (invocation.InvocationId is not null)
        {
            // The server asked for a client result; this client never returns one. Answer so the server does not wait.
            try
            {
                await SendRecordAsync(SerializeCompletionError(invocation.InvocationId, NoClientResultError), CancellationToken.None).ConfigureAwait(false);
            }
            catch (HubConnectionClosedException)
            {
                // Nobody is waiting any more.
            }
        }
    }

    private async Task TimerLoopAsync()
    {
        TimeSpan shortest = _serverTimeout == Timeout.InfiniteTimeSpan ? _keepAliveInterval
            : _keepAliveInterval == Timeout.InfiniteTimeSpan ? _serverTimeout
            : TimeSpan.FromTicks(Math.Min(_keepAliveInterval.Ticks, _serverTimeout.Ticks));
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 4, 10, 1000));
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                if (_serverTimeout != Timeout.InfiniteTimeSpan && now - Volatile.Read(ref _lastReceiveTicks) >= (long)_serverTimeout.TotalMilliseconds)
                {
                    Abort(new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Nothing arrived from the server for {_serverTimeout.TotalSeconds} s (ServerTimeout).")));
                    return;
                }

                if (_keepAliveInterval != Timeout.InfiniteTimeSpan && now - Volatile.Read(ref _lastSendTicks) >= (long)_keepAliveInterval.TotalMilliseconds)
                {
                    // Not awaited: a send stuck on a dead peer must not stop the timeout check.
                    _ = SendPingAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Marks the connection closed with <paramref name="reason"/> (the first reason wins) and fails pending invocations.</summary>
    private void RequestClose(Exception? reason)
    {
        lock (_stateLock)
        {
            if (_state == (int)HubConnectionState.Closed)
            {
                return;
            }

            _closeReason = reason;
            Interlocked.Exchange(ref _state, (int)HubConnectionState.Closed);
        }

        FailPendingInvocations();
    }

    /// <summary>Closes without a close handshake: cancels every socket operation, which aborts the socket.</summary>
    private void Abort(Exception? reason)
    {
        RequestClose(reason);
        _stopping.Cancel();
    }

    private async Task TeardownAsync(Exception? receiveError)
    {
        RequestClose(receiveError);
        Exception? reason = CloseReason;

        // Tell the server, unless the socket is already gone or the close was an abort.
        if (!_stopping.IsCancellationRequested)
        {
            using var timeout = new CancellationTokenSource(_closeTimeout);
            WebSocketCloseStatus status = reason is null or HubServerClosedException ? WebSocketCloseStatus.NormalClosure
                : reason is HubProtocolException ? WebSocketCloseStatus.ProtocolError
                : WebSocketCloseStatus.InternalServerError;
            await TrySendCloseFrameAsync(status, timeout.Token).ConfigureAwait(false);
        }

        _stopping.Cancel();

        // An invocation that raced with RequestClose.
        FailPendingInvocations();
        _inbound.Writer.TryComplete();
        _socket.Dispose();
    }

    private void FailPendingInvocations()
    {
        Exception? reason = CloseReason;
        foreach (string invocationId in _pending.Keys)
        {
            if (_pending.TryRemove(invocationId, out PendingInvocation? pending))
            {
                pending.SetException(HubConnectionClosedException.For(reason));
            }
        }
    }

    private void ThrowIfClosed()
    {
        if (State == HubConnectionState.Closed)
        {
            throw HubConnectionClosedException.For(CloseReason);
        }
    }

    private void ReportError(string? method, Exception exception)
    {
        try
        {
            Error?.Invoke(this, new HubErrorEventArgs(method, exception));
        }
        catch (Exception)
        {
            // An error callback that throws must not stop the handler loop.
        }
    }

    private HandlerSubscription Register(string method, HandlerRegistration registration)
    {
        lock (_handlersLock)
        {
            _handlers[method] = _handlers.TryGetValue(method, out HandlerRegistration[]? existing) ? [.. existing, registration] : [registration];
        }

        return new HandlerSubscription(this, method, registration);
    }

    private void Unregister(string method, HandlerRegistration registration)
    {
        lock (_handlersLock)
        {
            if (!_handlers.TryGetValue(method, out HandlerRegistration[]? existing))
            {
                return;
            }

            HandlerRegistration[] remaining = Array.FindAll(existing, candidate => !ReferenceEquals(candidate, registration));
            if (remaining.Length == 0)
            {
                _handlers.Remove(method);
            }
            else
            {
                _handlers[method] = remaining;
            }
        }
    }

    private sealed record ServerInvocation(string Target, string? InvocationId, JsonElement Arguments);

    /// <summary>The result type of <see cref="InvokeAsync(string, object?[], CancellationToken)"/>: whatever came is ignored.</summary>
    private readonly struct IgnoredResult;

    private abstract class PendingInvocation(string method)
    {
        public string Method { get; } = method;

        /// <param name="result">The completion's result; null when it had none (a void method).</param>
        /// <param name="options">How to read it.</param>
        public abstract void SetResult(JsonElement? result, JsonSerializerOptions options);

        public abstract void SetException(Exception exception);
    }

    private sealed class PendingInvocation<TResult>(string method) : PendingInvocation(method)
    {
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<TResult> Task => _completion.Task;

        public override void SetResult(JsonElement? result, JsonSerializerOptions options)
        {
            if (typeof(TResult) == typeof(IgnoredResult) || result is null)
            {
                _completion.TrySetResult(default!);
                return;
            }

            try
            {
                _completion.TrySetResult(result.Value.Deserialize<TResult>(options)!);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
            {
                _completion.TrySetException(new HubProtocolException($"The result of '{Method}' could not be read as {typeof(TResult).Name}.", ex));
            }
        }

        public override void SetException(Exception exception) => _completion.TrySetException(exception);
    }

    private sealed class HandlerRegistration(Type[] parameterTypes, Func<object?[], Task> callback)
    {
        public Func<object?[], Task> Callback { get; } = callback;

        public object?[] Bind(JsonElement arguments, JsonSerializerOptions options)
        {
            int count = arguments.GetArrayLength();
            if (count != parameterTypes.Length)
            {
                throw new HubProtocolException(string.Create(CultureInfo.InvariantCulture, $"The server sent {count} arguments; the handler takes {parameterTypes.Length}."));
            }

            var values = new object?[count];
            int index = 0;
            foreach (JsonElement argument in arguments.EnumerateArray())
            {
                values[index] = argument.Deserialize(parameterTypes[index], options);
                index++;
            }

            return values;
        }
    }

    private sealed class HandlerSubscription(HubConnection connection, string method, HandlerRegistration registration) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                connection.Unregister(method, registration);
            }
        }
    }
}
