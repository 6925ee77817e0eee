using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coordination.Server.Intake;

/// <summary>
/// The intake conversations, defined as data (seeds/intake-flows.json): the same document drives
/// the relay's bot conversations and bridge validation, and is served to the web page and clients
/// with the <c>$</c> comment keys removed and <c>{retentionDays}</c> filled in.
/// </summary>
public sealed class IntakeFlows
{
    public const string RetentionPlaceholder = "{retentionDays}";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly JsonObject _document;
    private readonly ConcurrentDictionary<int, JsonElement> _served = new();

    private IntakeFlows(JsonObject document, IReadOnlyList<string> languages, IReadOnlyDictionary<string, IntakeFlow> flows)
    {
        _document = document;
        Languages = languages;
        Flows = flows;
    }

    /// <summary>Languages every text in the document provides (ru and en at least).</summary>
    public IReadOnlyList<string> Languages { get; }

    public IReadOnlyDictionary<string, IntakeFlow> Flows { get; }

    public static IntakeFlows Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The intake flows document {path} is missing; set Intake:FlowsPath to seeds/intake-flows.json.");
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            throw new InvalidOperationException($"The intake flows document {path} is not usable: {ex.Message}", ex);
        }
    }

    public static IntakeFlows Parse(string json)
    {
        JsonObject document = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("The document must be a JSON object.");
        StripComments(document);
        FlowsFile file = document.Deserialize<FlowsFile>(s_json) ?? throw new InvalidDataException("The document is empty.");
        if (file.SchemaVersion != 1 || file.Languages is not { Count: > 0 } || file.Flows is not { Count: > 0 })
        {
            throw new InvalidDataException("The document must have schemaVersion 1, languages and flows.");
        }

        foreach (string language in file.Languages)
        {
            if (!IsLanguageCode(language))
            {
                throw new InvalidDataException($"'{language}' is not a language code.");
            }
        }

        Dictionary<string, IntakeFlow> flows = new(StringComparer.Ordinal);
        foreach (FlowEntry entry in file.Flows)
        {
            IntakeFlow flow = IntakeFlow.From(entry, file.Languages);
            if (!flows.TryAdd(flow.Key, flow))
            {
                throw new InvalidDataException($"Flow {flow.Key} appears twice.");
            }
        }

        return new IntakeFlows(document, [.. file.Languages], flows);
    }

    /// <summary>The document as served for an intake with <paramref name="retentionDays"/>.</summary>
    public JsonElement DocumentFor(int retentionDays) => _served.GetOrAdd(retentionDays, days =>
    {
        JsonNode copy = _document.DeepClone();
        string value = days.ToString(CultureInfo.InvariantCulture);
        Substitute(copy, value);
        using JsonDocument parsed = JsonDocument.Parse(copy.ToJsonString());
        return parsed.RootElement.Clone();
    });

    public bool IsLanguage(string? language) => language is not null && Languages.Contains(language, StringComparer.Ordinal);

    /// <summary>The text in <paramref name="language"/>, else English, else any.</summary>
    public static string In(IReadOnlyDictionary<string, string> texts, string language) =>
        texts.TryGetValue(language, out string? text) ? text
        : texts.TryGetValue("en", out string? english) ? english
        : texts.Values.FirstOrDefault() ?? string.Empty;

    private static bool IsLanguageCode(string? code) =>
        code is { Length: >= 2 and <= IntakeLimits.MaxLanguageLength } && code.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-');

    private static void StripComments(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            foreach (string key in obj.Select(p => p.Key).Where(k => k.StartsWith('$')).ToList())
            {
                obj.Remove(key);
            }

            foreach (KeyValuePair<string, JsonNode?> property in obj)
            {
                StripComments(property.Value);
            }
        }
        else if (node is JsonArray array)
        {
            foreach (JsonNode? item in array)
            {
                StripComments(item);
            }
        }
    }

    private static void Substitute(JsonNode? node, string retentionDays)
    {
        if (node is JsonObject obj)
        {
            foreach (string key in obj.Select(p => p.Key).ToList())
            {
                if (obj[key] is JsonValue value && value.TryGetValue(out string? text) && text.Contains(RetentionPlaceholder, StringComparison.Ordinal))
                {
                    obj[key] = text.Replace(RetentionPlaceholder, retentionDays, StringComparison.Ordinal);
                }
                else
                {
                    Substitute(obj[key], retentionDays);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonValue value && value.TryGetValue(out string? text) && text.Contains(RetentionPlaceholder, StringComparison.Ordinal))
                {
                    array[i] = text.Replace(RetentionPlaceholder, retentionDays, StringComparison.Ordinal);
                }
                else
                {
                    Substitute(array[i], retentionDays);
                }
            }
        }
    }

    internal sealed record FlowsFile(int SchemaVersion, List<string>? Languages, List<FlowEntry>? Flows);

    internal sealed record FlowEntry(
        string? Key,
        Dictionary<string, string>? Title,
        Dictionary<string, string>? Intro,
        Dictionary<string, string>? Completion,
        List<StepEntry>? Steps);

    internal sealed record StepEntry(
        string? Id,
        Dictionary<string, string>? Question,
        Dictionary<string, string>? Hint,
        AnswerEntry? Answer,
        bool Optional,
        ConditionEntry? ShowIf);

    internal sealed record AnswerEntry(string? Kind, int? MaxLength, List<OptionEntry>? Options, string? Default);

    internal sealed record OptionEntry(string? Value, Dictionary<string, string>? Label);

    internal sealed record ConditionEntry(string? Step, List<string>? In);
}

