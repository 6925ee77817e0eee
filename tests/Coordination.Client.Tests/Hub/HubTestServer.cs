using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Coordination.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRHub = Microsoft.AspNetCore.SignalR.Hub;

namespace Coordination.Client.Tests.Hub;

/// <summary>
/// A real Kestrel + SignalR server on a free loopback port: <see cref="TestHub"/> at <see cref="HubPath"/> and
/// hand-written WebSocket endpoints under /raw/{scenario} for what a real hub never does.
/// </summary>
public sealed class HubTestServer : IAsyncLifetime
{
    public const string HubPath = "/hubs/test";

    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public ServerObservations Observations { get; } = new();

    public Uri Url(string path) => new(BaseAddress, path);

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Observations);
        builder.Services.AddSignalR(options =>
        {
            options.EnableDetailedErrors = true;
            options.MaximumParallelInvocationsPerClient = 8;
            options.MaximumReceiveMessageSize = 1024 * 1024;
        });

        _app = builder.Build();
        _app.Urls.Add("http://127.0.0.1:0");
        _app.UseWebSockets();
        _app.MapHub<TestHub>(HubPath);
        _app.Map("/raw/{scenario}", (RequestDelegate)RawScenarios.HandleAsync);
        await _app.StartAsync();

        string address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseAddress = new Uri(address);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>What the server saw, keyed by the token the connection presented.</summary>
public sealed class ServerObservations
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Exception?>> _disconnects = new(StringComparer.Ordinal);

    public Task<Exception?> Disconnected(string token) => Entry(token).Task;

    internal void OnDisconnected(string token, Exception? exception) => Entry(token).TrySetResult(exception);

    private TaskCompletionSource<Exception?> Entry(string token) =>
        _disconnects.GetOrAdd(token, _ => new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>
/// The test hub. Connections must present a token, as a bearer header or the access_token query
/// parameter; <see cref="WhoAmI"/> says which one the server saw.
/// </summary>
[SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "SignalR only dispatches to instance methods.")]
public class TestHub(ServerObservations observations) : SignalRHub
{
    public override Task OnConnectedAsync()
    {
        HttpContext http = Context.GetHttpContext()!;
        string authorization = http.Request.Headers.Authorization.ToString();
        string query = http.Request.Query["access_token"].ToString();
        string? source = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? "header:" + authorization["Bearer ".Length..]
            : query.Length > 0 ? "query:" + query
            : null;

        // The same refusal an authenticating hub filter would make: the client sees a Close message with this error.
        Context.Items["token"] = source ?? throw new HubException("A token is required.");
        return Task.CompletedTask;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue("token", out object? token) && token is string source)
        {
            observations.OnDisconnected(source, exception);
        }

        return Task.CompletedTask;
    }

    public string WhoAmI() => (string)Context.Items["token"]!;

    public string Echo(string message) => message;

    public Task Nothing() => Task.CompletedTask;

    public async Task<int> Delayed(int value, int delayMilliseconds)
    {
        await Task.Delay(delayMilliseconds, Context.ConnectionAborted);
        return value;
    }

    public void Fail(string message) => throw new HubException(message);

    public void Crash() => throw new InvalidOperationException("kaboom");

    public Task Deliver(EnvelopeDelivery envelope) => Clients.Caller.SendAsync(nameof(IRelayClient.ReceiveEnvelope), envelope);

    public Task Notify() => Clients.Caller.SendAsync("Notified");

    public async Task Burst(int count)
    {
        for (int i = 0; i < count; i++)
        {
            await Clients.Caller.SendAsync("Item", i);
        }
    }

    public Task Record(string value) => Clients.Caller.SendAsync("Recorded", value);

    /// <summary>Asks the client for a result (client results), which this client never provides.</summary>
    public Task<string> AskClient() => Clients.Caller.InvokeAsync<string>("Question", Context.ConnectionAborted);

    public string Big(int size) => new('x', size);

    public void Abort() => Context.Abort();
}

/// <summary>Hand-written SignalR servers, byte by byte.</summary>
internal static class RawScenarios
{
    private const char Separator = '\u001e';

