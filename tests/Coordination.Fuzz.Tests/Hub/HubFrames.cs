using System.Globalization;
using System.Text;
using Coordination.Fuzz.Tests.Infrastructure;

namespace Coordination.Fuzz.Tests.Hub;

/// <summary>One WebSocket message: its bytes, text or binary, and what it is meant to be.</summary>
public sealed record Frame(byte[] Data, bool Binary, string How)
{
    public string Text => Encoding.UTF8.GetString(Data);

    public override string ToString() => $"{How} ({(Binary ? "binary" : "text")}, {Data.Length} bytes): {(Data.Length <= 400 ? Text : Text[..200] + "..." + Text[^100..])}";
}

/// <summary>A few frames sent one after the other on one connection.</summary>
public sealed record HubCase(IReadOnlyList<Frame> Frames)
{
    public override string ToString() => string.Join(Environment.NewLine + "  then ", Frames);
}

/// <summary>
/// Frames for the relay hub: invalid JSON, JSON that is not a message, unknown message types,
/// invocations of Send, Ack and Fetch (and of no method) with wrong argument counts and types,
/// envelopes with every field wrong, large arguments within the 128 KiB limit, stream and
/// completion messages a client should never send, random bytes, and records without their separator.
/// </summary>
public static class HubFrames
{
    private static readonly string[] s_ttls = ["null", "0", "-1", "3600", "2592001", "1e9", "\"x\""];
    private static readonly string[] s_seqs = ["0", "-1", "1", "9223372036854775807", "1e30", "null"];
    private static readonly string[] s_types = ["0", "8", "99", "-1", "\"1\"", "null", "1.5", "2147483648", "[]", "{}"];
    private static readonly int[] s_lengths = [0, 1, 255, 256, 257, 1024, 4096];

    private static readonly string[] s_targets = ["Send", "Ack", "Fetch", "send", "FETCH", "OnConnectedAsync", "Dispose", "", "Unknown", "ReceiveEnvelope"];

    public static HubCase Case(System.Random random, IReadOnlyList<Guid> knownIds)
    {
        ArgumentNullException.ThrowIfNull(random);
        int count = 1 + random.Next(3);
        List<Frame> frames = [];
        for (int i = 0; i < count; i++)
        {
            frames.Add(One(random, knownIds));
        }

        return new HubCase(frames);
    }

    private static Frame One(System.Random random, IReadOnlyList<Guid> knownIds)
    {
        int kind = random.Next(16);
        switch (kind)
        {
            case 0:
                return Text(Gens.RandomString(random, random.Next(10), 200) + Sep(random), "text that is not JSON");
            case 1:
                return Text(JsonFuzz.BadValue(random, knownIds) + RawHub.Separator, "JSON that is not a message");
            case 2:
                string type = s_types[random.Next(s_types.Length)];
                return Text($"{{\"type\":{type},\"target\":\"Fetch\",\"arguments\":[1],\"invocationId\":\"{Id(random)}\"}}" + RawHub.Separator, $"type {type}");
            case 3:
            case 4:
            case 5:
                return Text(Invocation(random, s_targets[random.Next(s_targets.Length)], Arguments(random, knownIds), random.Next(4) != 0) + RawHub.Separator, "an invocation with any arguments");
            case 6:
            case 7:
            case 8:
                return Text(Invocation(random, "Send", [Envelope(random, knownIds)], random.Next(6) != 0) + RawHub.Separator, "Send with an envelope");
            case 9:
                return Text(Invocation(random, "Ack", [Acks(random, knownIds)], random.Next(6) != 0) + RawHub.Separator, "Ack with acknowledgements");
            case 10:
                string message = random.Next(6) switch
                {
                    0 => $"{{\"type\":4,\"invocationId\":\"{Id(random)}\",\"target\":\"Fetch\",\"arguments\":[1],\"streamIds\":[\"s1\"]}}",
                    1 => $"{{\"type\":2,\"invocationId\":\"{Id(random)}\",\"item\":{JsonFuzz.BadValue(random, knownIds)}}}",
                    2 => $"{{\"type\":3,\"invocationId\":\"{Id(random)}\",\"result\":{JsonFuzz.BadValue(random, knownIds)}}}",
                    3 => $"{{\"type\":3,\"invocationId\":\"{Id(random)}\",\"error\":\"no\"}}",
                    4 => $"{{\"type\":5,\"invocationId\":\"{Id(random)}\"}}",
                    _ => "{\"type\":6}",
                };
                return Text(message + RawHub.Separator, "a stream, completion, cancel or ping message");
            case 11:
                byte[] bytes = Gens.RandomBytes(random, random.Next(600));
                return new Frame(random.Next(2) == 0 ? bytes : [.. bytes, (byte)RawHub.Separator], Binary: random.Next(3) != 0, "random bytes");
            case 12:
                // No record separator: the server must wait for the rest, and cope with what follows.
                return Text(Invocation(random, "Fetch", [random.Next(-5, 600)], true), "a record without its separator");
            case 13:
                StringBuilder several = new();
                for (int i = 1 + random.Next(4); i > 0; i--)
                {
                    several.Append(Invocation(random, "Fetch", [random.Next(-5, 600)], true)).Append(RawHub.Separator);
                }

                return Text(several.ToString(), "several records in one frame");
            case 14:
                // A large argument, within the 128 KiB message limit.
                int length = 60_000 + random.Next(60_000);
                return Text(Invocation(random, random.Next(2) == 0 ? "Send" : "Ack", [$"{{\"ciphertext\":\"{new string('A', length)}\",\"conversationId\":\"{NewId(random)}\",\"messageId\":\"{NewId(random)}\"}}"], true) + RawHub.Separator, "a large argument");
            default:
                return new Frame(Encoding.UTF8.GetBytes(Invocation(random, "Fetch", [1], true) + RawHub.Separator), Binary: true, "an invocation as a binary frame");
        }
    }

