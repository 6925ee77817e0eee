using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Coordination.Cli.Tests.Infrastructure;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Client.Profiles;
using Coordination.Protocol;

namespace Coordination.Cli.Tests;

/// <summary>The real <c>coord</c> CLI against the real relay on a real port, with temporary profile directories.</summary>
public sealed class CliTests(RelayFactory relay) : IClassFixture<RelayFactory>, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "coordination-cli-tests", "run-" + Guid.NewGuid().ToString("N"));

    private string Home => Path.Combine(_root, "home");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public async Task Identity_create_prints_one_json_object_with_ids_the_relay_knows()
    {
        Coord coord = new(Home);
        string profile = ProfileDir("alice");
        JsonElement created = await coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--name", "Alice-Local-Label");

        Assert.Equal(["accountId", "deviceId", "server", "profile"], created.EnumerateObject().Select(p => p.Name));
        Guid accountId = created.GetProperty("accountId").GetGuid();
        Guid deviceId = created.GetProperty("deviceId").GetGuid();
        Assert.Equal(relay.Url, created.GetProperty("server").GetString());
        Assert.Equal(profile, created.GetProperty("profile").GetString());

        // The relay knows the account and this device: log in with the saved keys and ask it.
        using ProfileStore store = await ProfileStore.OpenAsync(profile, Coord.DefaultPassphrase.ToCharArray()).WaitAsync(Coord.Timeout);
        Assert.True(store.IsEncrypted);
        Assert.Equal(accountId, store.Profile.AccountId);
        Assert.Equal(deviceId, store.Profile.DeviceId);
        Assert.Equal("Alice-Local-Label", store.Profile.DisplayName);
        using DeviceIdentity identity = store.ToIdentity();
        using RelayApi api = RelayApi.Create(new Uri(relay.Url));
        LoginResponse login = await api.LoginAsync(identity).WaitAsync(Coord.Timeout);
        Assert.Equal(accountId, login.AccountId);
        AccountInfo account = await api.GetAccountAsync(accountId).WaitAsync(Coord.Timeout);
        Assert.Equal([deviceId], account.Devices.Select(d => d.DeviceId));

        // The label stays local and the file is ciphertext.
        string file = await File.ReadAllTextAsync(Path.Combine(profile, ProfileStore.FileName));
        Assert.DoesNotContain("Alice-Local-Label", file, StringComparison.Ordinal);
        Assert.DoesNotContain(accountId.ToString(), file, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Identity_show_reports_the_profile_without_the_network()
    {
        Coord coord = new(Home);
        string profile = ProfileDir("alice");
        JsonElement created = await coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--name", "Алиса's laptop");

        JsonElement shown = await coord.JsonAsync("identity", "show", "--profile", profile);
        Assert.Equal(created.GetProperty("accountId").GetGuid(), shown.GetProperty("accountId").GetGuid());
        Assert.Equal(created.GetProperty("deviceId").GetGuid(), shown.GetProperty("deviceId").GetGuid());
        Assert.Equal(relay.Url, shown.GetProperty("server").GetString());
        Assert.Equal("Алиса's laptop", shown.GetProperty("name").GetString());

        // JSON for terminals and programs: names as written, not \u escapes.
        CoordResult raw = await coord.RunAsync("identity", "show", "--profile", profile, "--json");
        Assert.Contains("\"name\":\"Алиса's laptop\"", raw.Stdout, StringComparison.Ordinal);
        Assert.True(shown.GetProperty("encrypted").GetBoolean());
        Assert.Equal(profile, shown.GetProperty("profile").GetString());

        // Human output: a table with the same ids, nothing on stderr.
        CoordResult human = await coord.RunAsync("identity", "show", "--profile", profile);
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains(created.GetProperty("accountId").GetString()!, human.Stdout, StringComparison.Ordinal);
        Assert.Contains(created.GetProperty("deviceId").GetString()!, human.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, human.Stderr);
    }

    [Fact]
    public async Task Profile_defaults_to_COORD_PROFILE_then_home()
    {
        Coord coord = new(Home);
        JsonElement created = await coord.JsonAsync("--server", relay.Url, "identity", "create");
        Assert.Equal(Path.Combine(Home, ".coordination", "default"), created.GetProperty("profile").GetString());
        Assert.True(ProfileStore.Exists(Path.Combine(Home, ".coordination", "default")));

        coord.Environment["COORD_PROFILE"] = ProfileDir("from-env");
        JsonElement second = await coord.JsonAsync("--server", relay.Url, "identity", "create");
        Assert.Equal(ProfileDir("from-env"), second.GetProperty("profile").GetString());
        JsonElement shown = await coord.JsonAsync("identity", "show");
        Assert.Equal(second.GetProperty("deviceId").GetGuid(), shown.GetProperty("deviceId").GetGuid());
    }

    [Fact]
    public async Task Device_link_on_two_profiles_then_list_shows_both_devices()
    {
        Coord coord = new(Home);
        string first = ProfileDir("laptop");
        string second = ProfileDir("phone");
        JsonElement created = await coord.JsonAsync("--server", relay.Url, "--profile", first, "identity", "create");
        Guid accountId = created.GetProperty("accountId").GetGuid();
        Guid firstDevice = created.GetProperty("deviceId").GetGuid();

        JsonElement offer = await coord.JsonAsync("--profile", first, "device", "link");
        string code = offer.GetProperty("code").GetString()!;
        Assert.Matches("^([A-HJ-NP-Z2-9]{4}-){7}[A-HJ-NP-Z2-9]{4}$", code);
        Assert.Equal(relay.Url, offer.GetProperty("server").GetString());
        DateTimeOffset expires = offer.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(8), TimeSpan.FromMinutes(11));

        // The new device has its own profile directory (and here its own passphrase).
        Coord newDevice = new(Home, "another passphrase");
        JsonElement linked = await newDevice.JsonAsync("--server", relay.Url, "--profile", second, "device", "link", "--code", code.ToLowerInvariant(), "--name", "Phone");
        Assert.Equal(accountId, linked.GetProperty("accountId").GetGuid());
        Guid secondDevice = linked.GetProperty("deviceId").GetGuid();
        Assert.NotEqual(firstDevice, secondDevice);

        JsonElement fromFirst = await coord.JsonAsync("--profile", first, "device", "list");
        Assert.Equal(2, fromFirst.GetProperty("devices").GetArrayLength());
        AssertDevice(fromFirst, firstDevice, revoked: false, current: true);
        AssertDevice(fromFirst, secondDevice, revoked: false, current: false);

        JsonElement fromSecond = await newDevice.JsonAsync("--profile", second, "device", "list");
        AssertDevice(fromSecond, firstDevice, revoked: false, current: false);
        AssertDevice(fromSecond, secondDevice, revoked: false, current: true);

        // Both profiles hold the same account key; each its own device keys.
        using ProfileStore a = await ProfileStore.OpenAsync(first, Coord.DefaultPassphrase.ToCharArray()).WaitAsync(Coord.Timeout);
        using ProfileStore b = await ProfileStore.OpenAsync(second, "another passphrase".ToCharArray()).WaitAsync(Coord.Timeout);
        Assert.Equal(a.Profile.AccountSeed, b.Profile.AccountSeed);
        Assert.NotEqual(a.Profile.DeviceSigningSeed, b.Profile.DeviceSigningSeed);
        Assert.NotEqual(a.Profile.LocalStorageKey, b.Profile.LocalStorageKey);

        // The code works once.
        CoordResult again = await coord.RunAsync("--server", relay.Url, "--profile", ProfileDir("tablet"), "device", "link", "--code", code, "--json");
        Assert.Equal(1, again.ExitCode);
        Assert.Equal(404, again.Error.GetProperty("status").GetInt32());
        Assert.False(ProfileStore.Exists(ProfileDir("tablet")));

        // Human list output marks this device.
        CoordResult human = await coord.RunAsync("--profile", first, "device", "list");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("this device", human.Stdout, StringComparison.Ordinal);
        Assert.Contains(secondDevice.ToString(), human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Device_revoke_ends_the_other_device()
    {
        Coord coord = new(Home);
        string first = ProfileDir("laptop");
        string second = ProfileDir("phone");
        Guid firstDevice = (await coord.JsonAsync("--server", relay.Url, "--profile", first, "identity", "create")).GetProperty("deviceId").GetGuid();
        string code = (await coord.JsonAsync("--profile", first, "device", "link")).GetProperty("code").GetString()!;
        Guid secondDevice = (await coord.JsonAsync("--server", relay.Url, "--profile", second, "device", "link", "--code", code)).GetProperty("deviceId").GetGuid();

        JsonElement revoked = await coord.JsonAsync("--profile", first, "device", "revoke", secondDevice.ToString());
        Assert.Equal(secondDevice, revoked.GetProperty("deviceId").GetGuid());
        Assert.False(revoked.GetProperty("current").GetBoolean());

        JsonElement list = await coord.JsonAsync("--profile", first, "device", "list");
        AssertDevice(list, firstDevice, revoked: false, current: true);
        AssertDevice(list, secondDevice, revoked: true, current: false);

        // The revoked device can no longer log in: a clear JSON error and a non-zero exit.
        CoordResult refused = await coord.RunAsync("--profile", second, "device", "list", "--json");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(string.Empty, refused.Stdout);
        Assert.Contains("revoked", refused.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, refused.Error.GetProperty("status").GetInt32());

        // A device that is not in the account.
        CoordResult unknown = await coord.RunAsync("--profile", first, "device", "revoke", Guid.NewGuid().ToString(), "--json");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal(404, unknown.Error.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Wrong_passphrase_fails_with_a_json_error()
    {
        string profile = ProfileDir("alice");
        await new Coord(Home).JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create");

        CoordResult result = await new Coord(Home, "not the passphrase").RunAsync("--profile", profile, "identity", "show", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal("wrong passphrase or damaged profile", result.Error.GetProperty("error").GetString());
        Assert.False(result.Error.TryGetProperty("status", out _));

        // In human mode the same error goes to stderr.
        CoordResult human = await new Coord(Home, "not the passphrase").RunAsync("--profile", profile, "device", "list");
        Assert.Equal(1, human.ExitCode);
        Assert.Equal(string.Empty, human.Stdout);
        Assert.Contains("wrong passphrase or damaged profile", human.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passphrase_comes_from_a_file_or_is_required()
    {
        string profile = ProfileDir("alice");
        string passphraseFile = Path.Combine(_root, "passphrase.txt");
        Directory.CreateDirectory(_root);
        await File.WriteAllTextAsync(passphraseFile, "from a file\n");
        Coord coord = new(Home);
        coord.Environment.Remove("COORD_PASSPHRASE");

        // Not a terminal and no passphrase: refused before anything is registered.
        CoordResult missing = await coord.RunAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--json");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("COORD_PASSPHRASE", missing.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(ProfileStore.Exists(profile));

        await coord.JsonAsync("--server", relay.Url, "--profile", profile, "--passphrase-file", passphraseFile, "identity", "create");
        using (ProfileStore store = await ProfileStore.OpenAsync(profile, "from a file".ToCharArray()).WaitAsync(Coord.Timeout))
        {
            Assert.True(store.IsEncrypted);
        }

        Assert.True((await coord.JsonAsync("--profile", profile, "--passphrase-file", passphraseFile, "identity", "show")).GetProperty("encrypted").GetBoolean());
        CoordResult noPassphrase = await coord.RunAsync("--profile", profile, "identity", "show", "--json");
        Assert.Equal(1, noPassphrase.ExitCode);
        Assert.Contains("passphrase", noPassphrase.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_passphrase_creates_an_unencrypted_profile_only_when_asked()
    {
        string profile = ProfileDir("open");
        Coord coord = new(Home);
        coord.Environment.Remove("COORD_PASSPHRASE");
        JsonElement created = await coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--no-passphrase");

        Assert.False(await ProfileStore.IsEncryptedAsync(profile).WaitAsync(Coord.Timeout));
        JsonElement shown = await coord.JsonAsync("--profile", profile, "identity", "show");
        Assert.False(shown.GetProperty("encrypted").GetBoolean());
        Assert.Equal(created.GetProperty("deviceId").GetGuid(), shown.GetProperty("deviceId").GetGuid());
        Assert.Equal(1, (await coord.JsonAsync("--profile", profile, "device", "list")).GetProperty("devices").GetArrayLength());
    }

    [Fact]
    public async Task Create_refuses_an_existing_profile_before_registering()
    {
        Coord coord = new(Home);
        string profile = ProfileDir("alice");
        JsonElement created = await coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create");

        CoordResult again = await coord.RunAsync("--server", relay.Url, "--profile", profile, "identity", "create", "--json");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(created.GetProperty("deviceId").GetGuid(), (await coord.JsonAsync("--profile", profile, "identity", "show")).GetProperty("deviceId").GetGuid());
    }

    [Fact]
    public async Task Unreachable_relay_is_a_clear_error()
    {
        string unused = $"http://127.0.0.1:{FreePort()}/";
        string profile = ProfileDir("alice");
        CoordResult result = await new Coord(Home).RunAsync("--server", unused, "--profile", profile, "identity", "create", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        string error = result.Error.GetProperty("error").GetString()!;
        Assert.StartsWith($"Could not reach the relay at {unused}", error, StringComparison.Ordinal);
        Assert.False(ProfileStore.Exists(profile));

        CoordResult human = await new Coord(Home).RunAsync("--server", unused, "--profile", profile, "identity", "create");
        Assert.Equal(1, human.ExitCode);
        Assert.Contains("Could not reach the relay", human.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_errors_exit_2_with_a_json_error()
    {
        Coord coord = new(Home);
        CoordResult unknown = await coord.RunAsync("identity", "frobnicate", "--json");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal(string.Empty, unknown.Stdout);
        Assert.NotEmpty(unknown.Error.GetProperty("error").GetString()!);

        CoordResult badId = await coord.RunAsync("device", "revoke", "not-a-guid", "--json");
        Assert.Equal(2, badId.ExitCode);
        Assert.NotEmpty(badId.Error.GetProperty("error").GetString()!);

        CoordResult badServer = await coord.RunAsync("--server", "ftp://relay.example", "--profile", ProfileDir("x"), "identity", "create", "--json");
        Assert.Equal(2, badServer.ExitCode);
        Assert.Contains("--server", badServer.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        CoordResult badCode = await coord.RunAsync("--server", relay.Url, "--profile", ProfileDir("y"), "device", "link", "--code", "not-a-code", "--json");
        Assert.Equal(2, badCode.ExitCode);
        Assert.Contains("link code", badCode.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        CoordResult misplaced = await coord.RunAsync("--profile", ProfileDir("z"), "device", "link", "--no-passphrase", "--json");
        Assert.Equal(2, misplaced.ExitCode);

        CoordResult human = await coord.RunAsync("nonsense");
        Assert.Equal(2, human.ExitCode);
        Assert.Contains("coord --help", human.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_link_code_is_a_clear_error()
    {
        using DeviceLinkCode code = DeviceLinkCode.Create();
        string profile = ProfileDir("phone");
        CoordResult result = await new Coord(Home).RunAsync("--server", relay.Url, "--profile", profile, "device", "link", "--code", code.Code, "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(404, result.Error.GetProperty("status").GetInt32());
        Assert.Contains("link code", result.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(ProfileStore.Exists(profile));
    }

    [Fact]
    public async Task Missing_profile_says_how_to_create_one()
    {
        CoordResult result = await new Coord(Home).RunAsync("--profile", ProfileDir("nobody"), "device", "list", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("coord identity create", result.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_the_command_groups()
    {
        CoordResult result = await new Coord(Home).RunAsync("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("identity", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("device", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--json", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_coord_executable_runs_as_a_process()
    {
        string coordDll = Path.Combine(AppContext.BaseDirectory, "coord.dll");
        Assert.True(File.Exists(coordDll), $"{coordDll} is missing");
        string profile = ProfileDir("process");
        // The dotnet host that runs these tests (testhost runs under it), else the one on PATH.
        string dotnet = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
            ?? (Path.GetFileNameWithoutExtension(System.Environment.ProcessPath) == "dotnet" ? System.Environment.ProcessPath! : "dotnet");
        System.Diagnostics.ProcessStartInfo start = new(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string arg in new[] { coordDll, "--server", relay.Url, "--profile", profile, "identity", "create", "--json" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["COORD_KDF"] = "min";
        start.Environment["COORD_PASSPHRASE"] = Coord.DefaultPassphrase;
        start.Environment["HOME"] = Home;
        using System.Diagnostics.Process process = System.Diagnostics.Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using CancellationTokenSource cts = new(Coord.Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        CoordResult result = new(process.ExitCode, await stdout.WaitAsync(Coord.Timeout), await stderr.WaitAsync(Coord.Timeout));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Stderr);
        Guid deviceId = result.Json.GetProperty("deviceId").GetGuid();
        using ProfileStore store = await ProfileStore.OpenAsync(profile, Coord.DefaultPassphrase.ToCharArray()).WaitAsync(Coord.Timeout);
        Assert.Equal(deviceId, store.Profile.DeviceId);
    }

    private static void AssertDevice(JsonElement list, Guid deviceId, bool revoked, bool current)
    {
        JsonElement device = list.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("deviceId").GetGuid() == deviceId);
        Assert.Equal(revoked, device.GetProperty("revoked").GetBoolean());
        Assert.Equal(current, device.GetProperty("current").GetBoolean());
    }

    private static int FreePort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string ProfileDir(string name) => Path.Combine(_root, "profiles", name);
}
