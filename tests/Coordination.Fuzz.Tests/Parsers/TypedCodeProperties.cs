using System.Text;
using Coordination.Client.Cells;
using Coordination.Client.Identity;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// Invite codes and device link codes as people type them: anything parses or is a
/// <see cref="FormatException"/>; a code retyped with other case, spaces and dashes is the same
/// code; a code with a character changed is another code or none; what is sealed under a code opens
/// only with it, and nothing else opens.
/// </summary>
public sealed class TypedCodeProperties
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    private static readonly byte[] s_genesis = Blake2b.Hash("fuzz genesis"u8, 32);

    private static Gen<string> TypedText { get; } = Gen.OneOf(
        Gens.Strings(80),
        // Alphabet characters (and a few that look like them) in codes' lengths, with separators.
        from length in Gen.Elements(31, 32, 33, 51, 52, 53, 0, 4)
        from seed in Gens.Seeds
        select Scribble(new System.Random(seed), length));

    [Fact]
    public void InviteCode_Parse_AnyText_ParsesOrFormatException()
    {
        Fuzzer.Check(3000, Fuzzer.Cases(TypedText), text =>
        {
            try
            {
                using InviteCode code = InviteCode.Parse(text);
                Assert.Equal(32, code.LookupId.Length);
                Assert.Equal(InviteCode.GenesisTagBytes, code.GenesisTag.Length);
            }
            catch (FormatException)
            {
            }
        });
    }

    [Fact]
    public void DeviceLinkCode_Parse_AnyText_ParsesOrFormatException()
    {
        Fuzzer.Check(3000, Fuzzer.Cases(TypedText), text =>
        {
            try
            {
                using DeviceLinkCode code = DeviceLinkCode.Parse(text);
                Assert.Equal(32, code.LookupId.Length);
            }
            catch (FormatException)
            {
            }
        });
    }

    [Fact]
    public void Codes_Null_ArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => InviteCode.Parse(null!));
        Assert.Throws<ArgumentNullException>(() => DeviceLinkCode.Parse(null!));
    }

    [Fact]
    public void InviteCode_RetypedOrChanged_SameCodeOrAnotherOrNone()
    {
        Gen<(int Seed, int Edit)> cases = Gen.Zip(Gens.Seeds, Gen.Choose(0, 3));
        Fuzzer.Check(400, Fuzzer.Cases(cases), c =>
        {
            System.Random random = new(c.Seed);
            using InviteCode original = InviteCode.Create(s_genesis);
            string plain = original.Code.Replace("-", "", StringComparison.Ordinal);
            using (InviteCode retyped = InviteCode.Parse(Retype(plain, random)))
            {
                Assert.Equal(original.LookupId, retyped.LookupId);
                Assert.Equal(original.GenesisTag, retyped.GenesisTag);
                Assert.Equal(original.Code, retyped.Code);
            }

            string edited = Edit(plain, random, c.Edit);
            try
            {
                using InviteCode other = InviteCode.Parse(edited);
                Assert.False(other.LookupId.AsSpan().SequenceEqual(original.LookupId) && other.GenesisTag.AsSpan().SequenceEqual(original.GenesisTag),
                    $"'{edited}' is a different code but parses to the same invite as '{plain}'");
            }
            catch (FormatException)
            {
            }
        }, divisor: 10);
    }

    [Fact]
    public void DeviceLinkCode_RetypedOrChanged_SameCodeOrAnotherOrNone()
    {
        Gen<(int Seed, int Edit)> cases = Gen.Zip(Gens.Seeds, Gen.Choose(0, 3));
        Fuzzer.Check(400, Fuzzer.Cases(cases), c =>
        {
            System.Random random = new(c.Seed);
            using DeviceLinkCode original = DeviceLinkCode.Create();
            string plain = original.Code.Replace("-", "", StringComparison.Ordinal);
            using (DeviceLinkCode retyped = DeviceLinkCode.Parse(Retype(plain, random)))
            {
                Assert.Equal(original.LookupId, retyped.LookupId);
                Assert.Equal(original.Code, retyped.Code);
            }

            string edited = Edit(plain, random, c.Edit);
            try
            {
                using DeviceLinkCode other = DeviceLinkCode.Parse(edited);
                Assert.NotEqual(original.LookupId, other.LookupId);
            }
            catch (FormatException)
            {
            }
        }, divisor: 10);
    }

    [Fact]
    public void SealedUnderACode_ArbitraryOrMutated_DoesNotOpen()
    {
        using DeviceLinkCode link = DeviceLinkCode.Create();
        using DeviceLinkCode otherLink = DeviceLinkCode.Create();
        using InviteCode invite = InviteCode.Create(s_genesis);
        byte[] payload = Encoding.UTF8.GetBytes("{\"accountSeed\":\"...\"}");
        byte[] sealedPayload = link.Seal(payload);
        byte[] sealedCellKey = invite.SealCellKey(new byte[32]);
        Assert.True(link.TryOpen(sealedPayload, out byte[]? opened) && opened!.SequenceEqual(payload));
        Assert.False(otherLink.TryOpen(sealedPayload, out _));
        Assert.True(invite.TryOpenCellKey(sealedCellKey, out _));

        Gen<byte[]> inputs = Gen.OneOf(
            Gens.Bytes(0, 200).Select(b => b.Value),
            Gens.Mutations(sealedPayload).Select(m => m.Value),
            Gens.Mutations(sealedCellKey).Select(m => m.Value));
        Fuzzer.Check(2000, Fuzzer.Cases(inputs), bytes =>
        {
            Assert.False(link.TryOpen(bytes, out byte[]? p) && !(bytes.SequenceEqual(sealedPayload) && p!.SequenceEqual(payload)));
            Assert.False(invite.TryOpenCellKey(bytes, out _) && !bytes.SequenceEqual(sealedCellKey));
        });
    }

    private static string Scribble(System.Random random, int length)
    {
        const string Lookalikes = "01IOilo-_ ?é\u0131\u017F\u212A\uFF21";
        StringBuilder text = new();
        for (int i = 0; i < length; i++)
        {
            text.Append(random.Next(10) switch
            {
                0 => Lookalikes[random.Next(Lookalikes.Length)],
                1 => char.ToLowerInvariant(Alphabet[random.Next(Alphabet.Length)]),
                _ => Alphabet[random.Next(Alphabet.Length)],
            });
            if (i % 4 == 3 && random.Next(2) == 0)
            {
                text.Append(random.Next(2) == 0 ? '-' : ' ');
            }
        }

        return text.ToString();
    }

    /// <summary>The same code as someone might type it: any case, groups with dashes or spaces, spaces around.</summary>
    private static string Retype(string plain, System.Random random)
    {
        StringBuilder text = new(random.Next(2) == 0 ? "  " : "");
        for (int i = 0; i < plain.Length; i++)
        {
            if (i > 0 && i % 4 == 0)
            {
                text.Append(random.Next(3) switch { 0 => "-", 1 => " ", _ => "" });
            }

            text.Append(random.Next(2) == 0 ? char.ToLowerInvariant(plain[i]) : plain[i]);
        }

        return text.Append(random.Next(2) == 0 ? "\n" : "").ToString();
    }

    /// <summary>One character replaced by another of the alphabet, or by one outside it; one removed; or one added.</summary>
    private static string Edit(string plain, System.Random random, int kind)
    {
        int at = random.Next(plain.Length);
        switch (kind)
        {
            case 0:
            case 1:
                char replacement;
                do
                {
                    replacement = Alphabet[random.Next(Alphabet.Length)];
                }
                while (replacement == plain[at]);

                return plain[..at] + replacement + plain[(at + 1)..];
            case 2:
                return plain.Remove(at, 1);
            default:
                char outside = "01IO!#\u00C9\u0416"[random.Next(8)];
                return random.Next(2) == 0 ? plain.Insert(at, Alphabet[random.Next(Alphabet.Length)].ToString()) : plain[..at] + outside + plain[(at + 1)..];
        }
    }
}
