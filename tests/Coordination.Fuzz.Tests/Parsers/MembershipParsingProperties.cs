using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// Membership entries, invite grants and admission authorizations as the relay and every client
/// read them from the network, and the log verifier over them: arbitrary and mutated bytes are
/// refused or decoded to exactly what re-encodes to them, and a changed valid log never verifies.
/// </summary>
public sealed class MembershipParsingProperties
{
    private static readonly int s_fixedBytes = MembershipSample.Log[0].Body.Length;

    [Fact]
    public void SampleLog_Verifies()
    {
        Assert.True(MembershipLog.TryVerify(MembershipSample.CellId, MembershipSample.Log, out MembershipLog log, out string? error), error);
        Assert.Equal(4, log.Length);
    }

    [Fact]
    public void MembershipEntry_TryDecode_ArbitraryBytes_RefusesOrRoundTrips()
    {
        Gen<Bytes> bytes = Gen.OneOf(
            Gens.Bytes(0, s_fixedBytes + MembershipEntry.MaxAuthorizationBytes + 64),
            Gens.Prefixed(MembershipEntry.Label.ToArray(), s_fixedBytes + 300),
            Gens.Prefixed(MembershipEntry.Label.ToArray(), s_fixedBytes + MembershipEntry.MaxAuthorizationBytes + 64));
        Fuzzer.Check(2000, Fuzzer.Cases(bytes), b => AssertRefusedOrCanonical(b.Value));
    }

    [Fact]
    public void MembershipEntry_TryDecode_MutatedEntries_RefusesOrRoundTrips()
    {
        Fuzzer.Check(3000, Fuzzer.Cases(Gens.Mutations([.. MembershipSample.Log.Select(e => e.Body)])), m => AssertRefusedOrCanonical(m.Value));
    }

    [Fact]
    public void MembershipLog_TryVerify_MutatedValidLog_NeverVerifies()
    {
        Gen<(List<SignedMembershipEntry> Log, string How)> mutated = Gen.OneOf(
            // One entry's body or signature changed.
            from index in Gen.Choose(0, MembershipSample.Log.Count - 1)
            from signature in Gen.Elements(false, true)
            from mutation in Gens.Mutations(signature ? MembershipSample.Log[index].Signature : MembershipSample.Log[index].Body)
            select (Replace(index, signature ? MembershipSample.Log[index] with { Signature = mutation.Value } : MembershipSample.Log[index] with { Body = mutation.Value }),
                $"entry {index} {(signature ? "signature" : "body")}: {mutation}"),
            // Entries reordered, repeated, dropped from the middle, or signatures swapped between entries.
            from first in Gen.Choose(0, MembershipSample.Log.Count - 1)
            from second in Gen.Choose(0, MembershipSample.Log.Count - 1)
            from kind in Gen.Choose(0, 3)
            where first != second
            select Restructure(first, second, kind));
        Fuzzer.Check(2000, Fuzzer.Cases(mutated), c =>
        {
            bool verified = MembershipLog.TryVerify(MembershipSample.CellId, c.Log, out _, out string? error);
            Assert.False(verified, $"a changed log verified: {c.How}");
            Assert.False(string.IsNullOrEmpty(error));
        });
    }

