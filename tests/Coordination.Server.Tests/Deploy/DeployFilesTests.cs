using System.Diagnostics;
using Xunit.Abstractions;

namespace Coordination.Server.Tests.Deploy;

/// <summary>
/// The files in <c>deploy/</c> are checked with the real tools, as far as a machine without a
/// container engine can: <c>systemd-analyze verify</c>, <c>nginx -t</c> and a real nginx in front
/// of stand-in relays, <c>tor --verify-config</c>, the compose file against the Compose
/// Specification, shellcheck, the backup round trip (<c>scripts/validate-deploy.sh</c>; as root it
/// installs the Debian packages it needs). Run once per test run, in the SQLite pass.
/// </summary>
public sealed class DeployFilesTests(ITestOutputHelper output)
{
    [SqliteFact]
    public async Task The_deployment_files_pass_every_check_that_runs_here()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Coordination.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new DirectoryNotFoundException("Coordination.sln is in no folder above the tests.");
        }

        ProcessStartInfo start = new("bash", [Path.Combine(root, "scripts", "validate-deploy.sh")])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        string report = await stdout + await stderr;
        output.WriteLine(report);

        Assert.True(process.ExitCode == 0, report);
        Assert.DoesNotContain("FAIL", report, StringComparison.Ordinal);
        foreach (string check in (string[])["nginx: nginx -t", "tor: tor --verify-config", "systemd: systemd-analyze verify", "compose: validates against the Compose Specification"])
        {
            Assert.Contains("PASS  " + check, report, StringComparison.Ordinal);
        }
    }
}
