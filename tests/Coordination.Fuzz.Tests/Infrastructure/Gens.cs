using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Infrastructure;

/// <summary>Bytes as a case: what they are (how they were made) and their hex, so a failure shows its input.</summary>
public sealed record Bytes(byte[] Value, string How)
{
    public int Length => Value.Length;

    public override string ToString() => $"{How} [{Value.Length} bytes] {Gens.Hex(Value)}";
}

/// <summary>
/// A valid input with one to three changes: bit flips, changed bytes, truncation, extension,
/// inserted, deleted, duplicated or overwritten ranges, length and count fields set to extremes.
/// The bytes always differ from the original.
/// </summary>
public sealed record Mutation(byte[] Original, byte[] Value, string How)
{
    public bool SameLength => Value.Length == Original.Length;

    /// <summary>Positions that differ (same length only).</summary>
    public IEnumerable<int> Changed => SameLength ? Enumerable.Range(0, Value.Length).Where(i => Value[i] != Original[i]) : [];

    public override string ToString() => $"{How} [{Original.Length} -> {Value.Length} bytes] {Gens.Hex(Value)}";
}

/// <summary>
/// Generators. Contents come from a <see cref="System.Random"/> seeded by a number FsCheck draws, so
/// large inputs are cheap and every case is replayed exactly from the property's seed.
/// </summary>
public static class Gens
{
    /// <summary>Lengths a parser of fixed-size fields is most likely to get wrong.</summary>
    private static readonly int[] s_edgeLengths = [0, 1, 2, 7, 8, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 55, 56, 63, 64, 65, 127, 128, 129, 255, 256, 257];

    public static Gen<int> Seeds { get; } = Gen.Choose(int.MinValue, int.MaxValue);

    /// <summary>Random bytes of a length in [<paramref name="min"/>, <paramref name="max"/>], edge lengths often.</summary>
    public static Gen<Bytes> Bytes(int min, int max) =>
        from length in Gen.Frequency(
            (3, Gen.Choose(min, max)),
            (2, Gen.Elements(s_edgeLengths.Where(l => l >= min && l <= max).DefaultIfEmpty(min).ToArray())),
            (1, Gen.Constant(max)))
        from seed in Seeds
        from fill in Gen.Frequency((8, Gen.Constant(-1)), (1, Gen.Constant(0x00)), (1, Gen.Constant(0xFF)))
        select Fill(length, seed, fill, fill < 0 ? "random" : $"all 0x{fill:X2}");

    /// <summary><paramref name="prefix"/> then random bytes, so a parser gets past its magic bytes or label.</summary>
    public static Gen<Bytes> Prefixed(byte[] prefix, int maxTail) =>
        from tail in Bytes(0, maxTail)
        select new Bytes([.. prefix, .. tail.Value], $"prefix {Hex(prefix)} + {tail.How}");

    public static Gen<byte[]> ExactBytes(int length) => Seeds.Select(seed => Fill(length, seed, -1, "").Value);

    /// <summary>A mutation of one of <paramref name="originals"/>.</summary>
    public static Gen<Mutation> Mutations(params byte[][] originals) =>
        from original in Gen.Elements(originals)
        from seed in Seeds
        select Mutate(original, new System.Random(seed));

    /// <summary>Strings: empty, whitespace, ASCII, Unicode (Cyrillic, emoji, combining marks, lone surrogates), control characters, long.</summary>
    public static Gen<string> Strings(int maxLength) =>
        from seed in Seeds
        from kind in Gen.Choose(0, 9)
        select RandomString(new System.Random(seed), kind, maxLength);

    /// <summary>
    /// Text for a path segment (escaped when sent): any string but NUL, which Kestrel refuses in a
    /// path with a bare 400 of its own, before the relay's pipeline (and its problem details) runs.
    /// </summary>
    public static Gen<string> PathText(int maxLength) => Strings(maxLength).Select(s => s.Replace("\0", "", StringComparison.Ordinal));