    [Fact]
    public void MembershipLog_TryVerify_ArbitraryEntries_RefusesWithAReason()
    {
        Gen<SignedMembershipEntry> entry =
            from body in Gen.Frequency(
                (1, Gen.Constant<byte[]?>(null)),
                (4, Gens.Prefixed(MembershipEntry.Label.ToArray(), s_fixedBytes + 200).Select(b => (byte[]?)b.Value)),
                (4, Gens.Mutations([.. MembershipSample.Log.Select(e => e.Body)]).Select(m => (byte[]?)m.Value)),
                (1, Gens.Bytes(0, 400).Select(b => (byte[]?)b.Value)))
            from signature in Gen.Frequency(
                (1, Gen.Constant<byte[]?>(null)),
                (6, Gens.ExactBytes(64).Select(b => (byte[]?)b)),
                (2, Gens.Bytes(0, 130).Select(b => (byte[]?)b.Value)))
            select new SignedMembershipEntry(body!, signature!);
        Gen<(Guid Cell, List<SignedMembershipEntry> Log)> logs =
            from cell in Gen.Elements(MembershipSample.CellId, Guid.Empty, Guid.Parse("11111111-2222-3333-4444-555555555555"))
            from prefix in Gen.Choose(0, MembershipSample.Log.Count)
            from tail in Gen.Choose(0, 3).SelectMany(n => Gen.ListOf(entry, n))
            select (cell, (List<SignedMembershipEntry>)[.. MembershipSample.Log.Take(prefix), .. tail]);
        Fuzzer.Check(1500, Fuzzer.Cases(logs), c =>
        {
            bool verified = MembershipLog.TryVerify(c.Cell, c.Log, out MembershipLog log, out string? error);
            if (verified)
            {
                // Only a valid prefix of the real log (with no random entries after it) may verify.
                Assert.Equal(MembershipSample.CellId, c.Cell);
                Assert.True(c.Log.Count <= MembershipSample.Log.Count && c.Log.Count > 0);
                Assert.True(c.Log.Zip(MembershipSample.Log).All(p => ReferenceEquals(p.First, p.Second)), "a log with a random entry verified");
                Assert.Equal(c.Log.Count, log.Length);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        });
    }

    [Fact]
    public void InviteGrant_TryDecode_ArbitraryAndMutated_RefusesOrRoundTrips()
    {
        Gen<byte[]> bytes = Gen.OneOf(
            Gens.Bytes(0, InviteGrant.EncodedBytes + 40).Select(b => b.Value),
            Gens.Prefixed(InviteGrant.Label.ToArray(), InviteGrant.EncodedBytes - InviteGrant.Label.Length).Select(b => b.Value),
            Gens.Mutations(MembershipSample.Grant).Select(m => m.Value));
        Fuzzer.Check(2000, Fuzzer.Cases(bytes), b =>
        {
            if (InviteGrant.TryDecode(b, out InviteGrant? grant))
            {
                Assert.Equal(b, grant!.Encode());
            }
        });
    }

    [Fact]
    public void AdmissionAuthorization_TryDecode_ArbitraryAndMutated_RefusesOrRoundTrips()
    {
        int head = InviteGrant.EncodedBytes + (2 * Limits.SignatureBytes) + 1;
        Gen<byte[]> bytes = Gen.OneOf(
            Gens.Bytes(0, head + (3 * Vouch.EncodedBytes)).Select(b => b.Value),
            from count in Gen.Choose(0, 255)
            from extra in Gen.Choose(-2, 2)
            from body in Gens.ExactBytes(Math.Max(0, head - 1 + (Math.Min(count, 25) * Vouch.EncodedBytes) + extra))
            select Authorization(body, head, count),
            Gens.Mutations(MembershipSample.Authorization).Select(m => m.Value));
        Fuzzer.Check(2000, Fuzzer.Cases(bytes), b =>
        {
            if (AdmissionStatements.TryDecodeAuthorization(b, out byte[] grant, out byte[] grantSignature, out byte[] admitSignature, out List<Vouch> vouches))
            {
                Assert.Equal(b, AdmissionStatements.EncodeAuthorization(grant, grantSignature, admitSignature, vouches));
            }
        });
    }

    private static void AssertRefusedOrCanonical(byte[] body)
    {
        if (MembershipEntry.TryDecode(body, out MembershipEntry? entry))
        {
            Assert.NotNull(entry);
            Assert.Equal(body, entry.Encode());
        }
        else
        {
            Assert.Null(entry);
        }
    }

    private static byte[] Authorization(byte[] body, int head, int count)
    {
        if (body.Length >= head)
        {
            body[head - 1] = (byte)count;
        }

        return body;
    }

    private static List<SignedMembershipEntry> Replace(int index, SignedMembershipEntry entry)
    {
        List<SignedMembershipEntry> log = [.. MembershipSample.Log];
        log[index] = entry;
        return log;
    }

    private static (List<SignedMembershipEntry> Log, string How) Restructure(int first, int second, int kind)
    {
        List<SignedMembershipEntry> log = [.. MembershipSample.Log];
        switch (kind)
        {
            case 0:
                (log[first], log[second]) = (log[second], log[first]);
                return (log, $"swap entries {first} and {second}");
            case 1:
                log.Insert(second, log[first]);
                return (log, $"repeat entry {first} at {second}");
            case 2:
                int dropped = Math.Min(first, second);
                log.RemoveAt(dropped);
                return (log, $"drop entry {dropped} (not the last)");
            default:
                log[first] = log[first] with { Signature = MembershipSample.Log[second].Signature };
                return (log, $"entry {first} with the signature of entry {second}");
        }
    }
}
