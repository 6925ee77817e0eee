using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Coordination.Client.Api;

namespace Coordination.Server.Tests.Durability;

/// <summary>
/// The real server as a separate OS process (<c>dotnet Coordination.Server.dll</c>) on a free
/// loopback port, so a test can kill it with SIGKILL: no graceful shutdown, no finally blocks, no
/// flushing, exactly like a crash or the OOM killer. Its stdout and stderr are captured for failure
/// messages.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private const string ServerDll = "Coordination.Server.dll";
    private const string ServerRuntimeConfig = "Coordination.Server.runtimeconfig.json";
    private const int MaxCapturedLines = 400;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote to stdout and stderr.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// Starts the server on <paramref name="dataDirectory"/> (plus <paramref name="settings"/>, as
    /// <c>--Key=value</c> arguments) and waits until <c>/healthz</c> answers 200; throws with the captured output if it does not within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, TimeSpan timeout, IEnumerable<string>? settings = null)
    {
        string serverDll = LocateServerDll();
        int port = FreePort();
        Uri address = new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        ProcessStartInfo start = new(DotnetHost())
        {
            WorkingDirectory = Path.GetDirectoryName(serverDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[
            serverDll,
            "--urls", address.GetLeftPart(UriPartial.Authority),
            $"--Storage:DataDirectory={dataDirectory}",
            "--RateLimits:SendsPerSecond=100000",
            "--RateLimits:SendBurst=100000",
            "--RateLimits:RegistrationsPerMinute=10000",
            "--RateLimits:LoginsPerMinute=10000",
            "--RateLimits:LinkAttemptsPerMinute=10000",
            .. settings ?? [],
        ])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        start.Environment.Remove("ASPNETCORE_HTTPS_PORTS");

        Process process = new() { StartInfo = start };
        ServerProcess server = new(process, address);
        process.OutputDataReceived += (_, e) => server.Capture("out", e.Data);
        process.ErrorDataReceived += (_, e) => server.Capture("err", e.Data);
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start {start.FileName} {serverDll}.");
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await server.WaitUntilHealthyAsync(timeout);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A client for this server instance (not logged in).</summary>
    public RelayApi CreateApi() => new(new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) });

    /// <summary>
    /// SIGKILL (on Unix, <see cref="Process.Kill(bool)"/> sends SIGKILL) and wait until the process
    /// is gone; returns its exit code (128 + 9 = 137 when the signal killed it).
    /// </summary>
    public async Task<int> KillAsync(TimeSpan timeout)
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>
    /// SIGTERM, as systemd or a container runtime stops a service, and wait until the process is
    /// gone; returns its exit code (0 after a clean shutdown).
    /// </summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (Process signal = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            await signal.WaitForExitAsync().WaitAsync(timeout);
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Every line the process wrote to stdout (the last ones, as for <see cref="Output"/>), without the stream prefix.</summary>
    public IReadOnlyList<string> StandardOutput => [.. _output.Where(l => l.StartsWith("[out] ", StringComparison.Ordinal)).Select(l => l["[out] ".Length..])];

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    /// <summary>
    /// Coordination.Server.dll: next to the test assembly (the test project references the server,
    /// so the build copies it there with its runtimeconfig), else in the server project's own
    /// output for the configuration this test assembly was built in.
    /// </summary>
    public static string LocateServerDll()
    {
        string here = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(here, ServerDll)) && File.Exists(Path.Combine(here, ServerRuntimeConfig)))
        {
            return Path.Combine(here, ServerDll);
        }

        DirectoryInfo? root = new(here);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Coordination.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new FileNotFoundException($"{ServerDll} is not in {here} and no folder above it holds Coordination.sln.");
        }

        string configuration = typeof(ServerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string output = Path.Combine(root.FullName, "src", "Coordination.Server", "bin", configuration, "net10.0");
        if (File.Exists(Path.Combine(output, ServerDll)) && File.Exists(Path.Combine(output, ServerRuntimeConfig)))
        {
            return Path.Combine(output, ServerDll);
        }

        throw new FileNotFoundException($"{ServerDll} is neither in {here} nor in {output}; build the solution first.");
    }

    /// <summary>The dotnet host running this test, so the server uses the same runtime.</summary>
    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk) ? fromSdk : "dotnet";
    }

    private static int FreePort()
    {
        TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private void Capture(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue($"[{stream}] {line}");
        while (_output.Count > MaxCapturedLines && _output.TryDequeue(out _))
        {
        }
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using HttpClient http = new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        Stopwatch elapsed = Stopwatch.StartNew();
        string last = "no answer yet";
        while (elapsed.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The server process exited with code {_process.ExitCode} before /healthz answered.{Environment.NewLine}{Output}"));
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = string.Create(CultureInfo.InvariantCulture, $"/healthz answered {(int)response.StatusCode}");
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException(
            $"The server at {Address} did not answer /healthz with 200 within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s ({last}).{Environment.NewLine}{Output}");
    }
}
