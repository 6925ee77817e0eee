using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Coordination.Interop.Tests.Infrastructure;

/// <summary>
/// One run of tests/interop/node/interop.mjs: a client written from docs/protocol.md alone, with
/// the official @microsoft/signalr client and libsodium-wrappers. It prints one JSON object per
/// step on stdout and takes commands as JSON lines on stdin. Every wait is bounded; disposing kills
/// the process (and its children) if it is still running.
/// </summary>
public sealed class NodeClient : IAsyncDisposable
{
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private const string InstallHint =
        "Run ./run-tests.sh (it installs Node.js and npm through apt-get when it can and runs `npm ci` in tests/interop/node), " +
        "or by hand: sudo apt-get install -y nodejs npm && (cd tests/interop/node && npm ci --no-audit --no-fund).";

    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly List<JsonElement> _steps = [];
    private readonly Task _stdoutPump;

    private NodeClient(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stderr.Enqueue(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _stdoutPump = PumpStdoutAsync();
    }

    /// <summary>Every step read so far, in order.</summary>
    public IReadOnlyList<JsonElement> Steps => _steps;

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>tests/interop/node in this repository (found by walking up to Coordination.sln).</summary>
    public static string ScriptDirectory
    {
        get
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Coordination.sln")))
                {
                    return Path.Combine(dir.FullName, "tests", "interop", "node");
                }
            }

            throw new InvalidOperationException($"Coordination.sln not found above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>
    /// The node executable on PATH, with the npm dependencies installed; fails (never skips) with
    /// what to run when either is missing.
    /// </summary>
    public static string RequireNode()
    {
        string? node = FindOnPath("node");
        Assert.True(node is not null, $"`node` was not found on PATH ({Environment.GetEnvironmentVariable("PATH")}). The interop tests need Node.js 18 or later. {InstallHint}");
        string modules = Path.Combine(ScriptDirectory, "node_modules");
        foreach (string package in new[] { Path.Combine("@microsoft", "signalr"), "libsodium-wrappers" })
        {
            Assert.True(
                File.Exists(Path.Combine(modules, package, "package.json")),
                $"The npm package {package.Replace('\\', '/')} is not installed in {modules}. {InstallHint}");
        }

        return node!;
    }

    public static NodeClient Start(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        string node = RequireNode();
        ProcessStartInfo start = new(node)
        {
            WorkingDirectory = ScriptDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("interop.mjs");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NODE_OPTIONS"] = string.Empty;
        start.Environment["NO_COLOR"] = "1";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{node} did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {node}: {e.Message}. {InstallHint}", e);
        }

        return new NodeClient(process);
    }

    /// <summary>
    /// Reads steps until <paramref name="step"/>; fails with everything Node printed if the
    /// process reports an error, ends, or the step does not come within <see cref="StepTimeout"/>.
    /// </summary>
    public async Task<JsonElement> WaitForStepAsync(string step)
    {
        using CancellationTokenSource timeout = new(StepTimeout);
        while (true)
        {
            string line;
            try
            {
                line = await _stdout.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Node did not report step '{step}' within {StepTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.\n{Transcript()}");
            }
            catch (ChannelClosedException)
            {
                bool exited = _process.WaitForExit(TimeSpan.FromSeconds(5));
                string code = exited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "(still running)";
                throw new InvalidOperationException($"Node ended (exit code {code}) before step '{step}'.\n{Transcript()}");
            }

            JsonElement parsed;
            try
            {
                using JsonDocument document = JsonDocument.Parse(line);
                parsed = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"Node printed a line that is not one JSON object: {line}\n{Transcript()}", e);
            }

            _steps.Add(parsed);
            if (parsed.ValueKind == JsonValueKind.Object && parsed.TryGetProperty("step", out JsonElement name) && name.GetString() == step)
            {
                return parsed;
            }
        }
    }

    /// <summary>Sends one command line (JSON) to the script's stdin.</summary>
    public async Task SendCommandAsync(object command)
    {
        string line = JsonSerializer.Serialize(command);
        using CancellationTokenSource timeout = new(StepTimeout);
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), timeout.Token);
        await _process.StandardInput.FlushAsync(timeout.Token);
    }

    /// <summary>Waits (bounded) for the script to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using CancellationTokenSource timeout = new(StepTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            await _stdoutPump.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Node did not exit within {StepTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.\n{Transcript()}");
        }

        return _process.ExitCode;
    }

    /// <summary>What Node printed so far, for failure messages.</summary>
    public string Transcript() =>
        $"--- node stdout (steps) ---\n{string.Join('\n', _steps.Select(s => s.GetRawText()))}\n--- node stderr ---\n{Stderr}";

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static string? FindOnPath(string name)
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        string[] names = OperatingSystem.IsWindows() ? [name + ".exe", name + ".cmd"] : [name];
        foreach (string directory in directories)
        {
            foreach (string candidate in names)
            {
                string path = Path.Combine(directory, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Length > 0)
                {
                    await _stdout.Writer.WriteAsync(line);
                }
            }
        }
        finally
        {
            _stdout.Writer.TryComplete();
        }
    }
}
