using System.Buffers.Binary;
using System.Text;
using Coordination.Crypto;

namespace Coordination.Protocol.Receipts;

/// <summary>
/// The receipt a reporter keeps (protocol section 11.3): eight words drawn uniformly from the EFF
/// large word list (7,776 words, about 103 bits), separated by single spaces. Two keys come from
/// it, by BLAKE2b-256 keyed with fixed labels over the normalized phrase: the lookup secret, which
/// the reporter's client sends and the relay turns into a lookup id with Argon2id and its pepper,
/// and the reply key, which only the reporter and the intake team (who read the phrase inside the
/// sealed report) can compute.
/// </summary>
public static class ReceiptPhrase
{
    public const int Words = 8;

    private static readonly Lazy<string[]> s_list = new(LoadList);
    private static readonly Lazy<HashSet<string>> s_known = new(() => new HashSet<string>(s_list.Value, StringComparer.Ordinal));

    /// <summary>The word list, in order.</summary>
    public static IReadOnlyList<string> WordList => s_list.Value;

    public static string Generate()
    {
        string[] list = s_list.Value;
        return string.Join(' ', Enumerable.Range(0, Words).Select(_ => list[SecureRandom.Uniform((uint)list.Length)]));
    }

    /// <summary>Lower-case, trimmed, single spaces; null if it is not eight words from the list.</summary>
    public static string? Normalize(string? phrase)
    {
        if (string.IsNullOrWhiteSpace(phrase) || phrase.Length > 200)
        {
            return null;
        }

        string[] words = phrase.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length == Words && words.All(s_known.Value.Contains) ? string.Join(' ', words) : null;
    }

    /// <summary>BLAKE2b-256(key = "coordination/v1/receipt-lookup", normalized phrase).</summary>
    public static byte[] LookupSecret(string normalizedPhrase) => Derive("coordination/v1/receipt-lookup", normalizedPhrase);

    /// <summary>BLAKE2b-256(key = "coordination/v1/receipt-reply", normalized phrase): seals replies (XChaCha20-Poly1305).</summary>
    public static byte[] ReplyKey(string normalizedPhrase) => Derive("coordination/v1/receipt-reply", normalizedPhrase);

    private static byte[] Derive(string label, string phrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(phrase);
        using SecretKey key = SecretKey.Import(Encoding.ASCII.GetBytes(label));
        return Blake2b.KeyedHash(key, Encoding.UTF8.GetBytes(phrase), 32);
    }

    private static string[] LoadList()
    {
        using Stream stream = typeof(ReceiptPhrase).Assembly.GetManifestResourceStream("Coordination.Protocol.Receipts.eff-large-wordlist.txt")
            ?? throw new InvalidOperationException("The receipt word list is missing from the assembly.");
        using StreamReader reader = new(stream, Encoding.UTF8);
        string[] words = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return words.Length == 7776 ? words : throw new InvalidOperationException("The receipt word list must have 7,776 words.");
    }
}

/// <summary>
/// The submission proof-of-work (protocol section 11.2): find a 64-bit counter such that
/// BLAKE2b-256(nonce || counter, big-endian) starts with <c>difficulty</c> zero bits.
/// </summary>
public static class ProofOfWork
{
    /// <summary>The longest challenge nonce accepted (the relay issues 32 bytes); a longer one comes from a hostile relay.</summary>
    public const int MaxNonceBytes = 64;

    public static bool IsSolved(ReadOnlySpan<byte> nonce, ulong counter, int difficulty)
    {
        if (nonce.Length > MaxNonceBytes)
        {
            throw new ArgumentException($"A proof-of-work nonce is at most {MaxNonceBytes} bytes.", nameof(nonce));
        }

        Span<byte> input = stackalloc byte[nonce.Length + 8];
        nonce.CopyTo(input);
        BinaryPrimitives.WriteUInt64BigEndian(input[nonce.Length..], counter);
        Span<byte> hash = stackalloc byte[32];
        Blake2b.Hash(input, hash);
        return LeadingZeroBits(hash) >= difficulty;
    }

    /// <summary>Searches counters from 0 (a client's job; tests use it too).</summary>
    public static ulong Solve(ReadOnlySpan<byte> nonce, int difficulty, CancellationToken ct = default)
    {
        for (ulong counter = 0; ; counter++)
        {
            if ((counter & 0xFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            if (IsSolved(nonce, counter, difficulty))
            {
                return counter;
            }
        }
    }

    private static int LeadingZeroBits(ReadOnlySpan<byte> hash)
    {
        int bits = 0;
        foreach (byte b in hash)
        {
            if (b == 0)
            {
                bits += 8;
                continue;
            }

            return bits + System.Numerics.BitOperations.LeadingZeroCount((uint)b) - 24;
        }

        return bits;
    }
}
