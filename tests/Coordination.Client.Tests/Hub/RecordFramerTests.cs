using System.Text;
using Coordination.Client.Hub;

namespace Coordination.Client.Tests.Hub;

public class RecordFramerTests
{
    private const char Separator = '\u001e';

    [Fact]
    public void SeveralRecordsInOneChunk_AreReturnedInOrder()
    {
        var framer = new RecordFramer(1024);

        List<string> records = Feed(framer, $"{{\"type\":6}}{Separator}{{\"a\":1}}{Separator}{{\"b\":2}}{Separator}", chunkSize: int.MaxValue);

        Assert.Equal(["{\"type\":6}", "{\"a\":1}", "{\"b\":2}"], records);
        Assert.Equal(0, framer.BufferedBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void RecordsSplitAcrossChunks_AreReassembled(int chunkSize)
    {
        var framer = new RecordFramer(1024);
        string text = $"{{\"result\":\"é✓ multi-byte\"}}{Separator}{{\"type\":1}}{Separator}{{\"tail\":";

        List<string> records = Feed(framer, text, chunkSize);

        Assert.Equal(["{\"result\":\"é✓ multi-byte\"}", "{\"type\":1}"], records);
        Assert.Equal(Encoding.UTF8.GetByteCount("{\"tail\":"), framer.BufferedBytes);
        Assert.Equal(["{\"tail\":0}"], Feed(framer, $"0}}{Separator}", chunkSize));
    }

    [Fact]
    public void RecordOfExactlyTheLimit_IsAccepted()
    {
        var framer = new RecordFramer(100);
        string record = new('x', 100);

        Assert.Equal([record], Feed(framer, record + Separator, chunkSize: 33));
    }

    [Fact]
    public void RecordOverTheLimit_IsRejected_WhenItsSeparatorArrivesWithIt()
    {
        var framer = new RecordFramer(100);

        Assert.Throws<HubProtocolException>(() => Feed(framer, new string('x', 101) + Separator, chunkSize: int.MaxValue));
    }

    [Fact]
    public void UnterminatedDataOverTheLimit_IsRejectedBeforeTheSeparatorArrives()
    {
        var framer = new RecordFramer(100);
        Assert.Empty(Feed(framer, new string('x', 100), chunkSize: 10));

        HubProtocolException error = Assert.Throws<HubProtocolException>(() => Feed(framer, "x", chunkSize: 1));
        Assert.Contains("100 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BufferNeverGrowsPastTheLimitPlusOneRead()
    {
        const int max = 64 * 1024;
        var framer = new RecordFramer(max);
        string record = new('y', max);
        var all = new StringBuilder();
        for (int i = 0; i < 20; i++)
        {
            all.Append(record).Append(Separator);
        }

        List<string> records = Feed(framer, all.ToString(), chunkSize: 5000);

        Assert.Equal(20, records.Count);
        Assert.All(records, r => Assert.Equal(record, r));
        Assert.True(framer.Capacity <= max + 1 + 4096, $"capacity {framer.Capacity}");
    }

    [Fact]
    public void GetMemory_IsNeverEmpty_WhenAPartialRecordFillsTheLimit()
    {
        var framer = new RecordFramer(64);
        Assert.Empty(Feed(framer, new string('z', 64), chunkSize: 64));

        Assert.False(framer.GetMemory().IsEmpty);
    }

    /// <summary>Writes <paramref name="text"/> in chunks as a receive loop would, collecting complete records.</summary>
    private static List<string> Feed(RecordFramer framer, string text, int chunkSize)
    {
        byte[] data = Encoding.UTF8.GetBytes(text);
        var records = new List<string>();
        int offset = 0;
        while (offset < data.Length)
        {
            Memory<byte> memory = framer.GetMemory();
            int count = Math.Min(Math.Min(chunkSize, memory.Length), data.Length - offset);
            data.AsSpan(offset, count).CopyTo(memory.Span);
            framer.Advance(count);
            offset += count;
            while (framer.TryReadRecord(out ReadOnlyMemory<byte> record))
            {
                records.Add(Encoding.UTF8.GetString(record.Span));
            }
        }

        return records;
    }
}
