using System.Diagnostics;
using System.Globalization;

namespace Coordination.Server.Tests.Faults;

/// <summary>
/// A SQLite test that runs the server on a small tmpfs of its own: skipped on PostgreSQL, and
/// skipped where this process cannot mount one (not Linux, not root, no CAP_SYS_ADMIN, a container
/// that forbids mounts). Whether a mount works is tried once, at discovery.
/// </summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (RelayFactory.OnPostgres)
        {
            Skip = "SQLite only: this run is on PostgreSQL.";
        }
        else if (SmallTmpfs.Unavailable is { } reason)
        {
            Skip = $"Needs a tmpfs mount of its own: {reason}";
        }
    }
}

/// <summary>
/// A test that restarts the throwaway PostgreSQL server: skipped without it, and skipped when the
/// test command did not say how to restart it (<c>COORDINATION_TEST_POSTGRES_CTL</c>).
/// </summary>
public sealed class PostgresRestartFactAttribute : FactAttribute
{
    public const string ControlVariable = "COORDINATION_TEST_POSTGRES_CTL";

    public PostgresRestartFactAttribute()
    {
        if (!RelayFactory.OnPostgres)
        {
            Skip = "Needs PostgreSQL (COORDINATION_TEST_POSTGRES, set by run-tests.sh for its PostgreSQL pass).";
        }
        else if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ControlVariable)))
        {
            Skip = $"Needs {ControlVariable} (scripts/postgres-instance.sh start exports it) to restart PostgreSQL.";
        }
    }
}

/// <summary>
/// Tests that restart the shared PostgreSQL server run alone: a restart breaks the connections of
/// every other test using it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresRestartGroup
{
    public const string Name = "PostgreSQL restarts";
}

/// <summary>A tmpfs of a fixed size on a fresh directory; unmounted (lazily if it is still busy) on dispose.</summary>
public sealed class SmallTmpfs : IDisposable
{
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(15);
    private static readonly Lazy<string?> s_unavailable = new(Probe);

    private SmallTmpfs(string path)
    {
        Path = path;
    }

    /// <summary>Why a tmpfs cannot be mounted here, or null when it can.</summary>
    public static string? Unavailable => s_unavailable.Value;

    public string Path { get; }

    public static SmallTmpfs Mount(string sizeOption)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "coordination-tests", "tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        (int code, string output) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeOption},mode=0700", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"mount -t tmpfs failed with {code}: {output}"));
        }

        return new SmallTmpfs(path);
    }

    public void Dispose()
    {
        // A mount still in use is detached at once (lazy unmount); the kernel frees it when the last user goes.
        if (TryRun("umount", Path) != 0)
        {
            TryRun("umount", "-l", Path);
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "only on Linux.";
        }

        if (Environment.UserName != "root")
        {
            return $"mounting needs root (CAP_SYS_ADMIN); this runs as {Environment.UserName}.";
        }

        try
        {
            using SmallTmpfs probe = Mount("64k");
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return $"this process cannot mount one here ({ex.Message.Trim()}).";
        }
    }

    private static int TryRun(string command, params string[] arguments)
    {
        try
        {
            return Run(command, arguments).Code;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return -1;
        }
    }

    private static (int Code, string Output) Run(string command, params string[] arguments)
    {
        ProcessStartInfo start = new(command, arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_commandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"{command} did not finish within {s_commandTimeout.TotalSeconds} s."));
        }

        process.WaitForExit();
        return (process.ExitCode, (stdout.Result + stderr.Result).Trim());
    }
}