/// <summary>The kinds of answer a step takes.</summary>
public enum AnswerKind
{
    Text,
    Date,
    Choice,
    Consent,
}

/// <summary>One flow: its texts by language and its steps in order.</summary>
public sealed record IntakeFlow(
    string Key,
    IReadOnlyDictionary<string, string> Title,
    IReadOnlyDictionary<string, string> Intro,
    IReadOnlyDictionary<string, string> Completion,
    IReadOnlyList<IntakeStep> Steps)
{
    internal static IntakeFlow From(IntakeFlows.FlowEntry entry, IReadOnlyList<string> languages)
    {
        string key = entry.Key is { Length: > 0 and <= IntakeLimits.MaxFlowKeyLength } k ? k : throw new InvalidDataException("A flow has no key (or one over 64 characters).");
        if (entry.Steps is not { Count: > 0 })
        {
            throw new InvalidDataException($"Flow {key} has no steps.");
        }

        List<IntakeStep> steps = [];
        foreach (IntakeFlows.StepEntry step in entry.Steps)
        {
            steps.Add(IntakeStep.From(key, step, steps, languages));
        }

        if (steps[^1] is not { Kind: AnswerKind.Consent, ShowIfStep: null })
        {
            throw new InvalidDataException($"Flow {key} must end with a consent step that is always asked: nothing is sealed without one.");
        }

        return new IntakeFlow(key, Texts(entry.Title, $"{key}.title", languages), Texts(entry.Intro, $"{key}.intro", languages),
            Texts(entry.Completion, $"{key}.completion", languages), steps);
    }

    internal static IReadOnlyDictionary<string, string> Texts(Dictionary<string, string>? texts, string where, IReadOnlyList<string> languages)
    {
        if (texts is null || languages.Any(l => !texts.ContainsKey(l)))
        {
            throw new InvalidDataException($"{where} must have a text in every language of the document ({string.Join(", ", languages)}).");
        }

        return texts;
    }
}

