using System.Text;
using Coordination.Server.Cluster;

namespace Coordination.Server.Tests.Cluster;

/// <summary>The payloads relay nodes send each other: ids only, below PostgreSQL's limit, and parsed defensively.</summary>
public sealed class RelaySignalTests
{
    private static readonly Guid Node = Guid.NewGuid();

    [Fact]
    public void Every_kind_of_signal_round_trips()
    {
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid();
        RelaySignal[] signals =
        [
            new RelaySignal.EnvelopesStored(Node, [1, 42, long.MaxValue]),
            new RelaySignal.MembershipChanged(Node, [(a, b, true), (a, Guid.Empty, false)]),
            new RelaySignal.DeviceRevoked(Node, a),
            new RelaySignal.SessionEnded(Node, b),
            new RelaySignal.TasksReleased(Node, [(a, b, c, 3)]),
        ];

        foreach (RelaySignal signal in signals)
        {
            string payload = Assert.Single(RelaySignal.Payloads(signal));
            RelaySignal? parsed = RelaySignal.Parse(payload);
            Assert.NotNull(parsed);
            Assert.Equal(Node, parsed.Node);
            Assert.Equal(Describe(signal), Describe(parsed));
        }
    }

    [Fact]
    public void A_large_batch_is_split_below_the_notification_limit_and_loses_nothing()
    {
        long[] seqs = [.. Enumerable.Range(1, 5000).Select(i => (long)i * 1_000_003)];
        List<string> payloads = [.. RelaySignal.EnvelopesStoredPayloads(Node, seqs)];

        Assert.True(payloads.Count > 1);
        Assert.All(payloads, p => Assert.True(Encoding.UTF8.GetByteCount(p) < 8000, $"{p.Length} bytes"));
        Assert.Equal(seqs, payloads.SelectMany(p => ((RelaySignal.EnvelopesStored)RelaySignal.Parse(p)!).Seqs));
        Assert.Empty(RelaySignal.EnvelopesStoredPayloads(Node, []));
    }

    [Fact]
    public void Payloads_carry_ids_and_numbers_only()
    {
        string payload = Assert.Single(RelaySignal.Payloads(new RelaySignal.TasksReleased(Node, [(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 4)])));
        Assert.Matches("^T [0-9a-f]{32} [0-9a-f]{32}:[0-9a-f]{32}:[0-9a-f]{32}:[0-9]+$", payload);
    }

    [Fact]
    public void Malformed_payloads_are_ignored_without_throwing()
    {
        string node = Node.ToString("N");
        string[] malformed =
        [
            "", " ", "E", $"E {node}", $"E {node} ", $"E {node} -1", $"E {node} 1,,2", $"E {node} 99999999999999999999",
            $"X {node} 1", $"EE {node} 1", $"E not-a-node 1", $"R {node} {node},{node}", $"M {node} {node}:{node}:2",
            $"M {node} {node}:{node}", $"T {node} {node}:{node}:{node}", $"E {node} 1 2", "\0\0\0",
        ];
        foreach (string payload in malformed)
        {
            Assert.Null(RelaySignal.Parse(payload));
        }

        Random random = new(20261121);
        for (int i = 0; i < 5000; i++)
        {
            char[] text = new char[random.Next(0, 120)];
            for (int j = 0; j < text.Length; j++)
            {
                text[j] = "ERMST 0123456789abcdef:,-x"[random.Next(26)];
            }

            _ = RelaySignal.Parse(new string(text)); // must not throw
        }
    }

    private static string Describe(RelaySignal signal) => signal switch
    {
        RelaySignal.EnvelopesStored e => "E" + string.Join(',', e.Seqs),
        RelaySignal.MembershipChanged m => "M" + string.Join(',', m.Changes),
        RelaySignal.DeviceRevoked r => "R" + r.DeviceId,
        RelaySignal.SessionEnded s => "S" + s.DeviceId,
        RelaySignal.TasksReleased t => "T" + string.Join(',', t.Releases),
        _ => signal.GetType().Name,
    };
}
