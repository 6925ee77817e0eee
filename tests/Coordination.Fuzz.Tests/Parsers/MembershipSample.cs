using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// A valid four-entry membership log with real keys: the founder creates the cell, a member is
/// admitted with a signed invite, the founder raises the member's ceiling, then makes them an
/// organizer. Every rule of the verifier (chain, signatures, invite, admission proof, roles) is used.
/// </summary>
public static class MembershipSample
{
    public static Guid CellId { get; } = Guid.Parse("5f1c0a52-3c1e-4a58-9a39-2d0f62d7b0a1");

    private static readonly (List<SignedMembershipEntry> Log, byte[] Grant) s_sample = Build();

    public static IReadOnlyList<SignedMembershipEntry> Log => s_sample.Log;

    /// <summary>The encoded invite grant of the admission.</summary>
    public static byte[] Grant => s_sample.Grant;

    /// <summary>The admission's authorization (grant, its signature, the admission proof, no vouches).</summary>
    public static byte[] Authorization => Decode(Log[1]).Authorization;

    public static MembershipEntry Decode(SignedMembershipEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return MembershipEntry.TryDecode(entry.Body, out MembershipEntry? decoded) ? decoded! : throw new InvalidOperationException("The sample entry does not decode.");
    }

    private static (List<SignedMembershipEntry> Log, byte[] Grant) Build()
    {
        using Ed25519KeyPair founder = Ed25519KeyPair.FromSeed(Seed(1));
        using Ed25519KeyPair member = Ed25519KeyPair.FromSeed(Seed(2));
        using Ed25519KeyPair invite = Ed25519KeyPair.FromSeed(Seed(3));
        Guid founderAccount = Guid.Parse("0b9a3c1e-8f5f-4a1c-b5a7-0e0e7f3d1c01");
        Guid memberAccount = Guid.Parse("0b9a3c1e-8f5f-4a1c-b5a7-0e0e7f3d1c02");
        Guid founderMembership = Guid.Parse("7a0c4f7e-2a3b-4c5d-8e9f-000000000001");
        Guid memberMembership = Guid.Parse("7a0c4f7e-2a3b-4c5d-8e9f-000000000002");
        byte[] founderKey = founder.PublicKey.ToArray();
        byte[] memberKey = member.PublicKey.ToArray();
        List<SignedMembershipEntry> log = [];
        MembershipLog replay = new(CellId);

        SignedMembershipEntry Append(MembershipEntry entry, Ed25519KeyPair signer)
        {
            byte[] body = entry.Encode();
            SignedMembershipEntry signed = new(body, signer.Sign(body));
            if (!replay.TryAppend(signed, out _, out string? error))
            {
                throw new InvalidOperationException($"The sample log is not valid: {error}");
            }

            log.Add(signed);
            return signed;
        }

        Append(new MembershipEntry(CellId, 0, MembershipEntry.ZeroHash, MembershipAction.Create, founderMembership, founderAccount, founderKey,
            MemberRole.Organizer, RiskLevel.Low, founderAccount, founderKey, []), founder);

        byte[] lookupId = Blake2b.Hash(Seed(4), 32);
        InviteGrant grant = new(CellId, lookupId, invite.PublicKey.ToArray(), MemberRole.Member, RiskLevel.Low, 3, 4_102_444_800_000, 0, founderAccount, founderKey);
        byte[] grantBytes = grant.Encode();
        byte[] admit = invite.Sign(AdmissionStatements.Admit(CellId, lookupId, memberMembership, memberAccount, memberKey));
        byte[] authorization = AdmissionStatements.EncodeAuthorization(grantBytes, founder.Sign(grantBytes), admit, []);
        Append(new MembershipEntry(CellId, 1, replay.HeadBytes, MembershipAction.Admit, memberMembership, memberAccount, memberKey,
            MemberRole.Member, RiskLevel.Low, memberAccount, memberKey, authorization), member);

        Append(new MembershipEntry(CellId, 2, replay.HeadBytes, MembershipAction.SetCeiling, memberMembership, memberAccount, memberKey,
            MemberRole.Member, RiskLevel.Elevated, founderAccount, founderKey, []), founder);

        Append(new MembershipEntry(CellId, 3, replay.HeadBytes, MembershipAction.SetRole, memberMembership, memberAccount, memberKey,
            MemberRole.Organizer, RiskLevel.Elevated, founderAccount, founderKey, []), founder);
        return (log, grantBytes);
    }

    private static byte[] Seed(byte value)
    {
        byte[] seed = new byte[32];
        Array.Fill(seed, value);
        return seed;
    }
}
