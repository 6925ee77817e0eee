using System.Net.WebSockets;
using System.Text.Json;

namespace Coordination.Client.Hub;

/// <summary>Settings for <see cref="HubConnection.ConnectAsync(Uri, string?, HubConnectionOptions?, CancellationToken)"/>. Read once, when connecting.</summary>
public sealed class HubConnectionOptions
{
    /// <summary>The largest <see cref="MaxMessageBytes"/> accepted: a bound on what one connection may buffer.</summary>
    public const int MaxMessageBytesLimit = 64 * 1024 * 1024;

    /// <summary>
    /// Send the token as the <c>access_token</c> query parameter (as browsers must) instead of an
    /// <c>Authorization: Bearer</c> header. Query strings end up in access logs; prefer the header.
    /// </summary>
    public bool TokenInQueryString { get; set; }

    /// <summary>Bounds the WebSocket connect, the handshake request and the handshake response together.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A ping is sent when nothing else was sent for this long. <see cref="Timeout.InfiniteTimeSpan"/> turns pings off.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The connection closes with a <see cref="TimeoutException"/> when nothing arrives for this long. <see cref="Timeout.InfiniteTimeSpan"/> turns the check off.</summary>
    public TimeSpan ServerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long closing waits for the WebSocket close frame to be sent and answered.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest incoming message (one JSON record, without its separator); a larger one closes the connection.</summary>
    public int MaxMessageBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// How many server-to-client invocations may wait for their handlers. When the handlers fall this
    /// far behind, the connection closes with an error rather than buffering without bound.
    /// </summary>
    public int MaxQueuedServerInvocations { get; set; } = 1024;

    /// <summary>
    /// Serializer settings for arguments and results. Null means <see cref="JsonSerializerOptions.Web"/>
    /// (camelCase, case-insensitive reading, byte[] as base64), which matches the server's JSON protocol.
    /// </summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>A last chance to set WebSocket options (proxy, certificates, extra headers) before connecting.</summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; set; }

    internal void Validate()
    {
        RequirePositive(HandshakeTimeout, nameof(HandshakeTimeout), allowInfinite: false);
        RequirePositive(KeepAliveInterval, nameof(KeepAliveInterval), allowInfinite: true);
        RequirePositive(ServerTimeout, nameof(ServerTimeout), allowInfinite: true);
        RequirePositive(CloseTimeout, nameof(CloseTimeout), allowInfinite: false);
        if (MaxMessageBytes is < 64 or > MaxMessageBytesLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes), MaxMessageBytes, $"Must be between 64 and {MaxMessageBytesLimit}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxQueuedServerInvocations);
    }

    private static void RequirePositive(TimeSpan value, string name, bool allowInfinite)
    {
        if (allowInfinite && value == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(name, value, allowInfinite ? "Must be positive, or Timeout.InfiniteTimeSpan." : "Must be positive.");
        }
    }
}
