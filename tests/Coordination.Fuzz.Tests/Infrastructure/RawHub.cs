using System.Net.WebSockets;
using System.Text;
using Coordination.Protocol;

namespace Coordination.Fuzz.Tests.Infrastructure;

/// <summary>
/// A bare WebSocket to the relay hub that speaks the SignalR JSON protocol by hand (records end in
/// 0x1E), so it can send what no SignalR client would: any bytes, as text or binary frames.
/// </summary>
public sealed class RawHub : IAsyncDisposable
{
    public const char Separator = '\u001e';

    private readonly ClientWebSocket _socket;
    private readonly List<byte> _pending = [];

    private RawHub(ClientWebSocket socket)
    {
        _socket = socket;
    }

    /// <summary>The server closed the connection (a close frame, or the socket ended).</summary>
    public bool Closed { get; private set; }

    public static Uri HubUri(Uri server, string? token)
    {
        ArgumentNullException.ThrowIfNull(server);
        UriBuilder builder = new(server) { Scheme = "ws", Path = RelayHubContract.Path, Query = token is null ? "" : "access_token=" + Uri.EscapeDataString(token) };
        return builder.Uri;
    }

    /// <summary>Opens the socket; with <paramref name="handshake"/>, sends it and returns after the server's answer.</summary>
    public static async Task<(RawHub Hub, string? HandshakeAnswer)> OpenAsync(Uri server, string token, string? handshake = "{\"protocol\":\"json\",\"version\":1}\u001e")
    {
        ClientWebSocket socket = new();
        try
        {
            using CancellationTokenSource timeout = new(TestTimeouts.Default);
            await socket.ConnectAsync(HubUri(server, token), timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        RawHub hub = new(socket);
        if (handshake is null)
        {
            return (hub, null);
        }

        await hub.SendAsync(Encoding.UTF8.GetBytes(handshake), binary: false);
        return (hub, await hub.ReceiveAsync(TestTimeouts.Default));
    }

    /// <summary>A connection after a normal handshake (which must be accepted).</summary>
    public static async Task<RawHub> ConnectAsync(Uri server, string token)
    {
        (RawHub hub, string? answer) = await OpenAsync(server, token);
        if (answer != "{}")
        {
            await hub.DisposeAsync();
            throw new InvalidOperationException($"The hub refused a normal handshake: {answer ?? "(closed)"}");
        }

        return hub;
    }

    public async Task SendAsync(byte[] data, bool binary)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Closed || _socket.State != WebSocketState.Open)
        {
            Closed = true;
            return;
        }

        try
        {
            using CancellationTokenSource timeout = new(TestTimeouts.Default);
            await _socket.SendAsync(data, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        }
        catch (WebSocketException)
        {
            Closed = true;
        }
    }

    /// <summary>The next record (without its separator), or null once the server has closed the connection.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan timeout)
    {
        using CancellationTokenSource cancel = new(timeout);
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            int end = _pending.IndexOf((byte)Separator);
            if (end >= 0)
            {
                string record = Encoding.UTF8.GetString([.. _pending.Take(end)]);
                _pending.RemoveRange(0, end + 1);
                return record;
            }

            if (Closed)
            {
                return null;
            }

            try
            {
                WebSocketReceiveResult result = await _socket.ReceiveAsync(buffer, cancel.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Closed = true;
                    continue;
                }

                _pending.AddRange(buffer.AsSpan(0, result.Count).ToArray());
            }
            catch (WebSocketException)
            {
                Closed = true;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"The hub neither answered nor closed the connection within {timeout.TotalSeconds} s.");
            }
        }
    }

    /// <summary>Drops the connection at once, without a close handshake (as a phone losing its network does).</summary>
    public void Abort()
    {
        _socket.Abort();
        Closed = true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
    }
}
