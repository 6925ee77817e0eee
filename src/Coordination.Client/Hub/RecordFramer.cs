using System.Globalization;

namespace Coordination.Client.Hub;

/// <summary>
/// Splits the byte stream of a SignalR text-protocol connection into records terminated by 0x1E,
/// independently of WebSocket message boundaries: one message may hold several records and a record
/// may span several frames. The buffer never grows past the record limit plus one read.
/// </summary>
/// <remarks>
/// Use: write into <see cref="GetMemory"/>, call <see cref="Advance"/>, then call
/// <see cref="TryReadRecord"/> until it returns false. A record is valid until the next <see cref="GetMemory"/>.
/// </remarks>
internal sealed class RecordFramer
{
    public const byte RecordSeparator = 0x1E;

    /// <summary>The least free space offered to a read.</summary>
    private const int MinReadBytes = 4096;

    private const int InitialBytes = 16 * 1024;

    private readonly int _maxRecordBytes;
    private readonly int _capacityLimit;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _scanned;

    public RecordFramer(int maxRecordBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecordBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRecordBytes, HubConnectionOptions.MaxMessageBytesLimit);
        _maxRecordBytes = maxRecordBytes;
        _capacityLimit = maxRecordBytes + 1 + MinReadBytes;
        _buffer = new byte[Math.Min(_capacityLimit, InitialBytes)];
    }

    /// <summary>Bytes received but not yet returned as a record (a partial record).</summary>
    public int BufferedBytes => _end - _start;

    /// <summary>The buffer's current size (for tests: it never exceeds the limit plus one read).</summary>
    internal int Capacity => _buffer.Length;

    /// <summary>Where the next received bytes go: never empty.</summary>
    public Memory<byte> GetMemory()
    {
        if (_start == _end)
        {
            _start = _end = _scanned = 0;
        }
        else if (_buffer.Length - _end < MinReadBytes && _start > 0)
        {
            int pending = _end - _start;
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _scanned -= _start;
            _end = pending;
            _start = 0;
        }

        if (_buffer.Length - _end < MinReadBytes && _buffer.Length < _capacityLimit)
        {
            int size = (int)Math.Min(Math.Max((long)_buffer.Length * 2, (long)_end + MinReadBytes), _capacityLimit);
            Array.Resize(ref _buffer, size);
        }

        // At the capacity limit the pending part is at most _maxRecordBytes (TryReadRecord enforces it),
        // so at least MinReadBytes + 1 bytes are free.
        return _buffer.AsMemory(_end);
    }

    /// <summary>Records that <paramref name="count"/> bytes were written into the last <see cref="GetMemory"/>.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>The next complete record, without its separator.</summary>
    /// <exception cref="HubProtocolException">A record is, or will be, larger than the limit.</exception>
    public bool TryReadRecord(out ReadOnlyMemory<byte> record)
    {
        int index = _buffer.AsSpan(_scanned, _end - _scanned).IndexOf(RecordSeparator);
        if (index < 0)
        {
            _scanned = _end;
            if (_end - _start > _maxRecordBytes)
            {
                throw TooLarge();
            }

            record = default;
            return false;
        }

        int separator = _scanned + index;
        if (separator - _start > _maxRecordBytes)
        {
            throw TooLarge();
        }

        record = _buffer.AsMemory(_start, separator - _start);
        _start = separator + 1;
        _scanned = _start;
        return true;
    }

    private HubProtocolException TooLarge() =>
        new(string.Create(CultureInfo.InvariantCulture, $"A message from the server is larger than the limit of {_maxRecordBytes} bytes."));
}
