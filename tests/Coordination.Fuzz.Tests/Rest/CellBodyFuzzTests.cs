using System.Buffers.Text;
using Coordination.Client.Cells;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Rest;

/// <summary>
/// A cell with an organizer and a member, an open invite (for an invitee who has not joined), and
/// an invite that needs a vouch (with its candidate waiting): every cell endpoint that takes a body
/// has a valid one, signed by the right key for the log as it stands.
/// </summary>
public sealed class CellWorld : RelayWorld
{
    public static readonly string[] Names = ["create-cell", "log-append", "invite", "admission", "vouch", "display-name"];

    public Person Invitee { get; private set; } = null!;

    public Guid CellId { get; private set; }

    protected override async Task BuildAsync()
    {
        Person organizer = await PersonAsync();
        Person member = await PersonAsync();
        Person invitee = await PersonAsync();
        Person candidate = await PersonAsync();
        Invitee = invitee;
        CancellationToken none = CancellationToken.None;
        CellView cell = await organizer.Cells.CreateAsync(ConversationKind.Cell, "Fuzz cell", null, null, null, none).WaitAsync(TestTimeouts.Default);
        Guid cellId = CellId = cell.CellId;
        string memberCode = await organizer.Cells.InviteAsync(cellId, MemberRole.Member, RiskLevel.Low, 1, TimeSpan.FromHours(2), 0, none).WaitAsync(TestTimeouts.Default);
        JoinResult joined = await member.Cells.JoinAsync(memberCode, null, none).WaitAsync(TestTimeouts.Default);
        Guid memberMembership = joined.Cell!.Membership.MembershipId;

        string openCode = await organizer.Cells.InviteAsync(cellId, MemberRole.Member, RiskLevel.Low, 1000, TimeSpan.FromHours(2), 0, none).WaitAsync(TestTimeouts.Default);
        using InviteCode open = InviteCode.Parse(openCode);
        byte[] openLookup = open.LookupId;
        // The invite signing key is derived from the code; the admission is signed with it when the body is made.
        string openCodeText = open.Code;

        string vouchCode = await organizer.Cells.InviteAsync(cellId, MemberRole.Member, RiskLevel.Low, 5, TimeSpan.FromHours(2), 1, none).WaitAsync(TestTimeouts.Default);
        JoinResult waiting = await candidate.Cells.JoinAsync(vouchCode, null, none).WaitAsync(TestTimeouts.Default);
        Assert.False(waiting.Admitted);
        using InviteCode vouchInvite = InviteCode.Parse(vouchCode);
        byte[] vouchLookup = vouchInvite.LookupId;

        Guid[] known = [cellId, organizer.AccountId, member.AccountId, memberMembership, candidate.AccountId, invitee.AccountId];

        Add(new BodyEndpoint("create-cell", HttpMethod.Post, "/api/v1/cells", organizer.Token, () =>
        {
            Guid newCell = Guid.NewGuid();
            MembershipEntry genesis = new(newCell, 0, MembershipEntry.ZeroHash, MembershipAction.Create, Guid.NewGuid(), organizer.AccountId, organizer.AccountPublicKey,
                MemberRole.Organizer, RiskLevel.Low, organizer.AccountId, organizer.AccountPublicKey, []);
            byte[] body = genesis.Encode();
            return Task.FromResult(Body(new CreateCellRequest(newCell, ConversationKind.GrasGroup, new SignedMembershipEntry(body, organizer.Identity.AccountKey.Sign(body)),
                SecureRandom.Bytes(120), SecureRandom.Bytes(60), DateTimeOffset.UtcNow.AddDays(2).ToUnixTimeMilliseconds())));
        }, ["Cells", "Conversations", "ConversationParticipants", "Memberships", "MembershipLog"]) { KnownIds = known });

        Add(new BodyEndpoint("log-append", HttpMethod.Post, $"/api/v1/cells/{cellId}/log", organizer.Token, async () =>
        {
            CellInfo now = await organizer.Api.GetCellAsync(cellId).WaitAsync(TestTimeouts.Default);
            MembershipEntry entry = new(cellId, now.LogLength, now.LogHead, MembershipAction.SetCeiling, memberMembership, member.AccountId, member.AccountPublicKey,
                MemberRole.Member, RiskLevel.Elevated, organizer.AccountId, organizer.AccountPublicKey, []);
            byte[] body = entry.Encode();
            return Body(new AppendEntryRequest(new SignedMembershipEntry(body, organizer.Identity.AccountKey.Sign(body))));
        }, ["MembershipLog", "Memberships"]) { KnownIds = known });

        Add(new BodyEndpoint("invite", HttpMethod.Post, $"/api/v1/cells/{cellId}/invites", organizer.Token, () =>
        {
            using Ed25519KeyPair inviteKey = Ed25519KeyPair.Generate();
            InviteGrant grant = new(cellId, SecureRandom.Bytes(32), inviteKey.PublicKey.ToArray(), MemberRole.Member, RiskLevel.Low, 1,
                DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(), 0, organizer.AccountId, organizer.AccountPublicKey);
            byte[] encoded = grant.Encode();
            return Task.FromResult(Body(new CreateInviteRequest(encoded, organizer.Identity.AccountKey.Sign(encoded), SecureRandom.Bytes(72))));
        }, ["Invites"]) { KnownIds = known });

        Add(new BodyEndpoint("admission", HttpMethod.Post, $"/api/v1/invites/{Base64Url.EncodeToString(openLookup)}/admission", invitee.Token, async () =>
        {
            using InviteCode code = InviteCode.Parse(openCodeText);
            InviteOffer offer = await invitee.Api.GetInviteAsync(openLookup).WaitAsync(TestTimeouts.Default);
            Guid membershipId = Guid.NewGuid();
            byte[] admit = code.SigningKey.Sign(AdmissionStatements.Admit(offer.CellId, openLookup, membershipId, invitee.AccountId, invitee.AccountPublicKey));
            byte[] authorization = AdmissionStatements.EncodeAuthorization(offer.Grant, offer.GrantSignature, admit, offer.Vouches);
            MembershipEntry entry = new(offer.CellId, offer.LogLength, offer.LogHead, MembershipAction.Admit, membershipId, invitee.AccountId, invitee.AccountPublicKey,
                MemberRole.Member, RiskLevel.Low, invitee.AccountId, invitee.AccountPublicKey, authorization);
            byte[] body = entry.Encode();
            return Body(new AdmissionRequest(new SignedMembershipEntry(body, invitee.Identity.AccountKey.Sign(body)), SecureRandom.Bytes(48)));
        }, ["Memberships", "MembershipLog"]) { KnownIds = known });

        Add(new BodyEndpoint("vouch", HttpMethod.Post, $"/api/v1/cells/{cellId}/admissions/{candidate.AccountId}/vouches", organizer.Token, () =>
        {
            byte[] statement = AdmissionStatements.VouchFor(cellId, vouchLookup, candidate.AccountId, candidate.AccountPublicKey);
            return Task.FromResult(Body(new VouchRequest(vouchLookup, organizer.Identity.AccountKey.Sign(statement))));
        }, ["Vouches"]) { KnownIds = known });

        Add(new BodyEndpoint("display-name", HttpMethod.Put, $"/api/v1/cells/{cellId}/members/me/display-name", member.Token,
            () => Task.FromResult(Body(new DisplayNameRequest(SecureRandom.Bytes(64)))), ["Memberships"]) { KnownIds = known });
    }
}

