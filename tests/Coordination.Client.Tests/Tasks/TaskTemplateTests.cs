using Coordination.Client.Tasks;
using Coordination.Protocol;

namespace Coordination.Client.Tests.Tasks;

/// <summary>The seed templates load, and each risky template carries the level the seeds promise.</summary>
public sealed class TaskTemplateTests
{
    private static string SeedPath => Path.Combine(FindRepositoryRoot(), "seeds", "task-templates.json");

    [Fact]
    public void The_seed_templates_load_with_their_risk_levels_and_tags()
    {
        IReadOnlyList<TaskTemplate> templates = TaskTemplates.Load(SeedPath);
        Assert.True(templates.Count >= 7);
        TaskTemplate letters = templates.Single(t => t.Key == "letter-writing");
        Assert.Equal(RiskLevel.Low, letters.Risk);
        Assert.Equal(["russian-speaking"], letters.RequiredTags);
        Assert.Equal(6, letters.PeopleNeeded);
        Assert.Equal(RiskLevel.Critical, templates.Single(t => t.Key == "fundraising").Risk);
        Assert.Contains("in-country", templates.Single(t => t.Key == "samizdat-print-run").RequiredTags);
        Assert.StartsWith("Написать письма", TaskTemplate.In(letters.Title, "ru"), StringComparison.Ordinal);
        Assert.Equal(TaskTemplate.In(letters.Title, "en"), TaskTemplate.In(letters.Title, "de"));
        foreach (string key in new[] { "letter-writing", "samizdat-article", "samizdat-print-run", "court-support", "prisoner-parcel", "fundraising", "translation", "online-workshop" })
        {
            Assert.Contains(templates, t => t.Key == key);
        }
    }

    [Theory]
    [InlineData("{\"schemaVersion\":2,\"templates\":[]}")]
    [InlineData("{\"schemaVersion\":1,\"templates\":[{\"key\":\"x\",\"riskLevel\":\"extreme\",\"peopleNeeded\":1}]}")]
    [InlineData("{\"schemaVersion\":1,\"templates\":[{\"key\":\"x\",\"riskLevel\":\"low\",\"peopleNeeded\":0}]}")]
    public void A_malformed_template_file_is_refused_with_a_reason(string json) =>
        Assert.Throws<InvalidDataException>(() => TaskTemplates.Parse(json));

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
