using System.Net.WebSockets;
using Coordination.Client.Api;
using Polly;
using Polly.Retry;

namespace Coordination.Client.Hub;

/// <summary>
/// A hub connection that comes back by itself: when the connection drops it reconnects with
/// jittered exponential backoff (Polly), asking for a fresh token each time, and raises
/// <see cref="Reconnected"/> so the caller can catch up on what it missed. Refusals (an unknown,
/// expired or revoked device) are not retried.
/// </summary>
public sealed class ReconnectingHub : IAsyncDisposable
{
    private readonly Uri _hubUrl;
    private readonly Func<CancellationToken, Task<string>> _token;
    private readonly Action<HubConnection> _configure;
    private readonly ResiliencePipeline _retry;
    private readonly CancellationTokenSource _disposed = new();
    private HubConnection? _current;
    private Task _reconnecting = Task.CompletedTask;

    public ReconnectingHub(Uri hubUrl, Func<CancellationToken, Task<string>> token, Action<HubConnection> configure, TimeSpan? maxDelay = null)
    {
        _hubUrl = hubUrl;
        _token = token;
        _configure = configure;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder()
                    .Handle<WebSocketException>()
                    .Handle<HttpRequestException>()
                    .Handle<HubClientException>()
                    .Handle<TimeoutException>()
                    .Handle<RelayApiException>(ex => (int)ex.Status >= 500 || ex.Status == 0 || ex.Status == System.Net.HttpStatusCode.TooManyRequests),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = maxDelay ?? TimeSpan.FromSeconds(30),
            })
            .Build();
    }

    /// <summary>Raised after a dropped connection was re-established.</summary>
    public event Func<Task>? Reconnected;

    /// <summary>Raised when reconnecting stopped for good (for example: the device was revoked).</summary>
    public event Action<Exception>? GaveUp;

    public bool IsConnected => _current?.State == HubConnectionState.Connected;

    /// <summary>Connects once; a failure here is thrown to the caller.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        _current = await ConnectOnceAsync(ct);
    }

    public Task<TResult> InvokeAsync<TResult>(string method, object?[] args, CancellationToken ct) =>
        (_current ?? throw new InvalidOperationException("The hub is not connected.")).InvokeAsync<TResult>(method, args, ct);

    public Task InvokeAsync(string method, object?[] args, CancellationToken ct) =>
        (_current ?? throw new InvalidOperationException("The hub is not connected.")).InvokeAsync(method, args, ct);

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync();
        await _reconnecting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_current is not null)
        {
            await _current.DisposeAsync();
        }

        _disposed.Dispose();
    }

    private async Task<HubConnection> ConnectOnceAsync(CancellationToken ct)
    {
        string token = await _token(ct);
        HubConnection connection = await HubConnection.ConnectAsync(_hubUrl, token, null, _configure, ct);
        connection.Closed += OnClosed;
        return connection;
    }

    private Task OnClosed(Exception? reason)
    {
        if (!_disposed.IsCancellationRequested)
        {
            _reconnecting = Task.Run(ReconnectAsync);
        }

        return Task.CompletedTask;
    }

    private async Task ReconnectAsync()
    {
        CancellationToken ct = _disposed.Token;
        try
        {
            HubConnection? old = _current;
            _current = await _retry.ExecuteAsync(async token => await ConnectOnceAsync(token), ct);
            if (old is not null)
            {
                await old.DisposeAsync();
            }

            if (Reconnected is { } handler)
            {
                await handler();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            GaveUp?.Invoke(ex);
        }
    }
}
