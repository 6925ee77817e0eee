using System.CommandLine.Parsing;
using System.Globalization;

namespace Coordination.Cli;

/// <summary>Durations as people type them: <c>90s</c>, <c>15m</c>, <c>12h</c>, <c>7d</c>, <c>2w</c>.</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length < 2 || text.Length > 12)
        {
            return false;
        }

        char unit = char.ToLowerInvariant(text[^1]);
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long amount) || amount <= 0)
        {
            return false;
        }

        long seconds = unit switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => 0,
        };
        if (seconds == 0 || amount > TimeSpan.MaxValue.TotalSeconds / seconds / 2)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(amount * seconds);
        return true;
    }

    /// <summary>A System.CommandLine parser for a nullable duration option, with a readable error.</summary>
    public static TimeSpan? ParseOption(ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (TryParse(token, out TimeSpan duration))
        {
            return duration;
        }

        result.AddError($"'{token}' is not a duration: write a whole number and a unit, like 90s, 15m, 12h, 7d or 2w.");
        return null;
    }

    /// <summary>A deadline as people type it: a duration from now (<c>7d</c>) or a future date (<c>2026-12-01</c>); else a usage error.</summary>
    public static DateTimeOffset ParseDue(string when)
    {
        if (TryParse(when, out TimeSpan span))
        {
            return DateTimeOffset.UtcNow.Add(span);
        }

        if (DateTimeOffset.TryParse(when, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date) && date > DateTimeOffset.UtcNow)
        {
            return date;
        }

        throw CliException.Usage($"--due must be a duration like 7d or a future date like 2026-12-01, not '{when}'.");
    }
}
