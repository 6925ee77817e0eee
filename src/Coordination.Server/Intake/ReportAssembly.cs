using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Coordination.Crypto;

namespace Coordination.Server.Intake;

/// <summary>
/// Checks answers against a flow and assembles the report the way every client does (protocol
/// section 11): UTF-8 JSON <c>{"v":1,"flow","language","answers","receipt","submittedOn"}</c>,
/// padded with sodium_pad to a multiple of 1024 bytes and sealed with crypto_box_seal to the
/// intake's public key. The plaintext lives only in this request's memory; the buffers holding it
/// are zeroed once the sealed box exists.
/// </summary>
public static class ReportAssembly
{
    public const string Yes = "yes";
    public const string No = "no";

    private static readonly JsonWriterOptions s_writer = new()
    {
        // The JSON is sealed, never put in a web page: escape only what JSON itself requires.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly Dictionary<string, (string Yes, string No)> s_consentLabels = new(StringComparer.Ordinal)
    {
        ["en"] = ("Yes", "No"),
        ["ru"] = ("Да", "Нет"),
    };

    /// <summary>The labels of a consent step's two answers in <paramref name="language"/> (English when the relay has none for it).</summary>
    public static (string Yes, string No) ConsentLabels(string language) =>
        s_consentLabels.TryGetValue(language, out (string Yes, string No) labels) ? labels : s_consentLabels["en"];

    /// <summary>
    /// One answer to one step: the value to record (null when an optional step is skipped), or why
    /// the answer is not valid. Text is trimmed and at most the step's maxLength characters; a date
    /// is YYYY-MM-DD (DD.MM.YYYY is accepted and rewritten) and not in the future; a choice is one of
    /// its values (or labels in the conversation's language), a skipped choice takes its default; a
    /// consent is yes or no.
    /// </summary>
    public static (string? Value, string? Error) Accept(IntakeStep step, string? answer, string language, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (answer is { Length: > IntakeLimits.MaxAnswerLength })
        {
            return (null, $"The answer is longer than {IntakeLimits.MaxAnswerLength} characters.");
        }

        if (answer is not null && !IsWellFormed(answer))
        {
            return (null, "The answer is not well-formed Unicode text.");
        }

        string trimmed = answer?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            return step.Default is { } fallback ? (fallback, null)
                : step.Optional ? (null, null)
                : (null, "This question needs an answer.");
        }

        switch (step.Kind)
        {
            case AnswerKind.Text:
                int characters = 0;
                foreach (Rune _ in trimmed.EnumerateRunes())
                {
                    characters++;
                }

                return characters <= step.MaxLength ? (trimmed, null) : (null, $"The answer must be at most {step.MaxLength} characters.");

            case AnswerKind.Date:
                return DateOnly.TryParseExact(trimmed, ["yyyy-MM-dd", "dd.MM.yyyy"], CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date)
                    // A day of slack: the reporter's today may be ahead of UTC.
                    ? date <= today.AddDays(1) ? (date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), null) : (null, "The date must not be in the future.")
                    : (null, "The answer must be a date, YYYY-MM-DD.");

            case AnswerKind.Choice:
                foreach (IntakeOption option in step.Options)
                {
                    if (string.Equals(option.Value, trimmed, StringComparison.OrdinalIgnoreCase)
                        || string.Equals(IntakeFlows.In(option.Label, language), trimmed, StringComparison.OrdinalIgnoreCase))
                    {
                        return (option.Value, null);
                    }
                }

                return (null, $"The answer must be one of: {string.Join(", ", step.Options.Select(o => o.Value))}.");

            default:
                (string yes, string no) = ConsentLabels(language);
                return string.Equals(trimmed, Yes, StringComparison.OrdinalIgnoreCase) || string.Equals(trimmed, yes, StringComparison.OrdinalIgnoreCase) ? (Yes, null)
                    : string.Equals(trimmed, No, StringComparison.OrdinalIgnoreCase) || string.Equals(trimmed, no, StringComparison.OrdinalIgnoreCase) ? (No, null)
                    : (null, "The answer must be yes or no.");
        }
    }

    /// <summary>
    /// A bridge's answers, checked against the whole flow in order: the recorded answers, whether
    /// consent was refused, or why they are not valid. Answers for steps the flow does not have or
    /// does not ask (a showIf that does not hold) are refused.
    /// </summary>
    public static (List<KeyValuePair<string, string>>? Answers, bool Refused, string? Error) Validate(
        IntakeFlow flow, IReadOnlyDictionary<string, string>? answers, string language, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(flow);
        answers ??= new Dictionary<string, string>();
        if (answers.Count > flow.Steps.Count || answers.Keys.Any(k => flow.Steps.All(s => s.Id != k)))
        {
            return (null, false, $"answers may name only the steps of flow {flow.Key}: {string.Join(", ", flow.Steps.Select(s => s.Id))}.");
        }

        Dictionary<string, string> recorded = new(StringComparer.Ordinal);
        List<KeyValuePair<string, string>> ordered = [];
        foreach (IntakeStep step in flow.Steps)
        {
            answers.TryGetValue(step.Id, out string? answer);
            if (!step.IsShown(recorded))
            {
                if (!string.IsNullOrWhiteSpace(answer))
                {
                    return (null, false, $"Step {step.Id} is not asked with these answers; leave it out.");
                }

                continue;
            }

            (string? value, string? error) = Accept(step, answer, language, today);
            if (error is not null)
            {
                return (null, false, $"Step {step.Id}: {error}");
            }

            if (step.Kind == AnswerKind.Consent && value == No)
            {
                return (null, true, null);
            }

            if (value is not null)
            {
                recorded[step.Id] = value;
                ordered.Add(new KeyValuePair<string, string>(step.Id, value));
            }
        }

        return (ordered, false, null);
    }

    /// <summary>The sealed report, or null when the answers do not fit in the largest report.</summary>
    public static byte[]? Seal(IntakeFlow flow, string language, IReadOnlyList<KeyValuePair<string, string>> answers, string receipt, DateOnly submittedOn, byte[] publicKey)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(receipt);
        long characters = 128 + flow.Key.Length + language.Length + receipt.Length + answers.Sum(a => (long)a.Key.Length + a.Value.Length + 8);

        // Sized up front (at most 6 bytes per UTF-16 unit when escaped) so the buffer never grows
        // and leaves unzeroed copies of the plaintext behind.
        byte[] buffer = new byte[checked((int)Math.Min(characters * 6, int.MaxValue / 2))];
        byte[]? padded = null;
        try
        {
            int length;
            using (MemoryStream stream = new(buffer, writable: true))
            {
                using (Utf8JsonWriter json = new(stream, s_writer))
                {
                    json.WriteStartObject();
                    json.WriteNumber("v", 1);
                    json.WriteString("flow", flow.Key);
                    json.WriteString("language", language);
                    json.WriteStartObject("answers");
                    foreach ((string step, string value) in answers)
                    {
                        json.WriteString(step, value);
                    }

                    json.WriteEndObject();
                    json.WriteString("receipt", receipt);
                    json.WriteString("submittedOn", submittedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    json.WriteEndObject();
                }

                length = (int)stream.Position;
            }

            if (Padding.PaddedLength(length, IntakeLimits.ReportBlockBytes) > IntakeLimits.MaxPaddedReportBytes)
            {
                return null;
            }

            padded = Padding.Pad(buffer.AsSpan(0, length), IntakeLimits.ReportBlockBytes);
            return SealedBox.Seal(padded, X25519PublicKey.FromBytes(publicKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
            if (padded is not null)
            {
                CryptographicOperations.ZeroMemory(padded);
            }
        }
    }

    /// <summary>False for text with a lone surrogate, which no UTF-8 encoder accepts.</summary>
    public static bool IsWellFormed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
