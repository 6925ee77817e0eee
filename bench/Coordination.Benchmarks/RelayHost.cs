using System.Globalization;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Protocol;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Coordination.Benchmarks;

/// <summary>
/// The real Coordination server (its own Program, middleware and SQLite file) on a real Kestrel port,
/// in production mode, with the rate limits raised so that they do not cap the load. With
/// <c>settings</c> it runs on other configuration, for example as one of several nodes on PostgreSQL
/// ((d)): each host is a separate application with its own DI container, Kestrel port, database
/// connections and background services; all they share in this process is the runtime, and the
/// per-cell and per-task lock tables, which are static but only ever serialize more, never less.
/// </summary>
internal sealed class RelayHost : WebApplicationFactory<Program>
{
    private static readonly TimeSpan _healthLimit = TimeSpan.FromSeconds(60);

    private readonly bool _singletonDbContextOptions;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private NpgsqlDataSource? _postgres;

    public RelayHost(string dataDirectory, bool singletonDbContextOptions = false, IReadOnlyDictionary<string, string>? settings = null, string? logPrefix = null)
    {
        _singletonDbContextOptions = singletonDbContextOptions;
        _settings = settings ?? new Dictionary<string, string>();
        Logs = new WarningsToStderrProvider(logPrefix);
        DataDirectory = dataDirectory;
        Directory.CreateDirectory(DataDirectory);
        UseKestrel(0);
    }

    /// <summary>What the server logged at warning level or above.</summary>
    public WarningsToStderrProvider Logs { get; }

    public string DataDirectory { get; }

    public Uri ServerAddress
    {
        get
        {
            StartServer();
            _postgres ??= Services.GetService<NpgsqlDataSource>();
            return ClientOptions.BaseAddress;
        }
    }

    /// <summary>
    /// Waits until <c>GET /healthz</c> answers 200: the database answers and, on PostgreSQL, the node
    /// listens for the other nodes' signals (until then it would miss their envelopes).
    /// </summary>
    public async Task WaitUntilHealthyAsync(CancellationToken ct)
    {
        using HttpClient http = new() { BaseAddress = ServerAddress, Timeout = TimeSpan.FromSeconds(5) };
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string last = "no answer";
        while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < _healthLimit)
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri("healthz", UriKind.Relative), ct);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
            {
                last = ex.Message;
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"The relay at {ServerAddress} did not answer /healthz with 200 within {_healthLimit.TotalSeconds:F0} s (last: {last}).");
    }

    /// <summary>A conversation of kind Cell with every account in it, through the server's own membership code (cells have no HTTP endpoint yet).</summary>
    public async Task<Guid> CreateCellAsync(IReadOnlyCollection<Guid> accounts, CancellationToken ct)
    {
        await using AsyncServiceScope scope = Services.CreateAsyncScope();
        ConversationMembership membership = scope.ServiceProvider.GetRequiredService<ConversationMembership>();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        return await membership.CreateAsync(db, ConversationKind.Cell, accounts, null, ct);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();

        // The server's connections are pooled; release the file handles before the next scenario.
        SqliteConnection.ClearAllPools();

        // The server registers its PostgreSQL data source as an instance, which the container does not dispose.
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    /// <summary>
    /// The server project's directory, from the manifest Microsoft.AspNetCore.Mvc.Testing writes next to
    /// the benchmark (the factory itself looks for it in the working directory only).
    /// </summary>
    private static string ServerContentRoot()
    {
        string manifest = Path.Combine(AppContext.BaseDirectory, "MvcTestingAppManifest.json");
        string serverAssembly = typeof(Program).Assembly.FullName!;
        if (File.Exists(manifest)
            && JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(manifest)) is { } roots
            && roots.TryGetValue(serverAssembly, out string? root)
            && Directory.Exists(root))
        {
            return root;
        }

        return AppContext.BaseDirectory;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Production: no development-only scope validation or error pages in the measured path.
        builder.UseEnvironment(Environments.Production);
        builder.UseContentRoot(ServerContentRoot());
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        string unlimited = 1_000_000.ToString(CultureInfo.InvariantCulture);
        builder.UseSetting("RateLimits:SendsPerSecond", unlimited);
        builder.UseSetting("RateLimits:SendBurst", unlimited);
        builder.UseSetting("RateLimits:LoginsPerMinute", unlimited);
        builder.UseSetting("RateLimits:RegistrationsPerMinute", unlimited);
        builder.UseSetting("RateLimits:LinkAttemptsPerMinute", unlimited);
        foreach ((string key, string value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(Logs);
        });

        if (_singletonDbContextOptions)
        {
            // Experiment (--experiment singleton-db-options): what the server would gain from building its
            // DbContextOptions once instead of once per scope, i.e. once per hub invocation.
            builder.ConfigureTestServices(services =>
            {
                ServiceDescriptor scoped = services.Single(d => d.ServiceType == typeof(DbContextOptions<SqliteCoordinationDbContext>));
                services.Remove(scoped);
                services.Add(new ServiceDescriptor(scoped.ServiceType, scoped.ImplementationFactory!, ServiceLifetime.Singleton));
            });
        }
    }
}

/// <summary>A registered, logged-in device of a new account, with real keys, over real HTTP.</summary>
internal sealed class BenchDevice(DeviceIdentity identity, RelayApi api) : IDisposable
{
    public DeviceIdentity Identity { get; } = identity;

    public RelayApi Api { get; } = api;

    public Guid AccountId => Identity.AccountId;

    public static async Task<BenchDevice[]> CreateManyAsync(Uri server, int count, CancellationToken ct)
    {
        BenchDevice?[] devices = new BenchDevice?[count];
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
            {
                DeviceIdentity identity = DeviceIdentity.CreateAccount();
                RelayApi api = RelayApi.Create(server);
                devices[i] = new BenchDevice(identity, api);
                await api.RegisterAccountAsync(identity, token).WaitAsync(TimeSpan.FromSeconds(30), token);
                await api.LoginAsync(identity, token).WaitAsync(TimeSpan.FromSeconds(30), token);
            });
        }
        catch
        {
            DisposeAll(devices);
            throw;
        }

        return devices!;
    }

    public static void DisposeAll(IEnumerable<BenchDevice?> devices)
    {
        foreach (BenchDevice? device in devices)
        {
            device?.Dispose();
        }
    }

    public void Dispose()
    {
        Identity.Dispose();
        Api.Dispose();
    }
}
