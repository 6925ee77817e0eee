using System.Security.Claims;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Hosting;
using Coordination.Server.InputLimits;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Cells;

/// <summary>
/// Cells and GRAS groups over REST. Anyone who is not a member gets 404 for everything about a
/// cell, so its existence does not leak; a newcomer gets 403 for the roster, the log and
/// admissions; organizers alone invite and change others' memberships (the log verifier decides).
/// </summary>
public static class CellEndpoints
{
    private const string NoSuchCell = "No such cell.";

    public static IEndpointRouteBuilder MapCells(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder cells = app.MapGroup("/api/v1/cells").WithTags("Cells").RequireAuthorization();
        cells.MapPost("/", CreateCell).WithName(nameof(CreateCell));
        cells.MapGet("/", ListCells).WithName(nameof(ListCells));
        cells.MapGet("/{cellId:guid}", GetCell).WithName(nameof(GetCell));
        cells.MapGet("/{cellId:guid}/members", ListMembers).WithName(nameof(ListMembers));
        cells.MapPut("/{cellId:guid}/members/me/display-name", SetDisplayName).WithName(nameof(SetDisplayName));
        cells.MapGet("/{cellId:guid}/log", GetLog).WithName(nameof(GetLog));
        cells.MapPost("/{cellId:guid}/log", AppendEntry).WithName(nameof(AppendEntry));
        cells.MapPost("/{cellId:guid}/invites", CreateInvite).WithName(nameof(CreateInvite));
        cells.MapGet("/{cellId:guid}/admissions", ListAdmissions).WithName(nameof(ListAdmissions));
        cells.MapPost("/{cellId:guid}/admissions/{accountId:guid}/vouches", VouchForCandidate).WithName(nameof(VouchForCandidate));

        RouteGroupBuilder invites = app.MapGroup("/api/v1/invites").WithTags("Cells").RequireAuthorization();
        invites.MapGet("/{lookupId}", GetInvite).WithName(nameof(GetInvite));
        invites.MapPost("/{lookupId}/requests", RequestAdmission).WithName(nameof(RequestAdmission));
        invites.MapPost("/{lookupId}/admission", Admit).WithName(nameof(Admit));
        return app;
    }

    /// <summary>Creates a cell (with its announcements conversation) or a GRAS group from a signed founding entry.</summary>
    public static async Task<Results<Created<CellInfo>, ProblemHttpResult>> CreateCell(
        CreateCellRequest request, ClaimsPrincipal user, CoordinationDbContext db, CellLedger ledger, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        string? invalid = request is null ? "The body is missing."
            : request.CellId == Guid.Empty ? "cellId is required."
            : request.Kind is not (ConversationKind.Cell or ConversationKind.GrasGroup) ? "kind must be 2 (cell) or 3 (GRAS group)."
            : request.Genesis?.Body is null || request.Genesis.Signature is null ? "genesis is required."
            : SealedError(request.SealedProfile, "sealedProfile", required: true) ?? SealedError(request.SealedDisplayName, "sealedDisplayName", required: false)
            ?? (request.EndsAt is { } ends && (request.Kind != ConversationKind.GrasGroup || ends <= now || ends > now + (long)TimeSpan.FromDays(366).TotalMilliseconds)
                ? "endsAt is for GRAS groups only, in the future and within a year." : null);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        CellRefusal? refusal = await ledger.CreateAsync(db, accountId, request!, ct);
        if (refusal is not null)
        {
            return Problems.Problem(refusal.Status, refusal.Detail);
        }

        CellInfo info = (await DescribeAsync(db, accountId, request!.CellId, ct))!;
        return TypedResults.Created($"/api/v1/cells/{info.CellId}", info);
    }

    /// <summary>The cells and groups the caller belongs to, and nothing else.</summary>
    public static async Task<Ok<List<CellInfo>>> ListCells(ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        return TypedResults.Ok(await Described(db, accountId).ToListAsync(ct));
    }

    public static async Task<Results<Ok<CellInfo>, ProblemHttpResult>> GetCell(Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        CellInfo? info = await DescribeAsync(db, accountId, cellId, ct);
        return info is null ? Problems.NotFound(NoSuchCell) : TypedResults.Ok(info);
    }

