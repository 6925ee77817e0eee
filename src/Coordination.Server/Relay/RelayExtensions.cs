using Coordination.Protocol;
using Coordination.Server.Hosting;
using Microsoft.AspNetCore.SignalR;

namespace Coordination.Server.Relay;

public static class RelayExtensions
{
    public static WebApplicationBuilder AddRelay(this WebApplicationBuilder builder)
    {
        RelayOptions options = builder.Configuration.GetSection("Relay").Get<RelayOptions>() ?? new RelayOptions();
        builder.Services.AddSingleton(options.Validate());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddSingleton<ConversationDirectory>();
        builder.Services.AddSingleton<LiveDelivery>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LiveDelivery>());
        builder.Services.AddSingleton<RelayWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RelayWriter>());
        builder.Services.AddSingleton<EnvelopeRelay>();
        builder.Services.AddScoped<ConversationMembership>();
        builder.Services.AddSignalR(hub =>
        {
            hub.MaximumReceiveMessageSize = Limits.MaxWireMessageBytes;
            hub.MaximumParallelInvocationsPerClient = 8;
            hub.StreamBufferCapacity = 10;
            hub.EnableDetailedErrors = false;
            hub.KeepAliveInterval = TimeSpan.FromSeconds(15);
            hub.ClientTimeoutInterval = TimeSpan.FromSeconds(30);
            hub.HandshakeTimeout = TimeSpan.FromSeconds(15);
            hub.AddFilter<RevokedDeviceFilter>();
            hub.AddFilter<StorageFaultHubFilter>();
        });
        return builder;
    }
}
