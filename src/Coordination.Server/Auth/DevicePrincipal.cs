using System.Security.Claims;

namespace Coordination.Server.Auth;

/// <summary>The authenticated device behind a request or hub connection.</summary>
public sealed record DevicePrincipal(Guid AccountId, Guid DeviceId, long ExpiresAt)
{
    public const string AccountClaim = "coordination:account";
    public const string DeviceClaim = "coordination:device";

    public ClaimsPrincipal ToClaimsPrincipal(string scheme) => new(new ClaimsIdentity(
        [
            new Claim(AccountClaim, AccountId.ToString()),
            new Claim(DeviceClaim, DeviceId.ToString()),
            new Claim(ClaimTypes.NameIdentifier, DeviceId.ToString()),
        ],
        scheme));

    /// <summary>The device of an authenticated principal; throws if the principal is not one of ours.</summary>
    public static (Guid AccountId, Guid DeviceId) From(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        string? account = user.FindFirstValue(AccountClaim);
        string? device = user.FindFirstValue(DeviceClaim);
        if (account is null || device is null || !Guid.TryParse(account, out Guid accountId) || !Guid.TryParse(device, out Guid deviceId))
        {
            throw new InvalidOperationException("The request is not authenticated as a device.");
        }

        return (accountId, deviceId);
    }
}
