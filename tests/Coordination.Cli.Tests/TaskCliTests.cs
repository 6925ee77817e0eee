using System.Text.Json;
using Coordination.Cli.Tests.Infrastructure;

namespace Coordination.Cli.Tests;

/// <summary>
/// <c>coord task ...</c> through the CLI only, against the real relay: a high-risk public task goes
/// to the member abroad, a low-risk in-country task (from a seed template) to the member inside,
/// and the other way round is refused with the reason.
/// </summary>
public sealed class TaskCliTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private Coord Coord
    {
        get
        {
            Coord coord = new(Path.Combine(relay.DataDirectory, "cli-home"));
            coord.Environment["COORD_TEMPLATES"] = Path.Combine(FindRepositoryRoot(), "seeds", "task-templates.json");
            return coord;
        }
    }

    [Fact]
    public async Task Tasks_go_to_the_member_they_endanger_least_and_the_reverse_is_refused()
    {
        (string Profile, Guid Account) olga = await CreateAsync("olga");
        (string Profile, Guid Account) anna = await CreateAsync("anna");
        (string Profile, Guid Account) boris = await CreateAsync("boris");
        Guid cell = (await Coord.JsonAsync("--profile", olga.Profile, "cell", "create", "--name", "North Harbour")).GetProperty("cellId").GetGuid();
        Guid annaMembership = await JoinAsync(olga.Profile, anna.Profile, cell, "critical");
        Guid borisMembership = await JoinAsync(olga.Profile, boris.Profile, cell, "low");
        await Coord.JsonAsync("--profile", olga.Profile, "task", "tags", "--cell", cell.ToString(), "--member", annaMembership.ToString(), "public-name", "russian-speaking");
        await Coord.JsonAsync("--profile", olga.Profile, "task", "tags", "--cell", cell.ToString(), "--member", borisMembership.ToString(), "in-country", "russian-speaking");

        JsonElement fundraiser = await Coord.JsonAsync("--profile", olga.Profile, "task", "create", "--cell", cell.ToString(), "--risk", "high",
            "--title", "Speak at the fundraiser", "--needs", "public-name", "--due", "7d");
        Guid risky = fundraiser.GetProperty("taskId").GetGuid();
        Assert.Equal(("high", "open", 1), (fundraiser.GetProperty("risk").GetString(), fundraiser.GetProperty("state").GetString(), fundraiser.GetProperty("requiredTags").GetInt32()));

        // From a seed template: low risk, in-country, the template's title.
        JsonElement parcel = await Coord.JsonAsync("--profile", olga.Profile, "task", "create", "--cell", cell.ToString(), "--template", "prisoner-parcel");
        Guid safe = parcel.GetProperty("taskId").GetGuid();
        Assert.Equal("low", parcel.GetProperty("risk").GetString());
        Assert.StartsWith("Send a parcel", parcel.GetProperty("title").GetString(), StringComparison.Ordinal);

        // Suggestions list only who may take each task.
        JsonElement suggested = await Coord.JsonAsync("--profile", olga.Profile, "task", "suggest", risky.ToString());
        Assert.Equal([annaMembership], suggested.GetProperty("suggestions").EnumerateArray().Select(s => s.GetProperty("membershipId").GetGuid()));

        // The refused way round, with the relay's reason.
        CoordResult refused = await Coord.RunAsync("--profile", olga.Profile, "task", "offer", risky.ToString(), "--to", borisMembership.ToString(), "--json");
        Assert.Equal(ExitCodes.Failure, refused.ExitCode);
        Assert.Equal(422, refused.Error.GetProperty("status").GetInt32());
        Assert.Contains("above this member's ceiling", refused.Error.GetProperty("error").GetString(), StringComparison.Ordinal);
        CoordResult noTag = await Coord.RunAsync("--profile", olga.Profile, "task", "offer", safe.ToString(), "--to", annaMembership.ToString(), "--json");
        Assert.Contains("required tags", noTag.Error.GetProperty("error").GetString(), StringComparison.Ordinal);

        // The right way round: offered, accepted, done.
        await Coord.JsonAsync("--profile", olga.Profile, "task", "offer", risky.ToString(), "--to", annaMembership.ToString());
        JsonElement accepted = await Coord.JsonAsync("--profile", anna.Profile, "task", "accept", risky.ToString());
        Assert.Equal("accepted", accepted.GetProperty("state").GetString());
        Assert.Equal("Speak at the fundraiser", accepted.GetProperty("title").GetString());
        await Coord.JsonAsync("--profile", olga.Profile, "task", "offer", safe.ToString(), "--to", borisMembership.ToString());
        await Coord.JsonAsync("--profile", boris.Profile, "task", "accept", safe.ToString());
        Assert.Equal("done", (await Coord.JsonAsync("--profile", boris.Profile, "task", "done", safe.ToString())).GetProperty("state").GetString());

        JsonElement list = await Coord.JsonAsync("--profile", anna.Profile, "task", "list", "--cell", cell.ToString());
        Assert.Equal(2, list.GetProperty("tasks").GetArrayLength());

        // The title is sealed: neither the relay's files (the -wal included) nor its log contain it.
        Assert.True(relay.ReadStorage().AsSpan().IndexOf("Speak at the fundraiser"u8) < 0);
        Assert.DoesNotContain(relay.Logs, l => l.Contains("Speak at the fundraiser", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_task_input_is_a_usage_error()
    {
        (string Profile, Guid Account) olga = await CreateAsync("olga");
        Guid cell = (await Coord.JsonAsync("--profile", olga.Profile, "cell", "create", "--name", "Linden")).GetProperty("cellId").GetGuid();
        foreach (string[] args in new[]
        {
            new[] { "task", "create", "--cell", cell.ToString(), "--title", "no risk given" },
            ["task", "create", "--cell", cell.ToString(), "--risk", "extreme", "--title", "t"],
            ["task", "create", "--cell", cell.ToString(), "--risk", "low", "--title", "t", "--people", "0"],
            ["task", "create", "--cell", cell.ToString(), "--risk", "low", "--title", "t", "--due", "yesterday"],
            ["task", "create", "--cell", cell.ToString(), "--template", "no-such-template"],
        })
        {
            CoordResult result = await Coord.RunAsync(["--profile", olga.Profile, .. args, "--json"]);
            Assert.True(result.ExitCode == ExitCodes.Usage, string.Join(' ', args) + "\n" + result);
            Assert.Equal(JsonValueKind.String, result.Error.GetProperty("error").ValueKind);
        }
    }

    private async Task<(string Profile, Guid Account)> CreateAsync(string name)
    {
        string profile = Path.Combine(relay.DataDirectory, "profiles", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        JsonElement created = await Coord.JsonAsync("--server", relay.Url, "--profile", profile, "identity", "create");
        return (profile, created.GetProperty("accountId").GetGuid());
    }

    private async Task<Guid> JoinAsync(string organizer, string member, Guid cell, string ceiling)
    {
        string code = (await Coord.JsonAsync("--profile", organizer, "cell", "invite", cell.ToString(), "--ceiling", ceiling)).GetProperty("code").GetString()!;
        return (await Coord.JsonAsync("--profile", member, "cell", "join", code)).GetProperty("membershipId").GetGuid();
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Coordination.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository root (Coordination.sln) was not found above the test binaries.");
    }
}
