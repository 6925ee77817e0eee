using System.Diagnostics.Metrics;

namespace Coordination.Server.Operations;

/// <summary>
/// Every instrument the relay reports, on one <see cref="Meter"/> named <see cref="MeterName"/>.
/// Labels are fixed, low-cardinality words chosen here (a transport, a refusal kind, a status
/// code): never an account, device, conversation, cell, intake or task id, and nothing a client
/// sent. Recording is a lock-free add, so the send path stays cheap; with no listener (metrics
/// disabled) it is close to free.
/// </summary>
public sealed class RelayMetrics
{
    public const string MeterName = "Coordination.Relay";

    /// <summary>The label names an instrument may carry; <see cref="PrometheusExporter"/> drops any other.</summary>
    public static readonly IReadOnlySet<string> LabelNames = new HashSet<string>(StringComparer.Ordinal) { Transport, Kind, Result, Status };

    public const string Transport = "transport";
    public const string Kind = "kind";
    public const string Result = "result";
    public const string Status = "status";

    public const string Hub = "hub";
    public const string Rest = "rest";

    /// <summary>Every refusal kind <see cref="Relay.EnvelopeRelay"/> reports (published at zero so rates work from the start).</summary>
    public static readonly IReadOnlyList<string> SendRefusalKinds =
        ["missing", "missing_id", "envelope_size", "ttl", "rate_limited", "no_conversation", "not_writer", "group_header", "stale_epoch"];

    /// <summary>Bucket bounds for durations, from half a millisecond to ten seconds.</summary>
    private static readonly double[] s_secondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly int[] s_commonStatuses = [400, 401, 403, 404, 409, 413, 429, 500, 503];

    private static readonly string[] s_statusNames = [.. Enumerable.Range(0, 600).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private readonly Counter<long> _sends;
    private readonly Counter<long> _sendRefusals;
    private readonly Counter<long> _ackRefusals;
    private readonly Counter<long> _acks;
    private readonly Histogram<double> _sendAckLatency;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _commitDuration;
    private readonly Counter<long> _batchRetries;
    private readonly Counter<long> _databaseRetries;
    private readonly Counter<long> _nodeSignals;
    private readonly Counter<long> _envelopesDeleted;
    private readonly Counter<long> _liveDeliveries;
    private readonly Counter<long> _liveDeliveryFailures;
    private readonly Counter<long> _problemResponses;
    private readonly Counter<long> _reportsAccepted;
    private readonly Counter<long> _powRefusals;

    private Func<int>? _writerQueueDepth;
    private Func<int>? _deliveryQueueDepth;
    private Func<int>? _hubConnections;

    public RelayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);

        _sends = Meter.CreateCounter<long>("coordination.relay.sends", "{envelope}",
            "Envelopes durably stored and acknowledged, by transport (hub, rest) and result (stored, duplicate).");
        _sendRefusals = Meter.CreateCounter<long>("coordination.relay.send_refusals", "{envelope}",
            "Envelopes refused before storage, by transport and kind of refusal.");
        _acks = Meter.CreateCounter<long>("coordination.relay.acks", "{ack}",
            "Delivery acknowledgements made durable (one per conversation acknowledged).");
        _ackRefusals = Meter.CreateCounter<long>("coordination.relay.ack_refusals", "{request}",
            "Acknowledgement requests refused as malformed.");
        _sendAckLatency = Meter.CreateHistogram("coordination.relay.send_ack_latency", "s",
            "From a send reaching the relay's writer to its durable acknowledgement (group commit included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        _batchSize = Meter.CreateHistogram("coordination.relay.batch_size", "{operation}",
            "Operations committed together in one group-commit transaction.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _commitDuration = Meter.CreateHistogram("coordination.relay.commit_duration", "s",
            "Time to commit one batch: the transaction, its fsync and a WAL checkpoint when one is due.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        _batchRetries = Meter.CreateCounter<long>("coordination.relay.batch_retries", "{batch}",
            "Batches whose transaction failed with a database error and were retried one operation at a time.");
        _databaseRetries = Meter.CreateCounter<long>("coordination.relay.database_retries", "{attempt}",
            "Batches committed again after the database connection failed (a PostgreSQL restart, a network cut).");
        _nodeSignals = Meter.CreateCounter<long>("coordination.cluster.signals", "{signal}",
            "Notifications between relay nodes, by direction (sent, received).");
        _envelopesDeleted = Meter.CreateCounter<long>("coordination.relay.envelopes_deleted", "{envelope}",
            "Envelopes deleted by sweeps because every device acknowledged them or they expired.");
        _liveDeliveries = Meter.CreateCounter<long>("coordination.live.deliveries", "{envelope}",
            "Committed envelopes pushed to the open hub connections of their conversation.");
        _liveDeliveryFailures = Meter.CreateCounter<long>("coordination.live.delivery_failures", "{envelope}",
            "Live pushes that failed (the devices fetch the envelope when they come back).");
        _problemResponses = Meter.CreateCounter<long>("coordination.http.problem_responses", "{response}",
            "HTTP responses with a 4xx or 5xx status (rejected inputs and errors), by status code.");
        _reportsAccepted = Meter.CreateCounter<long>("coordination.intake.reports_accepted", "{report}",
            "Intake reports stored (sealed in the browser or client, through a bridge, or through the bot).");
        _powRefusals = Meter.CreateCounter<long>("coordination.intake.pow_refusals", "{submission}",
            "Intake submissions refused because the proof-of-work was missing, unsolved, expired or reused.");

