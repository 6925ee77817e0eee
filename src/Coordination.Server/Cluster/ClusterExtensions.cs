using Coordination.Server.Persistence;

namespace Coordination.Server.Cluster;

public static class ClusterExtensions
{
    /// <summary>
    /// Signals between relay nodes. Always registered (with SQLite they send nothing); on
    /// PostgreSQL a listener applies the other nodes' signals here.
    /// </summary>
    public static WebApplicationBuilder AddCluster(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<NodeIdentity>();
        builder.Services.AddSingleton<NodeSignals>();
        if (StorageOptions.From(builder.Configuration).IsPostgres)
        {
            builder.Services.AddSingleton<NodeSignalListener>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeSignalListener>());
        }

        return builder;
    }
}