    public static async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        string scenario = (string)context.Request.RouteValues["scenario"]!;
        CancellationToken ct = context.RequestAborted;
        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
        var reader = new RawReader(socket);
        try
        {
            string handshake = await reader.ReadRecordAsync(ct);
            if (handshake != "{\"protocol\":\"json\",\"version\":1}")
            {
                await SendAsync(socket, $"{{\"error\":\"Unexpected handshake {handshake}\"}}{Separator}", ct);
                return;
            }

            switch (scenario)
            {
                case "handshake-error":
                    await SendAsync(socket, $"{{\"error\":\"Requested protocol 'json' is not available.\"}}{Separator}", ct);
                    await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, ct);
                    return;
                case "silent":
                    await Task.Delay(Timeout.Infinite, ct);
                    return;
                case "quiet-after-handshake":
                    await SendAsync(socket, $"{{}}{Separator}", ct);
                    await Task.Delay(Timeout.Infinite, ct);
                    return;
                case "framing":
                    await FramingAsync(socket, reader, ct);
                    break;
                case "server-close-error":
                    await SendAsync(socket, $"{{}}{Separator}{{\"type\":7,\"error\":\"Server is shutting down.\",\"allowReconnect\":true}}{Separator}", ct);
                    break;
                case "websocket-close-error":
                    await SendAsync(socket, $"{{}}{Separator}", ct);
                    await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, ct);
                    break;
                case "count-pings":
                    await SendAsync(socket, $"{{}}{Separator}", ct);
                    await CountPingsAsync(socket, reader, TimeSpan.FromMilliseconds(1500), 0, ct);
                    return;
                case "count-three-pings":
                    await SendAsync(socket, $"{{}}{Separator}", ct);
                    await CountPingsAsync(socket, reader, TimeSpan.FromSeconds(8), 3, ct);
                    return;
                case "drop-after-invocation":
                    await SendAsync(socket, $"{{}}{Separator}", ct);
                    _ = await reader.ReadRecordAsync(ct);
                    context.Abort();
                    return;
                default:
                    await CloseAsync(socket, WebSocketCloseStatus.InvalidPayloadData, ct);
                    return;
            }

            await DrainAsync(socket, ct);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The client went away.
        }
    }

    /// <summary>
    /// The handshake response and three more records in one WebSocket message, then a completion
    /// split across two frames of one message (inside a multi-byte character) and the next message.
    /// </summary>
    private static async Task FramingAsync(WebSocket socket, RawReader reader, CancellationToken ct)
    {
        await SendAsync(socket, $"{{}}{Separator}{{\"type\":1,\"target\":\"Note\",\"arguments\":[\"first\"]}}{Separator}{{\"type\":6}}{Separator}{{\"type\":1,\"target\":\"Note\",\"arguments\":[\"second\"]}}{Separator}", ct);

        using JsonDocument invocation = JsonDocument.Parse(await reader.ReadRecordAsync(ct));
        string invocationId = invocation.RootElement.GetProperty("invocationId").GetString()!;
        string argument = invocation.RootElement.GetProperty("arguments")[0].GetString()!;
        string prefix = $"{{\"type\":3,\"invocationId\":\"{invocationId}\",\"result\":\"echo:";
        byte[] bytes = Encoding.UTF8.GetBytes($"{prefix}é{argument}\"}}{Separator}{{\"type\":1,\"target\":\"Note\",\"arguments\":[\"third\"]}}{Separator}");

        // Frame 1 ends inside the two bytes of 'é'; frame 2 ends that message; the last 20 bytes are a message of their own.
        int firstCut = Encoding.UTF8.GetByteCount(prefix) + 1;
        int secondCut = bytes.Length - 20;
        await socket.SendAsync(bytes.AsMemory(0, firstCut), WebSocketMessageType.Text, endOfMessage: false, ct);
        await socket.SendAsync(bytes.AsMemory(firstCut, secondCut - firstCut), WebSocketMessageType.Text, endOfMessage: true, ct);
        await socket.SendAsync(bytes.AsMemory(secondCut), WebSocketMessageType.Text, endOfMessage: true, ct);
    }

    /// <summary>
    /// Counts the client's pings and other records for <paramref name="period"/>, then tells it with a
    /// "Pings" invocation whose one argument is [pings, others]; keeps counting until the client closes.
    /// </summary>
    /// <summary>
    /// Counts pings and other records for <paramref name="period"/>, or until <paramref name="enough"/>
    /// pings came (when above 0), then tells the client: pings, other records, milliseconds counted.
    /// </summary>
    private static async Task CountPingsAsync(WebSocket socket, RawReader reader, TimeSpan period, int enough, CancellationToken ct)
    {
        int[] counts = new int[2];
        System.Diagnostics.Stopwatch elapsed = System.Diagnostics.Stopwatch.StartNew();
        Task counting = Task.Run(
            async () =>
            {
                while (true)
                {
                    string record = await reader.ReadRecordAsync(ct, skipPings: false);
                    Interlocked.Increment(ref counts[record == "{\"type\":6}" ? 0 : 1]);
                }
            },
            ct);

        while (elapsed.Elapsed < period && (enough == 0 || Volatile.Read(ref counts[0]) < enough))
        {
            await Task.Delay(enough == 0 ? period : TimeSpan.FromMilliseconds(20), ct);
        }

        await SendAsync(socket, $"{{\"type\":1,\"target\":\"Pings\",\"arguments\":[[{Volatile.Read(ref counts[0])},{Volatile.Read(ref counts[1])},{(long)elapsed.Elapsed.TotalMilliseconds}]]}}{Separator}", ct);
        try
        {
            await counting;
        }
        catch (WebSocketException) when (socket.State == WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        }
    }

    private static Task SendAsync(WebSocket socket, string text, CancellationToken ct) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, ct);

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, CancellationToken ct)
    {
        await socket.CloseOutputAsync(status, status == WebSocketCloseStatus.NormalClosure ? null : "go away", ct);
        await DrainAsync(socket, ct);
    }

    /// <summary>Reads (and ignores) until the client closes, then answers its close frame.</summary>
    private static async Task DrainAsync(WebSocket socket, CancellationToken ct)
    {
        byte[] buffer = new byte[4096];
        while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                }

                return;
            }
        }
    }

    /// <summary>Reads 0x1E-terminated records from the client.</summary>
    private sealed class RawReader(WebSocket socket)
    {
        private readonly List<byte> _pending = [];

        public async Task<string> ReadRecordAsync(CancellationToken ct, bool skipPings = true)
        {
            byte[] buffer = new byte[4096];
            while (true)
            {
                int separator = _pending.IndexOf(0x1E);
                if (separator >= 0)
                {
                    string record = Encoding.UTF8.GetString([.. _pending.GetRange(0, separator)]);
                    _pending.RemoveRange(0, separator + 1);
                    if (!skipPings || record != "{\"type\":6}")
                    {
                        return record; // pings are skipped
                    }

                    continue;
                }

                WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new WebSocketException("The client closed before sending a record.");
                }

                _pending.AddRange(buffer.AsSpan(0, result.Count));
            }
        }
    }
}
