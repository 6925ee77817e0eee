using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Coordination.Server.Operations;

/// <summary>
/// A small Prometheus text exporter (exposition format 0.0.4) over <see cref="RelayMetrics"/>'s
/// meter, so no exporter package is needed. A <see cref="MeterListener"/> aggregates as measurements
/// arrive, without locks: counters and up-down counters add, observable instruments keep the last
/// value they reported (read at each scrape), histograms count into the fixed buckets their
/// instrument advises. Only this host's meter is listened to (several hosts may share a process),
/// and only the label names in <see cref="RelayMetrics.LabelNames"/> are kept, at most
/// <see cref="MaxSeriesPerInstrument"/> label sets per instrument.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public const int MaxSeriesPerInstrument = 64;

    private static readonly double[] s_defaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, Series> _instruments = new();
    private readonly Lock _scrape = new();

    public PrometheusExporter(RelayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Meter meter = metrics.Meter;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    Series series = _instruments.GetOrAdd(instrument, static i => new Series(i));
                    listener.EnableMeasurementEvents(instrument, series);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.Start();
        metrics.PublishZeros();
    }

    /// <summary>Every instrument in the text format, sorted by name; observable instruments are read now.</summary>
    public string Render()
    {
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
            StringBuilder text = new();
            foreach (Series series in _instruments.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                series.Render(text);
            }

            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The Prometheus name: dots become underscores, seconds get <c>_seconds</c>, counters <c>_total</c>.</summary>
    internal static string PrometheusName(Instrument instrument)
    {
        StringBuilder name = new(instrument.Name.Length + 16);
        foreach (char c in instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        if (string.Equals(instrument.Unit, "s", StringComparison.Ordinal))
        {
            name.Append("_seconds");
        }

        if (instrument is Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>)
        {
            name.Append("_total");
        }

        return name.ToString();
    }

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    /// <summary>One label set: up to two allowed labels, sorted by name, so equal sets compare equal.</summary>
    private readonly record struct Labels(string? Name1, string? Value1, string? Name2, string? Value2)
    {
        public static Labels From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? n1 = null, v1 = null, n2 = null, v2 = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Value is not string value || !RelayMetrics.LabelNames.Contains(tag.Key))
                {
                    continue;
                }

                if (n1 is null)
                {
                    (n1, v1) = (tag.Key, value);
                }
                else if (n2 is null)
                {
                    (n2, v2) = (tag.Key, value);
                }
            }

            return n1 is not null && n2 is not null && string.CompareOrdinal(n1, n2) > 0 ? new Labels(n2, v2, n1, v1) : new Labels(n1, v1, n2, v2);
        }

        public void Write(StringBuilder text, string? extraName = null, string? extraValue = null)
        {
            if (Name1 is null && extraName is null)
            {
                return;
            }

            text.Append('{');
            bool first = true;
            foreach ((string? name, string? value) in new[] { (Name1, Value1), (Name2, Value2), (extraName, extraValue) })
            {
                if (name is null)
                {
                    continue;
                }

                if (!first)
                {
                    text.Append(',');
                }

                first = false;
                text.Append(name).Append("=\"");
                foreach (char c in value ?? "")
                {
                    _ = c switch
                    {
                        '\\' => text.Append("\\\\"),
                        '"' => text.Append("\\\""),
                        '\n' => text.Append("\\n"),
                        _ => text.Append(c),
                    };
                }

                text.Append('"');
            }

            text.Append('}');
        }
    }

    private sealed class Cell(int buckets)
    {
        private double _value;
        private double _sum;

        public long[] Buckets { get; } = new long[buckets];

        public double Value => Volatile.Read(ref _value);

        public double Sum => Volatile.Read(ref _sum);

        public void Add(double amount) => AddTo(ref _value, amount);

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Observe(double value, double[] bounds)
        {
            int bucket = 0;
            while (bucket < bounds.Length && value > bounds[bucket])
            {
                bucket++;
            }

            Interlocked.Increment(ref Buckets[bucket]);
            AddTo(ref _sum, value);
        }

        private static void AddTo(ref double target, double amount)
        {
            double current = Volatile.Read(ref target);
            while (true)
            {
                double seen = Interlocked.CompareExchange(ref target, current + amount, current);
                if (seen.Equals(current))
                {
                    return;
                }

                current = seen;
            }
        }
    }

    private sealed class Series
    {
        private readonly ConcurrentDictionary<Labels, Cell> _cells = new();
        private readonly Kind _kind;
        private readonly bool _observable;
        private readonly double[] _bounds;
        private readonly string _help;

        public Series(Instrument instrument)
        {
            Name = PrometheusName(instrument);
            _help = instrument.Description ?? instrument.Name;
            _observable = instrument.IsObservable;
            _bounds = [];
            if (instrument is Histogram<double> doubles)
            {
                _kind = Kind.Histogram;
                _bounds = [.. doubles.Advice?.HistogramBucketBoundaries ?? s_defaultBuckets];
            }
            else if (instrument is Histogram<int> ints)
            {
                _kind = Kind.Histogram;
                _bounds = ints.Advice?.HistogramBucketBoundaries is { } advised ? [.. advised.Select(b => (double)b)] : s_defaultBuckets;
            }
            else if (instrument is Histogram<long> longs)
            {
                _kind = Kind.Histogram;
                _bounds = longs.Advice?.HistogramBucketBoundaries is { } advised ? [.. advised.Select(b => (double)b)] : s_defaultBuckets;
            }
            else
            {
                _kind = Name.EndsWith("_total", StringComparison.Ordinal) ? Kind.Counter : Kind.Gauge;
            }
        }

        public string Name { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            Labels labels = tags.IsEmpty ? default : Labels.From(tags);
            if (!_cells.TryGetValue(labels, out Cell? cell))
            {
                // Labels come from code, never from input; the cap is a second line of defence.
                labels = _cells.Count >= MaxSeriesPerInstrument ? default : labels;
                cell = _cells.GetOrAdd(labels, _ => new Cell(_bounds.Length + 1));
            }

            if (_kind == Kind.Histogram)
            {
                cell.Observe(value, _bounds);
            }
            else if (_observable)
            {
                cell.Set(value);
            }
            else
            {
                cell.Add(value);
            }
        }

        public void Render(StringBuilder text)
        {
            text.Append("# HELP ").Append(Name).Append(' ').Append(_help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(_kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" }).Append('\n');
            List<KeyValuePair<Labels, Cell>> cells = [.. _cells.OrderBy(c => c.Key.Value1, StringComparer.Ordinal).ThenBy(c => c.Key.Value2, StringComparer.Ordinal)];
            if (cells.Count == 0)
            {
                // An unlabeled instrument nothing has touched yet still shows, at zero (labeled ones were published at zero).
                cells.Add(new(default, new Cell(_bounds.Length + 1)));
            }

            foreach ((Labels labels, Cell cell) in cells)
            {
                if (_kind != Kind.Histogram)
                {
                    text.Append(Name);
                    labels.Write(text);
                    text.Append(' ').Append(Format(cell.Value)).Append('\n');
                    continue;
                }

                long cumulative = 0;
                for (int i = 0; i <= _bounds.Length; i++)
                {
                    cumulative += Volatile.Read(ref cell.Buckets[i]);
                    text.Append(Name).Append("_bucket");
                    labels.Write(text, "le", i < _bounds.Length ? Format(_bounds[i]) : "+Inf");
                    text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }

                text.Append(Name).Append("_sum");
                labels.Write(text);
                text.Append(' ').Append(Format(cell.Sum)).Append('\n');
                text.Append(Name).Append("_count");
                labels.Write(text);
                text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        private static string Format(double value) =>
            double.IsPositiveInfinity(value) ? "+Inf"
            : double.IsNegativeInfinity(value) ? "-Inf"
            : double.IsNaN(value) ? "NaN"
            : value.ToString("R", CultureInfo.InvariantCulture);
    }
}