        Meter.CreateObservableGauge("coordination.relay.queue_depth", () => _writerQueueDepth?.Invoke() ?? 0, "{operation}",
            "Sends, acknowledgements and sweeps waiting for the relay's writer.");
        Meter.CreateObservableGauge("coordination.live.queue_depth", () => _deliveryQueueDepth?.Invoke() ?? 0, "{envelope}",
            "Committed envelopes waiting to be pushed live.");
        Meter.CreateObservableGauge("coordination.hub.connections", () => _hubConnections?.Invoke() ?? 0, "{connection}",
            "Open, authenticated hub connections.");
    }

    public Meter Meter { get; }

    /// <summary>
    /// Adds zero to every known label set, so a listener started now (the exporter) shows each
    /// series from the start instead of when it first moves.
    /// </summary>
    public void PublishZeros()
    {
        foreach (string transport in new[] { Hub, Rest })
        {
            _sends.Add(0, new KeyValuePair<string, object?>(Transport, transport), new KeyValuePair<string, object?>(Result, "stored"));
            _sends.Add(0, new KeyValuePair<string, object?>(Transport, transport), new KeyValuePair<string, object?>(Result, "duplicate"));
            foreach (string kind in SendRefusalKinds)
            {
                _sendRefusals.Add(0, new KeyValuePair<string, object?>(Transport, transport), new KeyValuePair<string, object?>(Kind, kind));
            }
        }

        foreach (int status in s_commonStatuses)
        {
            _problemResponses.Add(0, new KeyValuePair<string, object?>(Status, s_statusNames[status]));
        }
    }

    /// <summary>Where the writer's queue depth is read from (the writer registers itself; no dependency cycle).</summary>
    public void ObserveWriterQueue(Func<int> depth) => _writerQueueDepth = depth;

    public void ObserveDeliveryQueue(Func<int> depth) => _deliveryQueueDepth = depth;

    public void ObserveHubConnections(Func<int> count) => _hubConnections = count;

    public void SendStored(string transport, bool duplicate) =>
        _sends.Add(1, new KeyValuePair<string, object?>(Transport, transport), new KeyValuePair<string, object?>(Result, duplicate ? "duplicate" : "stored"));

    public void SendRefused(string transport, string kind) =>
        _sendRefusals.Add(1, new KeyValuePair<string, object?>(Transport, transport), new KeyValuePair<string, object?>(Kind, kind));

    public void AckRefused() => _ackRefusals.Add(1);

    public void AcksDurable(int count) => _acks.Add(count);

    public void SendDurable(TimeSpan sinceQueued) => _sendAckLatency.Record(sinceQueued.TotalSeconds);

    public void BatchCommitted(int operations, TimeSpan duration)
    {
        _batchSize.Record(operations);
        _commitDuration.Record(duration.TotalSeconds);
    }

    public void BatchRetried() => _batchRetries.Add(1);

    public void DatabaseRetried() => _databaseRetries.Add(1);

    public void NodeSignal(bool received) =>
        _nodeSignals.Add(1, new KeyValuePair<string, object?>("direction", received ? "received" : "sent"));

    public void EnvelopesDeleted(int count)
    {
        if (count > 0)
        {
            _envelopesDeleted.Add(count);
        }
    }

    public void LiveDelivered() => _liveDeliveries.Add(1);

    public void LiveDeliveryFailed() => _liveDeliveryFailures.Add(1);

    public void ProblemResponse(int status) =>
        _problemResponses.Add(1, new KeyValuePair<string, object?>(Status, status is >= 0 and < 600 ? s_statusNames[status] : "other"));

    public void ReportAccepted() => _reportsAccepted.Add(1);

    public void PowRefused() => _powRefusals.Add(1);
}
