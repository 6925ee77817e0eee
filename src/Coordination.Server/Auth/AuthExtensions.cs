using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Extensions;

namespace Coordination.Server.Auth;

public static class AuthExtensions
{
    public static WebApplicationBuilder AddDeviceAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ChallengeStore>();
        builder.Services.AddSingleton<SessionStore>();
        // Authentication pulls in ASP.NET Core data protection, which the relay never uses (no
        // cookies, its own session tokens). Keep its keys in memory: nothing written to $HOME or
        // the working directory, no warnings at start, nothing to seize or to share between nodes.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services
            .AddAuthentication(DeviceTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, DeviceTokenAuthenticationHandler>(DeviceTokenAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        return builder;
    }

    /// <summary>
    /// Authentication, then removal of <c>access_token</c> from the query string so that no later
    /// component (logging, error pages, diagnostics) can see the token.
    /// </summary>
    public static WebApplication UseDeviceAuthentication(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use(static (context, next) =>
        {
            if (context.Request.Query.ContainsKey("access_token"))
            {
                QueryBuilder scrubbed = new(context.Request.Query
                    .Where(q => !string.Equals(q.Key, "access_token", StringComparison.OrdinalIgnoreCase))
                    .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? ""))));
                context.Request.QueryString = scrubbed.ToQueryString();
            }

            return next(context);
        });
        app.UseAuthorization();
        return app;
    }
}