    /// <summary>The roster: members and organizers only (a newcomer is on probation and does not see it).</summary>
    public static async Task<Results<Ok<List<CellMemberInfo>>, ProblemHttpResult>> ListMembers(Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        ProblemHttpResult? denied = await RequireRoleAsync(db, cellId, accountId, MemberRole.Member, ct);
        if (denied is not null)
        {
            return denied;
        }

        List<CellMemberInfo> members = await db.Set<Membership>().AsNoTracking().Where(m => m.CellId == cellId)
            .Select(m => new CellMemberInfo(m.Id, m.AccountId, m.Role, m.Ceiling, m.SealedDisplayName)).ToListAsync(ct);
        return TypedResults.Ok(members);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SetDisplayName(
        Guid cellId, DisplayNameRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        if (SealedError(request?.SealedDisplayName, "sealedDisplayName", required: true) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        int changed = await db.Set<Membership>().Where(m => m.CellId == cellId && m.AccountId == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.SealedDisplayName, request!.SealedDisplayName), ct);
        return changed == 0 ? Problems.NotFound(NoSuchCell) : TypedResults.NoContent();
    }

    /// <summary>The signed membership log from entry <paramref name="from"/>: members and organizers verify it before they encrypt.</summary>
    public static async Task<Results<Ok<MembershipLogPage>, ProblemHttpResult>> GetLog(
        Guid cellId, long? from, ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        ProblemHttpResult? denied = await RequireRoleAsync(db, cellId, accountId, MemberRole.Member, ct);
        if (denied is not null)
        {
            return denied;
        }

        long start = Math.Max(0, from ?? 0);
        List<SignedMembershipEntry> entries = await db.Set<MembershipLogRecord>().AsNoTracking()
            .Where(r => r.CellId == cellId && r.Index >= start).OrderBy(r => r.Index).Take(Limits.MaxLogPageSize + 1)
            .Select(r => new SignedMembershipEntry(r.Body, r.Signature)).ToListAsync(ct);
        bool more = entries.Count > Limits.MaxLogPageSize;
        if (more)
        {
            entries.RemoveAt(entries.Count - 1);
        }

        return TypedResults.Ok(new MembershipLogPage(start, entries, more));
    }

    /// <summary>Appends a role, ceiling, removal, leave or burn entry signed by the caller's account key.</summary>
    public static async Task<Results<Ok<AppendEntryResponse>, ProblemHttpResult>> AppendEntry(
        Guid cellId, AppendEntryRequest request, ClaimsPrincipal user, CoordinationDbContext db, CellLedger ledger, RateLimits limits, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        if (await MembershipOfAsync(db, cellId, accountId, ct) is null)
        {
            return Problems.NotFound(NoSuchCell);
        }

        if (request?.Entry?.Body is null || request.Entry.Signature is null || !MembershipEntry.TryDecode(request.Entry.Body, out MembershipEntry? entry))
        {
            return Problems.BadRequest("entry must be a well-formed signed membership entry.");
        }

        if (entry!.Action is MembershipAction.Create or MembershipAction.Admit)
        {
            return Problems.BadRequest("Cells are created with POST /api/v1/cells and members admitted through invites.");
        }

        if (entry.SignerAccountId != accountId)
        {
            return Problems.BadRequest("Sign membership entries with your own account key.");
        }

        (AppendEntryResponse? response, CellRefusal? refusal) = await ledger.AppendAsync(db, cellId, request.Entry, null, null, ct);
        return response is not null ? TypedResults.Ok(response) : Problems.Problem(refusal!.Status, refusal.Detail);
    }

    /// <summary>An organizer offers an invite: the signed grant and the cell key sealed under the code.</summary>
    public static async Task<Results<Created, ProblemHttpResult>> CreateInvite(
        Guid cellId, CreateInviteRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        ProblemHttpResult? denied = await RequireRoleAsync(db, cellId, accountId, MemberRole.Organizer, ct);
        if (denied is not null)
        {
            return denied;
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (request?.Grant is null || !InviteGrant.TryDecode(request.Grant, out InviteGrant? grant) || request.GrantSignature is not { Length: Limits.SignatureBytes })
        {
            return Problems.BadRequest("grant must be an encoded invite grant with a 64-byte grantSignature.");
        }

        byte[]? accountKey = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).FirstOrDefaultAsync(ct);
        string? invalid = grant!.CellId != cellId ? "The grant is for another cell."
            : grant.IssuerAccountId != accountId || accountKey is null || !accountKey.AsSpan().SequenceEqual(grant.IssuerPublicKey) ? "The grant must be issued by the caller's own account."
            : !Ed25519PublicKey.FromBytes(grant.IssuerPublicKey).Verify(request.Grant, request.GrantSignature) ? "The grant's signature does not verify."
            : grant.ExpiresAt <= now || grant.ExpiresAt > now + (long)Limits.MaxInviteLifetime.TotalMilliseconds ? "The invite must expire in the future and within 30 days."
            : request.SealedCellKey is not { Length: > 0 and <= 256 } ? "sealedCellKey must be 1 to 256 bytes."
            : null;
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        if (await db.Set<Invite>().AnyAsync(i => i.LookupId == grant.LookupId, ct))
        {
            return Problems.Conflict("An invite with this lookup id exists.");
        }

        db.Set<Invite>().Add(new Invite
        {
            LookupId = grant.LookupId,
            CellId = cellId,
            Grant = request.Grant,
            GrantSignature = request.GrantSignature,
            SealedCellKey = request.SealedCellKey!,
            ExpiresAt = grant.ExpiresAt,
            UsesLeft = grant.Uses,
        });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created();
    }

    /// <summary>Invitees waiting for vouches (members and organizers see them).</summary>
    public static async Task<Results<Ok<List<PendingAdmission>>, ProblemHttpResult>> ListAdmissions(
        Guid cellId, ClaimsPrincipal user, CoordinationDbContext db, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        ProblemHttpResult? denied = await RequireRoleAsync(db, cellId, accountId, MemberRole.Member, ct);
        if (denied is not null)
        {
            return denied;
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var candidates = await (
            from a in db.Set<AdmissionCandidate>()
            where a.CellId == cellId && a.ExpiresAt > now
            join account in db.Accounts on a.AccountId equals account.Id
            join invite in db.Set<Invite>() on a.LookupId equals invite.LookupId
            select new { a.AccountId, account.PublicKey, a.LookupId, invite.Grant }).AsNoTracking().ToListAsync(ct);
        List<PendingAdmission> pending = [];
        foreach (var candidate in candidates)
        {
            int vouches = await db.Set<VouchRecord>().CountAsync(v => v.LookupId == candidate.LookupId && v.AccountId == candidate.AccountId, ct);
            int required = InviteGrant.TryDecode(candidate.Grant, out InviteGrant? grant) ? grant!.RequiredVouches : 0;
            pending.Add(new PendingAdmission(candidate.AccountId, candidate.PublicKey, candidate.LookupId, required, vouches));
        }

        return TypedResults.Ok(pending);
    }

    /// <summary>A member vouches for a candidate with a signature the candidate's admission will carry.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> VouchForCandidate(
        Guid cellId, Guid accountId, VouchRequest request, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, CancellationToken ct)
    {
        (Guid voucher, Guid deviceId) = DevicePrincipal.From(user);
        if (CellEndpoints.Throttled(limits, deviceId) is { } slowDown)
        {
            return slowDown;
        }

        ProblemHttpResult? denied = await RequireRoleAsync(db, cellId, voucher, MemberRole.Member, ct);
        if (denied is not null)
        {
            return denied;
        }

        if (request?.LookupId is not { Length: Limits.InviteLookupIdBytes } || request.Signature is not { Length: Limits.SignatureBytes })
        {
            return Problems.BadRequest("lookupId (32 bytes) and signature (64 bytes) are required.");
        }

        bool waiting = await db.Set<AdmissionCandidate>().AnyAsync(a => a.LookupId == request.LookupId && a.AccountId == accountId && a.CellId == cellId, ct);
        byte[]? candidateKey = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).FirstOrDefaultAsync(ct);
        byte[]? voucherKey = await db.Accounts.Where(a => a.Id == voucher).Select(a => a.PublicKey).FirstOrDefaultAsync(ct);
        if (!waiting || candidateKey is null || voucherKey is null)
        {
            return Problems.NotFound("No such candidate in this cell.");
        }

        byte[] statement = AdmissionStatements.VouchFor(cellId, request.LookupId, accountId, candidateKey);
        if (!Ed25519PublicKey.FromBytes(voucherKey).Verify(statement, request.Signature))
        {
            return Problems.BadRequest("The vouch must be signed by your account key over the vouch statement.");
        }

        if (!await db.Set<VouchRecord>().AnyAsync(v => v.LookupId == request.LookupId && v.AccountId == accountId && v.VoucherAccountId == voucher, ct))
        {
            db.Set<VouchRecord>().Add(new VouchRecord { LookupId = request.LookupId, AccountId = accountId, VoucherAccountId = voucher, Signature = request.Signature });
            await db.SaveChangesAsync(ct);
        }

        return TypedResults.NoContent();
    }

