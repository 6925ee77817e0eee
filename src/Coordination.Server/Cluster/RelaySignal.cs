using System.Globalization;
using System.Text;

namespace Coordination.Server.Cluster;

/// <summary>
/// What one relay node tells the others, as PostgreSQL notification payloads. A payload carries
/// ids and sequence numbers only, never content: the database stays the source of truth and each
/// node reads what it needs from it. Format: <c>KIND NODE ITEM,ITEM,...</c>; ids are 32 hex digits.
/// <list type="bullet">
/// <item><c>E</c>: envelopes committed, items are sequence numbers; deliver them live.</item>
/// <item><c>M</c>: conversation membership changed, items <c>conversation:account:1|0</c> (added or
/// removed; account all zeros: only the epoch moved).</item>
/// <item><c>R</c>: a device was revoked; cut its connections and sessions.</item>
/// <item><c>S</c>: a device ended a session; forget its cached sessions.</item>
/// <item><c>T</c>: task parts released, items <c>task:cell:membership:reason</c>; tell the organizers.</item>
/// </list>
/// </summary>
public abstract record RelaySignal
{
    /// <summary>The notification channel every node listens on.</summary>
    public const string Channel = "coordination_relay";

    // PostgreSQL refuses payloads of 8000 bytes or more; stay well below.
    private const int MaxPayload = 7000;

    private RelaySignal(Guid node) => Node = node;

    /// <summary>The node that sent it (a node ignores its own signals: it has applied them already).</summary>
    public Guid Node { get; }

    public sealed record EnvelopesStored(Guid From, IReadOnlyList<long> Seqs) : RelaySignal(From);

    public sealed record MembershipChanged(Guid From, IReadOnlyList<(Guid ConversationId, Guid AccountId, bool Added)> Changes) : RelaySignal(From);

    public sealed record DeviceRevoked(Guid From, Guid DeviceId) : RelaySignal(From);

    public sealed record SessionEnded(Guid From, Guid DeviceId) : RelaySignal(From);

    public sealed record TasksReleased(Guid From, IReadOnlyList<(Guid TaskId, Guid CellId, Guid MembershipId, int Reason)> Releases) : RelaySignal(From);

    public static IEnumerable<string> EnvelopesStoredPayloads(Guid node, IReadOnlyCollection<long> seqs) =>
        Chunk('E', node, seqs.Select(s => s.ToString(CultureInfo.InvariantCulture)));

    public static IEnumerable<string> Payloads(RelaySignal signal) => signal switch
    {
        EnvelopesStored e => EnvelopesStoredPayloads(e.Node, [.. e.Seqs]),
        MembershipChanged m => Chunk('M', m.Node, m.Changes.Select(c => $"{Hex(c.ConversationId)}:{Hex(c.AccountId)}:{(c.Added ? 1 : 0)}")),
        DeviceRevoked r => [$"R {Hex(r.Node)} {Hex(r.DeviceId)}"],
        SessionEnded s => [$"S {Hex(s.Node)} {Hex(s.DeviceId)}"],
        TasksReleased t => Chunk('T', t.Node, t.Releases.Select(r => $"{Hex(r.TaskId)}:{Hex(r.CellId)}:{Hex(r.MembershipId)}:{r.Reason.ToString(CultureInfo.InvariantCulture)}")),
        _ => throw new ArgumentException($"Unknown signal {signal.GetType().Name}.", nameof(signal)),
    };

    /// <summary>The signal in a payload, or null when the payload is not one (it is then ignored).</summary>
    public static RelaySignal? Parse(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        string[] parts = payload.Split(' ');
        if (parts.Length != 3 || parts[0].Length != 1 || !TryId(parts[1], out Guid node))
        {
            return null;
        }

        string[] items = parts[2].Split(',');
        try
        {
            return parts[0][0] switch
            {
                'E' => new EnvelopesStored(node, [.. items.Select(i => long.Parse(i, NumberStyles.None, CultureInfo.InvariantCulture))]),
                'M' => new MembershipChanged(node, [.. items.Select(i => i.Split(':')).Select(f => f.Length == 3 && f[2] is "0" or "1"
                    ? (Id(f[0]), Id(f[1]), f[2] == "1")
                    : throw new FormatException())]),
                'R' when items.Length == 1 => new DeviceRevoked(node, Id(items[0])),
                'S' when items.Length == 1 => new SessionEnded(node, Id(items[0])),
                'T' => new TasksReleased(node, [.. items.Select(i => i.Split(':')).Select(f => f.Length == 4
                    ? (Id(f[0]), Id(f[1]), Id(f[2]), int.Parse(f[3], NumberStyles.None, CultureInfo.InvariantCulture))
                    : throw new FormatException())]),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Chunk(char kind, Guid node, IEnumerable<string> items)
    {
        string prefix = $"{kind} {Hex(node)} ";
        StringBuilder payload = new(prefix);
        bool any = false;
        foreach (string item in items)
        {
            if (any && payload.Length + 1 + item.Length > MaxPayload)
            {
                yield return payload.ToString();
                payload.Clear().Append(prefix);
                any = false;
            }

            if (any)
            {
                payload.Append(',');
            }

            payload.Append(item);
            any = true;
        }

        if (any)
        {
            yield return payload.ToString();
        }
    }

    private static string Hex(Guid id) => id.ToString("N");

    private static bool TryId(string text, out Guid id) => Guid.TryParseExact(text, "N", out id);

    private static Guid Id(string text) => TryId(text, out Guid id) ? id : throw new FormatException();
}

/// <summary>This process among the relay nodes: a random id for its lifetime, so it can tell its own signals.</summary>
public sealed class NodeIdentity
{
    public Guid Id { get; } = Guid.NewGuid();
}