    public static string RandomString(System.Random random, int kind, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        int length = random.Next(3) == 0 ? random.Next(maxLength + 1) : random.Next(Math.Min(maxLength, 64) + 1);
        const string Whitespace = " \t\r\n\u00A0\u2000\u2028\u3000\u000B\u000C\u0085\u180E\u200B\uFEFF";
        const string Ascii = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
        StringBuilder text = new(length);
        for (int i = 0; i < length; i++)
        {
            switch (kind)
            {
                case 0:
                    text.Append(Whitespace[random.Next(Whitespace.Length)]);
                    break;
                case 1:
                case 2:
                    text.Append(Ascii[random.Next(Ascii.Length)]);
                    break;
                case 3:
                    text.Append((char)random.Next(0x400, 0x500));
                    break;
                case 4:
                    text.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1F6FF)));
                    break;
                case 5:
                    text.Append((char)random.Next(0, 0x20));
                    break;
                case 6:
                    // Any UTF-16 code unit, lone surrogates included.
                    text.Append((char)random.Next(0, 0x10000));
                    break;
                case 7:
                    text.Append(random.Next(4) == 0 ? '\u0301' : (char)random.Next('a', 'z' + 1));
                    break;
                default:
                    text.Append(random.Next(3) switch { 0 => Whitespace[random.Next(Whitespace.Length)], 1 => Ascii[random.Next(Ascii.Length)], _ => (char)random.Next(0x80, 0x3000) });
                    break;
            }
        }

        return text.ToString();
    }

    public static Bytes Fill(int length, int seed, int fill, string how)
    {
        byte[] bytes = new byte[length];
        if (fill < 0)
        {
            new System.Random(seed).NextBytes(bytes);
        }
        else
        {
            Array.Fill(bytes, (byte)fill);
        }

        return new Bytes(bytes, how);
    }

    public static Mutation Mutate(byte[] original, System.Random random)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(random);
        List<byte> bytes = [.. original];
        List<string> how = [];
        int count = 1 + random.Next(3);
        for (int i = 0; i < count; i++)
        {
            how.Add(MutateOnce(bytes, random));
        }

        if (bytes.SequenceEqual(original))
        {
            // The changes undid each other; one more that cannot.
            if (bytes.Count == 0)
            {
                bytes.Add((byte)random.Next(256));
                how.Add("append 1 byte");
            }
            else
            {
                int position = random.Next(bytes.Count);
                bytes[position] ^= 0x01;
                how.Add($"flip bit 0 at {position}");
            }
        }

        return new Mutation(original, [.. bytes], string.Join("; ", how));
    }

    private static string MutateOnce(List<byte> bytes, System.Random random)
    {
        if (bytes.Count == 0)
        {
            int added = 1 + random.Next(64);
            bytes.AddRange(RandomBytes(random, added));
            return $"append {added} bytes";
        }

        int at = random.Next(bytes.Count);
        switch (random.Next(10))
        {
            case 0:
            case 1:
                int bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return $"flip bit {bit} at {at}";
            case 2:
                bytes[at] ^= (byte)(1 + random.Next(255));
                return $"change byte at {at}";
            case 3:
                int length = random.Next(bytes.Count);
                bytes.RemoveRange(length, bytes.Count - length);
                return $"truncate to {length}";
            case 4:
                int extra = random.Next(4) == 0 ? 1 + random.Next(4096) : 1 + random.Next(32);
                bytes.AddRange(RandomBytes(random, extra));
                return $"append {extra} bytes";
            case 5:
                int inserted = 1 + random.Next(16);
                bytes.InsertRange(at, RandomBytes(random, inserted));
                return $"insert {inserted} bytes at {at}";
            case 6:
                int removed = Math.Min(1 + random.Next(16), bytes.Count - at);
                bytes.RemoveRange(at, removed);
                return $"delete {removed} bytes at {at}";
            case 7:
                int copied = Math.Min(1 + random.Next(32), bytes.Count - at);
                bytes.InsertRange(at, bytes.GetRange(at, copied));
                return $"duplicate {copied} bytes at {at}";
            case 8:
                int overwritten = Math.Min(1 + random.Next(32), bytes.Count - at);
                byte[] noise = RandomBytes(random, overwritten);
                for (int i = 0; i < overwritten; i++)
                {
                    bytes[at + i] = noise[i];
                }

                return $"overwrite {overwritten} bytes at {at}";
            default:
                // A length, count or index field set to an extreme.
                int width = new[] { 1, 2, 4, 8 }[random.Next(4)];
                if (at + width > bytes.Count)
                {
                    at = Math.Max(0, bytes.Count - width);
                    width = Math.Min(width, bytes.Count);
                }

                ulong value = random.Next(4) switch { 0 => 0, 1 => ulong.MaxValue, 2 => 1UL << ((width * 8) - 1), _ => (ulong)random.NextInt64() };
                Span<byte> field = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(field, value);
                for (int i = 0; i < width; i++)
                {
                    bytes[at + i] = field[8 - width + i];
                }

                return $"set {width}-byte field at {at} to 0x{value:X}";
        }
    }

    public static byte[] RandomBytes(System.Random random, int length)
    {
        ArgumentNullException.ThrowIfNull(random);
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    public static string Hex(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return bytes.Length <= 2048 ? Convert.ToHexString(bytes) : $"{Convert.ToHexString(bytes.AsSpan(0, 512))}...{Convert.ToHexString(bytes.AsSpan(bytes.Length - 64))}";
    }
}
