using System.Text.Json;
using System.Text.Json.Serialization;
using Coordination.Protocol;

namespace Coordination.Client.Tasks;

/// <summary>A task template (seeds/task-templates.json): a default risk level, tags, people and deadline, and texts by language.</summary>
public sealed record TaskTemplate(
    string Key,
    RiskLevel Risk,
    IReadOnlyList<string> RequiredTags,
    int PeopleNeeded,
    int DefaultDeadlineDays,
    IReadOnlyDictionary<string, string> Title,
    IReadOnlyDictionary<string, string> Description)
{
    /// <summary>The text in <paramref name="language"/>, else English, else any.</summary>
    public static string In(IReadOnlyDictionary<string, string> texts, string language)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return texts.TryGetValue(language, out string? text) ? text
            : texts.TryGetValue("en", out string? english) ? english
            : texts.Values.FirstOrDefault() ?? string.Empty;
    }
}

/// <summary>Reads task templates. Keys starting with '$' are comments.</summary>
public static class TaskTemplates
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static IReadOnlyList<TaskTemplate> Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        TemplateFile file = JsonSerializer.Deserialize<TemplateFile>(json, s_json)
            ?? throw new InvalidDataException("The task template file is empty.");
        if (file.SchemaVersion != 1 || file.Templates is null)
        {
            throw new InvalidDataException("The task template file must have schemaVersion 1 and a templates list.");
        }

        return [.. file.Templates.Select(t => new TaskTemplate(
            t.Key ?? throw new InvalidDataException("A template has no key."),
            ParseRisk(t.RiskLevel, t.Key),
            t.RequiredTags ?? [],
            t.PeopleNeeded is >= 1 and <= 100 ? t.PeopleNeeded : throw new InvalidDataException($"Template {t.Key}: peopleNeeded must be 1 to 100."),
            t.DefaultDeadlineDays,
            t.Title ?? new Dictionary<string, string>(),
            t.Description ?? new Dictionary<string, string>()))];
    }

    public static IReadOnlyList<TaskTemplate> Load(string path) => Parse(File.ReadAllText(path));

    public static RiskLevel ParseRisk(string? level, string? key = null) => level?.Trim().ToUpperInvariant() switch
    {
        "LOW" => RiskLevel.Low,
        "ELEVATED" => RiskLevel.Elevated,
        "HIGH" => RiskLevel.High,
        "CRITICAL" => RiskLevel.Critical,
        _ => throw new InvalidDataException($"{(key is null ? "The" : $"Template {key}: the")} risk level must be low, elevated, high or critical, not '{level}'."),
    };

    private sealed record TemplateFile(int SchemaVersion, List<TemplateEntry>? Templates);

    private sealed record TemplateEntry(
        string? Key,
        string? RiskLevel,
        List<string>? RequiredTags,
        int PeopleNeeded,
        int DefaultDeadlineDays,
        [property: JsonPropertyName("title")] Dictionary<string, string>? Title,
        [property: JsonPropertyName("description")] Dictionary<string, string>? Description);
}
