using System.Text.Encodings.Web;
using Coordination.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Coordination.Server.Auth;

/// <summary>
/// Authenticates a device by its session token: <c>Authorization: Bearer</c>, or on the hub path the
/// <c>access_token</c> query parameter (what the SignalR JavaScript client sends for WebSockets).
/// </summary>
public sealed class DeviceTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    SessionStore sessions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DeviceToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = ReadToken(Request);
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        DevicePrincipal? principal = await sessions.ValidateAsync(token, Context.RequestAborted);
        if (principal is null)
        {
            return AuthenticateResult.Fail("The session token is unknown, expired or revoked.");
        }

        // The expiry lets SignalR close a hub connection when its session ends.
        AuthenticationProperties properties = new() { ExpiresUtc = DateTimeOffset.FromUnixTimeMilliseconds(principal.ExpiresAt) };
        return AuthenticateResult.Success(new AuthenticationTicket(principal.ToClaimsPrincipal(SchemeName), properties, SchemeName));
    }

    internal static string? ReadToken(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (request.Path.StartsWithSegments(RelayHubContract.Path, StringComparison.Ordinal)
            && request.Query.TryGetValue("access_token", out Microsoft.Extensions.Primitives.StringValues values)
            && values.Count == 1)
        {
            return values[0];
        }

        return null;
    }
}
