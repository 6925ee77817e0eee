using System.Globalization;
using System.Text.Json;

namespace Coordination.Client.Intake;

/// <summary>
/// The intake's flows (seeds/intake-flows.json as the relay serves it at
/// <c>GET /api/v1/intakes/{id}/flows</c>): the questions a reporter is asked, in each language.
/// </summary>
public sealed record IntakeFlowsDocument(int SchemaVersion, IReadOnlyList<string> Languages, IReadOnlyList<IntakeFlow> Flows)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static IntakeFlowsDocument Parse(JsonElement json)
    {
        IntakeFlowsDocument document = json.Deserialize<IntakeFlowsDocument>(s_json) ?? throw new InvalidDataException("The flows document is empty.");
        if (document.Flows is null || document.Languages is null || document.Flows.Any(f => f?.Key is null || f.Steps is null || f.Steps.Any(s => s?.Id is null || s.Answer?.Kind is null)))
        {
            throw new InvalidDataException("The flows document lacks its languages, flows, or a flow's key or steps.");
        }

        // The document comes from the relay: a condition or a choice with parts missing is refused
        // here rather than failing later, when a reporter's answers are checked.
        if (document.Flows.SelectMany(f => f.Steps).Any(s =>
            s.ShowIf is { } condition && (condition.Step is null || condition.In is null || condition.In.Any(v => v is null))
            || s.Answer.Options is { } options && options.Any(o => o?.Value is null)))
        {
            throw new InvalidDataException("A step of the flows document has a condition without its step or values, or a choice without a value.");
        }

        return document;
    }

    public IntakeFlow? Find(string key) => Flows.FirstOrDefault(f => string.Equals(f.Key, key, StringComparison.Ordinal));
}

public sealed record IntakeFlow(
    string Key,
    IReadOnlyDictionary<string, string>? Title,
    IReadOnlyDictionary<string, string>? Intro,
    IReadOnlyDictionary<string, string>? Completion,
    IReadOnlyList<IntakeStep> Steps)
{
    /// <summary>The flow's main free-text question: its first required text step ("what" in the detention report).</summary>
    public IntakeStep? MainTextStep => Steps.FirstOrDefault(s => s.Answer.Kind == IntakeStep.Text && !s.Optional) ?? Steps.FirstOrDefault(s => s.Answer.Kind == IntakeStep.Text);

    public IntakeStep? Step(string id) => Steps.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.Ordinal));

    /// <summary>Whether <paramref name="step"/> is asked, given the answers so far (its <c>showIf</c>).</summary>
    public static bool IsAsked(IntakeStep step, IReadOnlyDictionary<string, string> answers)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(answers);
        return step.ShowIf is not { } condition
            || (answers.TryGetValue(condition.Step, out string? value) && condition.In.Contains(value, StringComparer.Ordinal));
    }

    /// <summary>
    /// What is wrong with <paramref name="answers"/> for this flow: unknown or unasked steps, missing
    /// required answers, a choice not offered, text too long, a malformed date, consent not given.
    /// Empty when they can be sent.
    /// </summary>
    public IReadOnlyList<string> Check(IReadOnlyDictionary<string, string> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        List<string> problems = [];
        foreach (string id in answers.Keys.Where(id => Step(id) is null))
        {
            problems.Add($"the flow {Key} has no step '{id}' (it has {string.Join(", ", Steps.Select(s => s.Id))})");
        }

        foreach (IntakeStep step in Steps)
        {
            bool given = answers.TryGetValue(step.Id, out string? value) && !string.IsNullOrEmpty(value);
            if (!IsAsked(step, answers))
            {
                if (given)
                {
                    problems.Add($"'{step.Id}' is asked only when '{step.ShowIf!.Step}' is {string.Join(" or ", step.ShowIf.In)}");
                }

                continue;
            }

            if (!given)
            {
                if (!step.Optional)
                {
                    problems.Add($"'{step.Id}' needs an answer");
                }

                continue;
            }

            switch (step.Answer.Kind)
            {
                case IntakeStep.Text when step.Answer.MaxLength is { } max && value!.Length > max:
                    problems.Add($"the answer to '{step.Id}' is {value.Length} characters; at most {max}");
                    break;
                case IntakeStep.Choice when step.Answer.Options is { } options && !options.Any(o => string.Equals(o.Value, value, StringComparison.Ordinal)):
                    problems.Add($"'{step.Id}' is one of {string.Join(", ", options.Select(o => o.Value))}, not '{value}'");
                    break;
                case IntakeStep.Date when !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                    problems.Add($"'{step.Id}' is a date like 2026-03-01, not '{value}'");
                    break;
                case IntakeStep.Consent when !string.Equals(value, IntakeStep.ConsentYes, StringComparison.Ordinal):
                    problems.Add($"'{step.Id}' is the reporter's consent: the report is sent only with '{IntakeStep.ConsentYes}'");
                    break;
            }
        }

        return problems;
    }
}

/// <param name="Id">The step id: the key of its answer in the report.</param>
/// <param name="ShowIf">Asked only when another step's answer is one of the listed values.</param>
public sealed record IntakeStep(
    string Id,
    IReadOnlyDictionary<string, string>? Question,
    IReadOnlyDictionary<string, string>? Hint,
    IntakeAnswerSpec Answer,
    bool Optional,
    IntakeShowIf? ShowIf)
{
    public const string Text = "text";
    public const string Date = "date";
    public const string Choice = "choice";
    public const string Consent = "consent";

    /// <summary>The answer to a consent step that lets the report be sent.</summary>
    public const string ConsentYes = "yes";

    /// <summary>The answer to a consent step that discards everything.</summary>
    public const string ConsentNo = "no";

    /// <summary>The label of a choice's value in <paramref name="language"/>, or the value itself.</summary>
    public string Describe(string value, string language) =>
        Answer.Options?.FirstOrDefault(o => string.Equals(o.Value, value, StringComparison.Ordinal)) is { } option
            ? IntakeText.In(option.Label, language) ?? value
            : value;
}

/// <param name="Kind">text, date, choice or consent.</param>
public sealed record IntakeAnswerSpec(string Kind, int? MaxLength, IReadOnlyList<IntakeChoice>? Options, string? Default);

public sealed record IntakeChoice(string Value, IReadOnlyDictionary<string, string>? Label);

public sealed record IntakeShowIf(string Step, IReadOnlyList<string> In);

/// <summary>Texts given per language.</summary>
public static class IntakeText
{
    /// <summary>The text in <paramref name="language"/>, else in English, else in any language the texts have.</summary>
    public static string? In(IReadOnlyDictionary<string, string>? texts, string language) =>
        texts is null ? null
        : texts.TryGetValue(language, out string? text) ? text
        : texts.TryGetValue("en", out string? english) ? english
        : texts.Values.FirstOrDefault();
}
