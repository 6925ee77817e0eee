using System.Buffers.Text;
using System.Security.Claims;
using Coordination.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Hosting;
using Coordination.Server.InputLimits;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Identity;

public static class IdentityEndpoints
{
    public static IEndpointRouteBuilder MapIdentity(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder accounts = app.MapGroup("/api/v1/accounts").WithTags("Accounts");
        accounts.MapPost("/", RegisterAccount).WithName(nameof(RegisterAccount)).AllowAnonymous();
        accounts.MapGet("/{accountId:guid}", GetAccount).WithName(nameof(GetAccount)).RequireAuthorization();

        RouteGroupBuilder devices = app.MapGroup("/api/v1/devices").WithTags("Devices");
        devices.MapGet("/", ListDevices).WithName(nameof(ListDevices)).RequireAuthorization();
        devices.MapPost("/link-codes", CreateLinkCode).WithName(nameof(CreateLinkCode)).RequireAuthorization();
        devices.MapGet("/link-codes/{lookupId}", GetLinkCode).WithName(nameof(GetLinkCode)).AllowAnonymous();
        devices.MapPost("/", LinkDevice).WithName(nameof(LinkDevice)).AllowAnonymous();
        devices.MapDelete("/{deviceId:guid}", RevokeDevice).WithName(nameof(RevokeDevice)).RequireAuthorization();
        return app;
    }

    /// <summary>A new account and its first device. Asks for public keys only: no phone, e-mail or name.</summary>
    public static async Task<Results<Created<RegisterAccountResponse>, ProblemHttpResult>> RegisterAccount(
        RegisterAccountRequest request, CoordinationDbContext db, RateLimits limits, CancellationToken ct)
    {
        string? invalid = DeviceKeyRules.Validate(request?.AccountPublicKey, request?.Device);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        if (!limits.TryRegister())
        {
            return Problems.TooManyRequests("Too many registrations right now; try again in a minute.");
        }

        byte[] accountKey = request!.AccountPublicKey;
        byte[] deviceKey = request.Device.SigningPublicKey;
        if (await db.Accounts.AnyAsync(a => a.PublicKey == accountKey, ct) || await db.Devices.AnyAsync(d => d.SigningPublicKey == deviceKey, ct))
        {
            return Problems.Conflict("This account or device key is already registered.");
        }

        Account account = new() { Id = Guid.NewGuid(), PublicKey = accountKey };
        Device device = NewDevice(account.Id, request.Device);
        db.Accounts.Add(account);
        db.Devices.Add(device);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict("This account or device key is already registered.");
        }