    private static Guid NewId(System.Random random) => new(Gens.RandomBytes(random, 16));

    private static string Sep(System.Random random) => random.Next(3) == 0 ? "" : RawHub.Separator.ToString();

    private static Frame Text(string text, string how) => new(Encoding.UTF8.GetBytes(text), Binary: false, how);

    private static string Id(System.Random random) => "fuzz-" + random.Next(1000).ToString(CultureInfo.InvariantCulture);

    private static string Invocation(System.Random random, string target, IEnumerable<object> arguments, bool withId)
    {
        string args = string.Join(",", arguments.Select(a => a is string raw ? raw : Convert.ToString(a, CultureInfo.InvariantCulture)));
        string id = !withId ? "" : random.Next(8) switch { 0 => "\"invocationId\":7,", 1 => "\"invocationId\":\"\",", 2 => "\"invocationId\":null,", _ => $"\"invocationId\":\"{Id(random)}\"," };
        string targetField = random.Next(12) == 0 ? "\"target\":null," : $"\"target\":\"{target}\",";
        string argumentsField = random.Next(12) switch { 0 => "\"arguments\":null", 1 => "\"arguments\":{}", 2 => "\"arguments\":\"x\"", 3 => "\"x\":1", _ => $"\"arguments\":[{args}]" };
        return $"{{\"type\":1,{id}{targetField}{argumentsField}}}";
    }

    private static List<object> Arguments(System.Random random, IReadOnlyList<Guid> knownIds)
    {
        int count = random.Next(4);
        List<object> arguments = [];
        for (int i = 0; i < count; i++)
        {
            arguments.Add(random.Next(3) == 0 ? Envelope(random, knownIds) : JsonFuzz.BadValue(random, knownIds));
        }

        return arguments;
    }

    /// <summary>A SendEnvelope-like object with each field right, wrong or missing.</summary>
    private static string Envelope(System.Random random, IReadOnlyList<Guid> knownIds)
    {
        List<string> fields = [];
        Maybe(fields, random, "conversationId", () => random.Next(3) == 0 && knownIds.Count > 0 ? $"\"{knownIds[random.Next(knownIds.Count)]}\"" : $"\"{NewId(random)}\"", knownIds);
        Maybe(fields, random, "messageId", () => $"\"{NewId(random)}\"", knownIds);
        Maybe(fields, random, "ciphertext", () =>
        {
            byte[] bytes = Gens.RandomBytes(random, s_lengths[random.Next(s_lengths.Length)]);
            if (bytes.Length > 1 && random.Next(2) == 0)
            {
                // The group header the relay reads in cells: version, type, epoch.
                bytes[0] = 1;
                bytes[1] = (byte)(1 + random.Next(2));
            }

            return $"\"{Convert.ToBase64String(bytes)}\"";
        }, knownIds);
        Maybe(fields, random, "ttlSeconds", () => s_ttls[random.Next(s_ttls.Length)], knownIds);
        return "{" + string.Join(",", fields) + "}";
    }

    private static string Acks(System.Random random, IReadOnlyList<Guid> knownIds)
    {
        int count = random.Next(4) == 0 ? 501 : random.Next(4);
        IEnumerable<string> acks = Enumerable.Range(0, count).Select(_ => random.Next(5) == 0
            ? JsonFuzz.BadValue(random, knownIds)
            : $"{{\"conversationId\":\"{NewId(random)}\",\"seq\":{s_seqs[random.Next(s_seqs.Length)]}}}");
        return random.Next(8) == 0 ? JsonFuzz.BadValue(random, knownIds) : $"{{\"acks\":[{string.Join(",", acks)}]}}";
    }

    /// <summary>The field with a right value (usually), a wrong one, or not at all.</summary>
    private static void Maybe(List<string> fields, System.Random random, string name, Func<string> right, IReadOnlyList<Guid> knownIds)
    {
        switch (random.Next(6))
        {
            case 0:
                return;
            case 1:
                fields.Add($"\"{name}\":{JsonFuzz.BadValue(random, knownIds)}");
                return;
            default:
                fields.Add($"\"{name}\":{right()}");
                return;
        }
    }
}