    /// <summary>What an invitee needs to join: the grant, the sealed cell key and where the log stands.</summary>
    public static async Task<Results<Ok<InviteOffer>, ProblemHttpResult>> GetInvite(
        string lookupId, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        (Invite? invite, ProblemHttpResult? problem) = await OpenInviteAsync(lookupId, deviceId, db, limits, clock, ct);
        if (invite is null)
        {
            return problem!;
        }

        Cell cell = await db.Set<Cell>().AsNoTracking().FirstAsync(c => c.Id == invite.CellId, ct);
        // Only vouches of people who are members now count (a vouch by someone since removed would spoil the admission).
        List<Vouch> vouches = await (
            from v in db.Set<VouchRecord>()
            where v.LookupId == invite.LookupId && v.AccountId == accountId
            join m in db.Set<Membership>() on new { v.VoucherAccountId, invite.CellId } equals new { VoucherAccountId = m.AccountId, m.CellId }
            where m.Role != MemberRole.Newcomer
            select new Vouch(v.VoucherAccountId, v.Signature)).AsNoTracking().ToListAsync(ct);
        return TypedResults.Ok(new InviteOffer(cell.Id, cell.Kind, invite.Grant, invite.GrantSignature, invite.SealedCellKey, cell.SealedProfile, cell.LogLength, cell.LogHead, vouches));
    }

