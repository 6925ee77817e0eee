using System.Text;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol.Receipts;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// Receipt phrases as a reporter types them back (the web page, the CLI, a bot's chat): any text
/// normalizes to eight list words or to nothing, however it is cased and spaced, and a phrase with
/// a word changed, missing or added is nothing.
/// </summary>
public sealed class ReceiptPhraseProperties
{
    private static readonly HashSet<string> s_words = new(ReceiptPhrase.WordList, StringComparer.Ordinal);
    private static readonly string[] s_separators = [" ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", " \t "];

    private static Gen<string[]> Phrases { get; } = Gen.ArrayOf(Gen.Elements(ReceiptPhrase.WordList.ToArray()), ReceiptPhrase.Words);

    [Fact]
    public void Normalize_ArbitraryText_IsNullOrEightListWords()
    {
        Gen<string?> texts = Gen.Frequency(
            (1, Gen.Constant<string?>(null)),
            (6, Gens.Strings(260).Select(s => (string?)s)),
            (3, from words in Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Elements(ReceiptPhrase.WordList.ToArray()), n))
                from noise in Gens.Strings(12)
                from at in Gen.Choose(0, 12)
                select (string?)string.Join(' ', words.Take(at).Append(noise).Concat(words.Skip(at)))));
        Fuzzer.Check(3000, Fuzzer.Cases(texts), text =>
        {
            string? normalized = ReceiptPhrase.Normalize(text);
            if (normalized is not null)
            {
                string[] words = normalized.Split(' ');
                Assert.Equal(ReceiptPhrase.Words, words.Length);
                Assert.All(words, w => Assert.Contains(w, s_words));
                Assert.Equal(normalized, ReceiptPhrase.Normalize(normalized));
                Assert.Equal(32, ReceiptPhrase.LookupSecret(normalized).Length);
            }
        });
    }

    [Fact]
    public void Normalize_AnyCasingAndSpacing_GivesTheCanonicalPhrase()
    {
        Gen<(string Canonical, string Typed)> typed =
            from words in Phrases
            from seed in Gens.Seeds
            select (string.Join(' ', words), Retype(words, new System.Random(seed)));
        Fuzzer.Check(2000, Fuzzer.Cases(typed), c =>
        {
            string? normalized = ReceiptPhrase.Normalize(c.Typed);
            Assert.Equal(c.Typed.Length <= 200 ? c.Canonical : null, normalized);
        });
    }

    [Fact]
    public void Normalize_PhraseWithAWordChangedMissingOrAdded_IsNull()
    {
        Gen<string> broken =
            from words in Phrases
            from at in Gen.Choose(0, ReceiptPhrase.Words - 1)
            from kind in Gen.Choose(0, 4)
            from replacement in Gens.Strings(12)
            from extra in Gen.Elements(ReceiptPhrase.WordList.ToArray())
            select Break(words, at, kind, replacement, extra);
        Fuzzer.Check(2000, Fuzzer.Cases(broken), phrase => Assert.Null(ReceiptPhrase.Normalize(phrase)));
    }

    [Fact]
    public void DerivedKeys_AnyText_ThirtyTwoBytesOrArgumentException()
    {
        Gen<string?> texts = Gen.Frequency((1, Gen.Constant<string?>(null)), (1, Gen.Constant<string?>("")), (8, Gens.Strings(300).Select(s => (string?)s)));
        Fuzzer.Check(1000, Fuzzer.Cases(texts), text =>
        {
            if (string.IsNullOrEmpty(text))
            {
                Assert.ThrowsAny<ArgumentException>(() => ReceiptPhrase.LookupSecret(text!));
                Assert.ThrowsAny<ArgumentException>(() => ReceiptPhrase.ReplyKey(text!));
                return;
            }

            byte[] lookup = ReceiptPhrase.LookupSecret(text);
            byte[] reply = ReceiptPhrase.ReplyKey(text);
            Assert.Equal(32, lookup.Length);
            Assert.Equal(32, reply.Length);
            Assert.NotEqual(lookup, reply);
        });
    }

    private static string Retype(string[] words, System.Random random)
    {
        StringBuilder text = new();
        text.Append(random.Next(3) == 0 ? s_separators[random.Next(s_separators.Length)] : "");
        for (int i = 0; i < words.Length; i++)
        {
            if (i > 0)
            {
                text.Append(s_separators[random.Next(s_separators.Length)]);
            }

            foreach (char c in words[i])
            {
                text.Append(random.Next(2) == 0 ? char.ToUpperInvariant(c) : c);
            }
        }

        text.Append(random.Next(3) == 0 ? s_separators[random.Next(s_separators.Length)] : "");
        return text.ToString();
    }

    private static string Break(string[] words, int at, int kind, string replacement, string extra)
    {
        List<string> list = [.. words];
        switch (kind)
        {
            case 0:
                list.RemoveAt(at);
                break;
            case 1:
                list.Insert(at, extra);
                break;
            case 2:
                // Two words run together: seven tokens.
                if (at == list.Count - 1)
                {
                    at--;
                }

                list[at] += list[at + 1];
                list.RemoveAt(at + 1);
                break;
            case 3:
                // A word with one letter changed to one that makes it no list word.
                string changed = list[at];
                for (char c = 'a'; c <= 'z' && s_words.Contains(changed); c++)
                {
                    changed = c + list[at][1..];
                }

                list[at] = s_words.Contains(changed) ? list[at] + "q1" : changed;
                break;
            default:
                // Any other token in its place.
                string token = new([.. replacement.Where(c => !char.IsWhiteSpace(c))]);
                list[at] = token.Length == 0 || s_words.Contains(token.ToLowerInvariant()) ? "0" + token : token;
                break;
        }

        return string.Join(' ', list);
    }
}