        return TypedResults.Created($"/api/v1/accounts/{account.Id}", new RegisterAccountResponse(account.Id, device.Id));
    }

    /// <summary>An account's public key and active devices, so others can encrypt to it.</summary>
    public static async Task<Results<Ok<AccountInfo>, ProblemHttpResult>> GetAccount(Guid accountId, CoordinationDbContext db, CancellationToken ct)
    {
        Account? account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == accountId, ct);
        if (account is null)
        {
            return Problems.NotFound("No such account.");
        }

        List<DeviceInfo> devices = await DevicesOf(db, accountId, includeRevoked: false, ct);
        return TypedResults.Ok(new AccountInfo(account.Id, account.PublicKey, devices));
    }

    /// <summary>Every device of the caller's account, revoked ones included.</summary>
    public static async Task<Ok<List<DeviceInfo>>> ListDevices(ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        return TypedResults.Ok(await DevicesOf(db, accountId, includeRevoked: true, ct));
    }

    /// <summary>An existing device offers a one-time link under a lookup id derived from the code.</summary>
    public static async Task<Results<Ok<CreateLinkCodeResponse>, ProblemHttpResult>> CreateLinkCode(
        CreateLinkCodeRequest request, ClaimsPrincipal user, CoordinationDbContext db, TimeProvider clock, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        if (request?.LookupId is null || request.LookupId.Length != Limits.LinkLookupIdBytes)
        {
            return Problems.BadRequest($"lookupId must be {Limits.LinkLookupIdBytes} bytes.");
        }

        if (request.Payload is null || request.Payload.Length is 0 or > Limits.MaxLinkPayloadBytes)
        {
            return Problems.BadRequest($"payload must be 1 to {Limits.MaxLinkPayloadBytes} bytes.");
        }

        if (await db.LinkCodes.AnyAsync(l => l.LookupId == request.LookupId, ct))
        {
            return Problems.Conflict("This link code is already in use; make a new one.");
        }

        long expiresAt = clock.GetUtcNow().Add(Limits.LinkCodeLifetime).ToUnixTimeMilliseconds();
        db.LinkCodes.Add(new LinkCode { LookupId = request.LookupId, AccountId = accountId, Payload = request.Payload, ExpiresAt = expiresAt });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict("This link code is already in use; make a new one.");
        }

        return TypedResults.Ok(new CreateLinkCodeResponse(expiresAt));
    }

    /// <summary>What a new device needs to join: the account key and the encrypted payload.</summary>
    public static async Task<Results<Ok<LinkCodeOffer>, ProblemHttpResult>> GetLinkCode(
        string lookupId, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        byte[]? id = DecodeLookupId(lookupId);
        if (id is null)
        {
            return Problems.BadRequest($"lookupId must be {Limits.LinkLookupIdBytes} bytes in base64url.");
        }

        if (!limits.TryLink())
        {
            return Problems.TooManyRequests("Too many link attempts right now; try again in a minute.");
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var offer = await (
            from l in db.LinkCodes
            join a in db.Accounts on l.AccountId equals a.Id
            where l.LookupId == id && l.ExpiresAt > now
            select new LinkCodeOffer(a.Id, a.PublicKey, l.Payload, l.ExpiresAt)).AsNoTracking().FirstOrDefaultAsync(ct);
        return offer is null ? Problems.NotFound("No such link code, or it expired.") : TypedResults.Ok(offer);
    }

    /// <summary>A new device joins the account with a link code, which is then gone.</summary>
    public static async Task<Results<Created<LinkDeviceResponse>, ProblemHttpResult>> LinkDevice(
        LinkDeviceRequest request, CoordinationDbContext db, RateLimits limits, TimeProvider clock, CancellationToken ct)
    {
        if (request?.LookupId is null || request.LookupId.Length != Limits.LinkLookupIdBytes)
        {
            return Problems.BadRequest($"lookupId must be {Limits.LinkLookupIdBytes} bytes.");
        }

        if (!limits.TryLink())
        {
            return Problems.TooManyRequests("Too many link attempts right now; try again in a minute.");
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        LinkCode? code = await db.LinkCodes.FirstOrDefaultAsync(l => l.LookupId == request.LookupId && l.ExpiresAt > now, ct);
        Account? account = code is null ? null : await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == code.AccountId, ct);
        if (code is null || account is null)
        {
            return Problems.NotFound("No such link code, or it expired.");
        }

        string? invalid = DeviceKeyRules.Validate(account.PublicKey, request.Device);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        byte[] deviceKey = request.Device.SigningPublicKey;
        if (await db.Devices.AnyAsync(d => d.SigningPublicKey == deviceKey, ct))
        {
            return Problems.Conflict("This device key is already registered.");
        }

        Device device = NewDevice(account.Id, request.Device);
        db.Devices.Add(device);
        db.LinkCodes.Remove(code);

        // A new device starts after everything already stored: it gets no history.
        long newest = await db.Envelopes.MaxAsync(e => (long?)e.Seq, ct) ?? 0;
        List<Guid> conversations = await db.ConversationParticipants.Where(p => p.AccountId == account.Id).Select(p => p.ConversationId).ToListAsync(ct);
        foreach (Guid conversation in conversations)
        {
            db.DeliveryCursors.Add(new DeliveryCursor { DeviceId = device.Id, ConversationId = conversation, AckedSeq = newest });
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict("The link code was used at the same time by another device.");
        }

        return TypedResults.Created($"/api/v1/devices/{device.Id}", new LinkDeviceResponse(account.Id, device.Id));
    }

    /// <summary>Revokes a device of the caller's account: sessions, cursors and open connections end at once.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeDevice(
        Guid deviceId, ClaimsPrincipal user, CoordinationDbContext db, DeviceRevocation revocation, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        bool own = await db.Devices.AnyAsync(d => d.Id == deviceId && d.AccountId == accountId, ct);
        if (!own)
        {
            return Problems.NotFound("No such device in this account.");
        }

        await revocation.RevokeAsync(db, deviceId, ct);
        return TypedResults.NoContent();
    }

    private static Device NewDevice(Guid accountId, DeviceKeys keys) => new()
    {
        Id = Guid.NewGuid(),
        AccountId = accountId,
        SigningPublicKey = keys.SigningPublicKey,
        AgreementPublicKey = keys.AgreementPublicKey,
        AccountSignature = keys.AccountSignature,
        Revoked = false,
    };

    private static async Task<List<DeviceInfo>> DevicesOf(CoordinationDbContext db, Guid accountId, bool includeRevoked, CancellationToken ct) =>
        await db.Devices.AsNoTracking()
            .Where(d => d.AccountId == accountId && (includeRevoked || !d.Revoked))
            .Select(d => new DeviceInfo(d.Id, d.SigningPublicKey, d.AgreementPublicKey, d.AccountSignature, d.Revoked))
            .ToListAsync(ct);

    /// <summary>A lookup id from a path: base64url of exactly <paramref name="length"/> bytes (link codes and invites), else null.</summary>
    internal static byte[]? DecodeLookupId(string? value, int length = Limits.LinkLookupIdBytes)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 64 || !Base64Url.IsValid(value))
        {
            return null;
        }

        byte[] bytes = new byte[48];
        int written = Base64Url.DecodeFromChars(value, bytes);
        return written == length ? bytes[..written] : null;
    }
}