    /// <summary>An invitee asks to be vouched for (for invites that need vouches).</summary>
    public static async Task<Results<Accepted<PendingAdmission>, ProblemHttpResult>> RequestAdmission(
        string lookupId, ClaimsPrincipal user, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        (Invite? invite, ProblemHttpResult? problem) = await OpenInviteAsync(lookupId, deviceId, db, limits, clock, ct);
        if (invite is null)
        {
            return problem!;
        }

        if (await MembershipOfAsync(db, invite.CellId, accountId, ct) is not null)
        {
            return Problems.Conflict("You are already a member.");
        }

        if (!await db.Set<AdmissionCandidate>().AnyAsync(a => a.LookupId == invite.LookupId && a.AccountId == accountId, ct))
        {
            db.Set<AdmissionCandidate>().Add(new AdmissionCandidate { LookupId = invite.LookupId, AccountId = accountId, CellId = invite.CellId, ExpiresAt = invite.ExpiresAt });
            await db.SaveChangesAsync(ct);
        }

        byte[] key = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).FirstAsync(ct);
        int vouches = await db.Set<VouchRecord>().CountAsync(v => v.LookupId == invite.LookupId && v.AccountId == accountId, ct);
        int required = InviteGrant.TryDecode(invite.Grant, out InviteGrant? grant) ? grant!.RequiredVouches : 0;
        return TypedResults.Accepted((string?)null, new PendingAdmission(accountId, key, invite.LookupId, required, vouches));
    }

    /// <summary>The invitee's signed admission: appended to the log if the verifier accepts it.</summary>
    public static async Task<Results<Ok<AppendEntryResponse>, ProblemHttpResult>> Admit(
        string lookupId, AdmissionRequest request, ClaimsPrincipal user, CoordinationDbContext db, CellLedger ledger, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        (Invite? invite, ProblemHttpResult? problem) = await OpenInviteAsync(lookupId, deviceId, db, limits, clock, ct);
        if (invite is null)
        {
            return problem!;
        }

        if (request?.Entry?.Body is null || request.Entry.Signature is null || !MembershipEntry.TryDecode(request.Entry.Body, out MembershipEntry? entry)
            || entry!.Action != MembershipAction.Admit
            || !AdmissionStatements.TryDecodeAuthorization(entry.Authorization, out byte[] grant, out _, out _, out _))
        {
            return Problems.BadRequest("entry must be a signed admission entry.");
        }

        byte[]? accountKey = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).FirstOrDefaultAsync(ct);
        if (entry.SubjectAccountId != accountId || accountKey is null || !accountKey.AsSpan().SequenceEqual(entry.SubjectPublicKey))
        {
            return Problems.BadRequest("An admission is for the caller's own account, signed with its key.");
        }

        if (!grant.AsSpan().SequenceEqual(invite.Grant) || entry.CellId != invite.CellId)
        {
            return Problems.BadRequest("The admission must carry this invite's grant.");
        }

        if (SealedError(request.SealedDisplayName, "sealedDisplayName", required: false) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        (AppendEntryResponse? response, CellRefusal? refusal) = await ledger.AppendAsync(db, invite.CellId, request.Entry, invite, request.SealedDisplayName, ct);
        return response is not null ? TypedResults.Ok(response) : Problems.Problem(refusal!.Status, refusal.Detail);
    }

    /// <summary>429 when the device has used up its budget of changes (the same per-device budget as sends).</summary>
    internal static ProblemHttpResult? Throttled(RateLimits limits, Guid deviceId) =>
        limits.TrySend(deviceId) ? null : Problems.TooManyRequests("Too many changes from this device; slow down.");

    internal static async Task<Membership?> MembershipOfAsync(CoordinationDbContext db, Guid cellId, Guid accountId, CancellationToken ct) =>
        await db.Set<Membership>().AsNoTracking().FirstOrDefaultAsync(m => m.CellId == cellId && m.AccountId == accountId, ct);

    /// <summary>404 for non-members; 403 when the caller's role is below <paramref name="least"/> (Organizer &gt; Member &gt; Newcomer).</summary>
    internal static async Task<ProblemHttpResult?> RequireRoleAsync(CoordinationDbContext db, Guid cellId, Guid accountId, MemberRole least, CancellationToken ct)
    {
        Membership? membership = await MembershipOfAsync(db, cellId, accountId, ct);
        if (membership is null)
        {
            return Problems.NotFound(NoSuchCell);
        }

        bool allowed = least switch
        {
            MemberRole.Organizer => membership.Role == MemberRole.Organizer,
            MemberRole.Member => membership.Role != MemberRole.Newcomer,
            _ => true,
        };
        return allowed ? null : Problems.Forbidden(least == MemberRole.Organizer ? "Only the cell's organizers may do this." : "Newcomers cannot do this until an organizer makes them members.");
    }

    private static async Task<(Invite? Invite, ProblemHttpResult? Problem)> OpenInviteAsync(
        string lookupId, Guid deviceId, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        if (!limits.TryInvite(deviceId))
        {
            return (null, Problems.TooManyRequests("Too many invite attempts from this device; try again in a minute."));
        }

        byte[]? id = Identity.IdentityEndpoints.DecodeLookupId(lookupId, Limits.InviteLookupIdBytes);
        if (id is not { Length: Limits.InviteLookupIdBytes })
        {
            return (null, Problems.BadRequest("lookupId must be 32 bytes in base64url."));
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Invite? invite = await db.Set<Invite>().FirstOrDefaultAsync(i => i.LookupId == id && i.ExpiresAt > now && i.UsesLeft > 0, ct);
        return invite is null ? (null, Problems.NotFound("No such invite: it was mistyped, used up or has expired.")) : (invite, null);
    }

    private static string? SealedError(byte[]? sealedBytes, string name, bool required) =>
        sealedBytes is null ? (required ? $"{name} is required." : null)
        : sealedBytes.Length is 0 or > Limits.MaxSealedProfileBytes ? $"{name} must be 1 to {Limits.MaxSealedProfileBytes} bytes of ciphertext."
        : null;

    private static Task<CellInfo?> DescribeAsync(CoordinationDbContext db, Guid accountId, Guid cellId, CancellationToken ct) =>
        Described(db, accountId, cellId).FirstOrDefaultAsync(ct);

    /// <summary>The cells <paramref name="accountId"/> belongs to (or just <paramref name="cellId"/>), as it sees them, in one query.</summary>
    private static IQueryable<CellInfo> Described(CoordinationDbContext db, Guid accountId, Guid? cellId = null) =>
        from m in db.Set<Membership>().AsNoTracking()
        where m.AccountId == accountId && (cellId == null || m.CellId == cellId)
        join c in db.Set<Cell>() on m.CellId equals c.Id
        join v in db.Conversations on c.Id equals v.Id
        select new CellInfo(c.Id, c.Kind, c.AnnouncementsId, v.Epoch, c.LogLength, c.LogHead, c.SealedProfile, c.EndsAt, new CellMembershipInfo(m.Id, m.Role, m.Ceiling));
}


public static class CellExtensions
{
    public static WebApplicationBuilder AddCells(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddScoped<CellLedger>();
        return builder;
    }
}