/// <summary>One question of a flow.</summary>
public sealed record IntakeStep(
    string Id,
    IReadOnlyDictionary<string, string> Question,
    IReadOnlyDictionary<string, string>? Hint,
    AnswerKind Kind,
    int MaxLength,
    IReadOnlyList<IntakeOption> Options,
    string? Default,
    bool Optional,
    string? ShowIfStep,
    IReadOnlyList<string> ShowIfIn)
{
    public string KindName => Kind switch
    {
        AnswerKind.Text => "text",
        AnswerKind.Date => "date",
        AnswerKind.Choice => "choice",
        _ => "consent",
    };

    /// <summary>Whether the step is asked, given the answers recorded so far.</summary>
    public bool IsShown(IReadOnlyDictionary<string, string> answers) =>
        ShowIfStep is null || (answers.TryGetValue(ShowIfStep, out string? value) && ShowIfIn.Contains(value, StringComparer.Ordinal));

    internal static IntakeStep From(string flow, IntakeFlows.StepEntry entry, IReadOnlyList<IntakeStep> earlier, IReadOnlyList<string> languages)
    {
        string id = entry.Id is { Length: > 0 and <= 64 } i ? i : throw new InvalidDataException($"A step of flow {flow} has no id (or one over 64 characters).");
        string where = $"{flow}.{id}";
        if (earlier.Any(s => s.Id == id))
        {
            throw new InvalidDataException($"Step {where} appears twice.");
        }

        AnswerKind kind = entry.Answer?.Kind switch
        {
            "text" => AnswerKind.Text,
            "date" => AnswerKind.Date,
            "choice" => AnswerKind.Choice,
            "consent" => AnswerKind.Consent,
            _ => throw new InvalidDataException($"Step {where}: answer.kind must be text, date, choice or consent."),
        };
        if (kind == AnswerKind.Consent && entry.Optional)
        {
            throw new InvalidDataException($"Step {where}: a consent step is never optional.");
        }

        int maxLength = entry.Answer!.MaxLength ?? IntakeLimits.DefaultTextMaxLength;
        if (kind == AnswerKind.Text && maxLength is < 1 or > IntakeLimits.MaxAnswerLength)
        {
            throw new InvalidDataException($"Step {where}: maxLength must be 1 to {IntakeLimits.MaxAnswerLength}.");
        }

        List<IntakeOption> options = [];
        if (kind == AnswerKind.Choice)
        {
            if (entry.Answer.Options is not { Count: > 0 })
            {
                throw new InvalidDataException($"Step {where}: a choice needs options.");
            }

            foreach (IntakeFlows.OptionEntry option in entry.Answer.Options)
            {
                string value = option.Value is { Length: > 0 and <= 64 } v ? v : throw new InvalidDataException($"Step {where}: an option has no value.");
                if (options.Any(o => o.Value == value))
                {
                    throw new InvalidDataException($"Step {where}: option {value} appears twice.");
                }

                options.Add(new IntakeOption(value, IntakeFlow.Texts(option.Label, $"{where}.{value}", languages)));
            }

            if (entry.Answer.Default is { } fallback && options.All(o => o.Value != fallback))
            {
                throw new InvalidDataException($"Step {where}: the default is not one of the options.");
            }
        }

        string? showIfStep = null;
        List<string> showIfIn = [];
        if (entry.ShowIf is { } condition)
        {
            IntakeStep? on = earlier.FirstOrDefault(s => s.Id == condition.Step);
            if (on is null || on.Kind != AnswerKind.Choice || condition.In is not { Count: > 0 } || condition.In.Any(v => on.Options.All(o => o.Value != v)))
            {
                throw new InvalidDataException($"Step {where}: showIf must name an earlier choice step and some of its values.");
            }

            showIfStep = on.Id;
            showIfIn = condition.In;
        }

        return new IntakeStep(id, IntakeFlow.Texts(entry.Question, $"{where}.question", languages),
            entry.Hint is null ? null : IntakeFlow.Texts(entry.Hint, $"{where}.hint", languages),
            kind, maxLength, options, kind == AnswerKind.Choice ? entry.Answer.Default : null, entry.Optional, showIfStep, showIfIn);
    }
}

public sealed record IntakeOption(string Value, IReadOnlyDictionary<string, string> Label);
