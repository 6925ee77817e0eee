using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Hosting;
using Coordination.Server.InputLimits;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Auth;

public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/v1/auth").WithTags("Auth");
        group.MapPost("/challenges", CreateChallenge).WithName(nameof(CreateChallenge)).AllowAnonymous();
        group.MapPost("/sessions", Login).WithName(nameof(Login)).AllowAnonymous();
        group.MapDelete("/sessions/current", Logout).WithName(nameof(Logout)).RequireAuthorization();
        return app;
    }

    /// <summary>A single-use challenge for a device to sign.</summary>
    public static async Task<Results<Ok<ChallengeResponse>, ProblemHttpResult>> CreateChallenge(
        ChallengeRequest request, CoordinationDbContext db, ChallengeStore challenges, RateLimits limits, CancellationToken ct)
    {
        if (request is null || request.DeviceId == Guid.Empty)
        {
            return Problems.BadRequest("deviceId is required.");
        }

        if (!limits.TryLogin(request.DeviceId))
        {
            return Problems.TooManyRequests("Too many login attempts for this device; wait a minute.");
        }

        bool active = await db.Devices.AnyAsync(d => d.Id == request.DeviceId && !d.Revoked, ct);
        if (!active)
        {
            return Problems.NotFound("Unknown or revoked device.");
        }

        (Guid Id, ChallengeStore.Challenge Challenge)? issued = challenges.Issue(request.DeviceId);
        if (issued is null)
        {
            return Problems.ServiceUnavailable("Too many outstanding challenges; try again shortly.");
        }

        return TypedResults.Ok(new ChallengeResponse(issued.Value.Id, issued.Value.Challenge.Nonce, issued.Value.Challenge.ExpiresAt));
    }

    /// <summary>Exchanges a signed challenge for a short-lived session token.</summary>
    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> Login(
        LoginRequest request, HttpContext http, CoordinationDbContext db, ChallengeStore challenges, SessionStore sessions, RelayOptions options, CancellationToken ct)
    {
        if (request is null || request.ChallengeId == Guid.Empty || request.Signature is null)
        {
            return Problems.BadRequest("challengeId and signature are required.");
        }

        if (request.Signature.Length != Limits.SignatureBytes)
        {
            return Problems.BadRequest($"signature must be {Limits.SignatureBytes} bytes.");
        }

        ChallengeStore.Challenge? challenge = challenges.Take(request.ChallengeId);
        if (challenge is null)
        {
            return Problems.Unauthorized("The challenge is unknown, used or expired.");
        }

        Device? device = await db.Devices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == challenge.DeviceId && !d.Revoked, ct);
        if (device is null)
        {
            return Problems.Unauthorized("The device is unknown or revoked.");
        }

        byte[] statement = SignedStatements.Login(options.OriginFor(http.Request), request.ChallengeId, challenge.Nonce);
        if (!Ed25519PublicKey.FromBytes(device.SigningPublicKey).Verify(statement, request.Signature))
        {
            return Problems.Unauthorized("The signature does not verify with the device key for this server.");
        }

        (string token, DevicePrincipal principal) = await sessions.CreateAsync(db, device.AccountId, device.Id, ct);
        return TypedResults.Ok(new LoginResponse(token, principal.ExpiresAt, device.AccountId, device.Id));
    }

    /// <summary>Ends the session whose token authenticated this request.</summary>
    public static async Task<NoContent> Logout(HttpContext http, CoordinationDbContext db, SessionStore sessions, CancellationToken ct)
    {
        string? token = DeviceTokenAuthenticationHandler.ReadToken(http.Request);
        if (token is not null)
        {
            await sessions.EndAsync(db, token, ct);
        }

        return TypedResults.NoContent();
    }
}
