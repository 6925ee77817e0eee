namespace Coordination.Server.Hosting;

/// <summary>
/// A clean-up that runs every <c>interval</c> on the relay's <see cref="TimeProvider"/> (so tests
/// can move time), never overlaps itself, can be run at once with <see cref="SweepAsync"/>, and
/// survives its own failures: a failed sweep is logged by its kind alone and retried at the next tick.
/// </summary>
public abstract partial class PeriodicSweep(TimeSpan interval, TimeProvider clock, ILogger logger) : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    protected TimeProvider Clock { get; } = clock;

    protected ILogger Logger { get; } = logger;

    /// <summary>Runs the sweep now (waiting for a running one to finish); returns how many things went.</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await SweepOnceAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>One sweep; returns how many things it deleted or forgot.</summary>
    protected abstract Task<int> SweepOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using PeriodicTimer timer = new(interval, Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next tick tries again; a failed sweep must not stop the relay.
                    LogSweepFailed(Logger, GetType().Name, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Sweep} failed ({Error}); it runs again at the next interval.")]
    private static partial void LogSweepFailed(ILogger logger, string sweep, string error);
}
