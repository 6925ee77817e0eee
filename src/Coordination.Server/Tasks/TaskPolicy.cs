using Coordination.Protocol;

namespace Coordination.Server.Tasks;

/// <summary>
/// The one rule every path to a task goes through (offer, accept, hand-over, and the check after a
/// ceiling changes): a membership may hold a task only if its risk ceiling is at least the task's
/// risk and it has every tag the task requires. The relay does not know what a tag means or where
/// anyone is; the ceiling number and the opaque tags carry that.
/// </summary>
public static class TaskPolicy
{
    public const int TagBytes = 32;
    public const int MaxTags = 16;

    /// <summary>Null if <paramref name="ceiling"/> and <paramref name="tags"/> allow the task; else why not.</summary>
    public static string? Refusal(RiskLevel risk, byte[] requiredTags, RiskLevel ceiling, IReadOnlyCollection<byte[]> tags)
    {
        ArgumentNullException.ThrowIfNull(requiredTags);
        ArgumentNullException.ThrowIfNull(tags);
        if (ceiling < risk)
        {
            return $"The task's risk ({Name(risk)}) is above this member's ceiling ({Name(ceiling)}).";
        }

        int missing = Split(requiredTags).Count(required => !tags.Any(t => t.AsSpan().SequenceEqual(required)));
        return missing == 0 ? null : $"This member lacks {missing} of the task's required tags.";
    }

    public static string Name(RiskLevel level) => level switch
    {
        RiskLevel.Low => "low",
        RiskLevel.Elevated => "elevated",
        RiskLevel.High => "high",
        RiskLevel.Critical => "critical",
        _ => "unknown",
    };

    public static List<byte[]> Split(byte[] concatenated)
    {
        ArgumentNullException.ThrowIfNull(concatenated);
        return [.. Enumerable.Range(0, concatenated.Length / TagBytes).Select(i => concatenated.AsSpan(i * TagBytes, TagBytes).ToArray())];
    }

    /// <summary>Null and the concatenation if the tags are well-formed (distinct, 32 bytes each, at most 16); else an error.</summary>
    public static (byte[]? Concatenated, string? Error) Join(IReadOnlyList<byte[]>? tags)
    {
        if (tags is null)
        {
            return ([], null);
        }

        if (tags.Count > MaxTags || tags.Any(t => t is not { Length: TagBytes }))
        {
            return (null, $"Tags are at most {MaxTags} opaque values of {TagBytes} bytes each.");
        }

        if (tags.Select(Convert.ToHexString).Distinct(StringComparer.Ordinal).Count() != tags.Count)
        {
            return (null, "Tags must be distinct.");
        }

        return ([.. tags.SelectMany(t => t)], null);
    }
}
