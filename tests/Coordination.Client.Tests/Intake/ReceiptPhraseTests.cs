using Coordination.Protocol.Receipts;

namespace Coordination.Client.Tests.Intake;

/// <summary>Receipt phrases and the proof-of-work, as both the relay and clients compute them.</summary>
public sealed class ReceiptPhraseTests
{
    [Fact]
    public void A_phrase_is_eight_words_from_the_7776_word_list_and_normalizes()
    {
        Assert.Equal(7776, ReceiptPhrase.WordList.Count);
        Assert.Equal(7776, ReceiptPhrase.WordList.Distinct(StringComparer.Ordinal).Count());
        string phrase = ReceiptPhrase.Generate();
        string[] words = phrase.Split(' ');
        Assert.Equal(8, words.Length);
        Assert.All(words, w => Assert.Contains(w, ReceiptPhrase.WordList));
        Assert.NotEqual(phrase, ReceiptPhrase.Generate());

        Assert.Equal(phrase, ReceiptPhrase.Normalize("  " + phrase.ToUpperInvariant().Replace(" ", "   \t", StringComparison.Ordinal) + "\n"));
        Assert.Null(ReceiptPhrase.Normalize(string.Join(' ', words.Take(7))));
        Assert.Null(ReceiptPhrase.Normalize(string.Join(' ', words.Take(7)) + " notaword"));
    }

    [Fact]
    public void Lookup_secret_and_reply_key_differ_and_depend_on_every_word()
    {
        string phrase = ReceiptPhrase.Generate();
        byte[] lookup = ReceiptPhrase.LookupSecret(phrase);
        byte[] reply = ReceiptPhrase.ReplyKey(phrase);
        Assert.Equal(32, lookup.Length);
        Assert.NotEqual(lookup, reply);
        Assert.Equal(lookup, ReceiptPhrase.LookupSecret(phrase));
        string[] words = phrase.Split(' ');
        words[7] = words[7] == "zoom" ? "abacus" : "zoom";
        Assert.NotEqual(lookup, ReceiptPhrase.LookupSecret(string.Join(' ', words)));
    }

    [Fact]
    public void A_solved_proof_of_work_verifies_at_its_difficulty_and_not_beyond()
    {
        byte[] nonce = Coordination.Crypto.SecureRandom.Bytes(32);
        ulong counter = ProofOfWork.Solve(nonce, 12);
        Assert.True(ProofOfWork.IsSolved(nonce, counter, 12));
        Assert.True(ProofOfWork.IsSolved(nonce, counter, 0));
        Assert.False(ProofOfWork.IsSolved(nonce, counter, 256 + 1));
        int unsolved = Enumerable.Range(0, 64).Count(i => !ProofOfWork.IsSolved(nonce, (ulong)i + counter + 1, 20));
        Assert.True(unsolved >= 60);
    }
}