/// <summary>
/// Cells, membership log entries, invites, admissions and vouches with generated bodies, and invite
/// lookup ids in paths: never a 5xx, every 4xx a problem, nothing stored from a refused request
/// (the log verifier decides before anything is written), no error logged.
/// </summary>
public sealed class CellBodyFuzzTests(CellWorld world) : IClassFixture<CellWorld>
{
    public static TheoryData<string> Endpoints => new(CellWorld.Names);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomJsonBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomJsonAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task RandomBytesBodies_AreRefusedCleanly(string endpoint) => BodyFuzz.RandomBytesAsync(world, endpoint);

    [Theory]
    [MemberData(nameof(Endpoints))]
    public Task ValidBodiesWithOneFieldChanged_AreRefusedCleanly(string endpoint) => BodyFuzz.MutatedValidAsync(world, endpoint);

    /// <summary>Invite lookup ids in paths (looking an invite up, asking to join): a 400 or 404 problem, and no candidacy stored.</summary>
    [Fact]
    public async Task InviteLookupIdsInPaths_AreRefusedCleanly()
    {
        int logs = world.Relay.Logs.Count;
        Gen<(string Id, bool Request)> cases = Gen.Zip(
            Gen.OneOf(
                from length in Gen.Elements(0, 1, 31, 32, 33, 48, 49)
                from bytes in Gens.ExactBytes(length)
                select Base64Url.EncodeToString(bytes),
                Gens.PathText(90)),
            Gen.Elements(false, true));
        await Fuzzer.CheckAsync(60, Fuzzer.Cases(cases), async c =>
        {
            string path = "/api/v1/invites/" + Uri.EscapeDataString(c.Id) + (c.Request ? "/requests" : "");
            Answer answer = await world.CheckAsync(c.Request ? HttpMethod.Post : HttpMethod.Get, path, world.Invitee.Token, c.Request ? "{}"u8.ToArray() : null,
                ["AdmissionCandidates", "Invites"], $"lookup id '{c.Id}'");
            Assert.True(answer.Status >= 400, $"an invite that does not exist answered {answer}");
        });
        world.AssertNoErrorsSince(logs);
    }
}
