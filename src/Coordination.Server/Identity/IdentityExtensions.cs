namespace Coordination.Server.Identity;

public static class IdentityExtensions
{
    public static WebApplicationBuilder AddIdentity(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<DeviceRevocation>();
        return builder;
    }
}
