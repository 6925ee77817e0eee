using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Infrastructure;

/// <summary>JSON text as a case; printed as it is sent.</summary>
public sealed record JsonText(string Text, string How)
{
    public byte[] Utf8 => Encoding.UTF8.GetBytes(Text);

    public override string ToString() => $"{How}: {(Text.Length <= 3000 ? Text : Text[..1500] + $"...({Text.Length} chars)..." + Text[^200..])}";
}

/// <summary>
/// Random JSON for request bodies and documents: wrong types, missing and unknown fields, nulls,
/// huge and fractional numbers, deep nesting, long strings, escapes, invalid and valid base64 of
/// every length a key or signature might have, GUIDs well- and ill-formed. Built as text, so it can
/// hold what a serializer would refuse to write (1e400, lone surrogates, 300 levels of nesting).
/// </summary>
public static class JsonFuzz
{
    /// <summary>Field names of the wire DTOs, so random objects often hit real fields.</summary>
    public static IReadOnlyList<string> CommonFields { get; } =
    [
        "accountPublicKey", "device", "signingPublicKey", "agreementPublicKey", "accountSignature", "deviceId", "challengeId", "signature",
        "lookupId", "payload", "peerAccountId", "conversationId", "messageId", "ciphertext", "ttlSeconds", "acks", "seq",
        "cellId", "kind", "genesis", "body", "sealedProfile", "sealedDisplayName", "endsAt", "entry", "grant", "grantSignature", "sealedCellKey",
        "risk", "requiredTags", "peopleNeeded", "deadline", "sealedContent", "taskId", "membershipId", "offerTtlSeconds", "sealedForAssignee",
        "toMembershipId", "fromMembershipId", "tags", "eventId", "sealedDetails", "sealedAnswer", "publicKey", "sealedPrivateKey",
        "retentionDays", "powDifficulty", "pow", "counter", "sealedReport", "receiptLookupSecret", "flow", "language", "answers", "answer",
        "state", "sealed", "v", "receipt", "submittedOn", "text", "sentOn",
    ];

    private static readonly string[] s_numbers =
    [
        "0", "-0", "1", "-1", "2", "3", "8", "28", "29", "90", "91", "100", "101", "256", "1024", "65536", "2147483647", "-2147483648", "2147483648",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "99999999999999999999999999999999999999", "1.5", "-0.5", "1e3", "1E-7", "1e308", "-1e308", "1e400", "-1e400", "0.0000000000000000000001",
        "4.9e-324", "1.7976931348623157e308", "123456789012345678901234567890.5",
    ];

    private static readonly int[] s_byteLengths = [0, 1, 15, 16, 23, 24, 31, 32, 33, 40, 48, 63, 64, 65, 72, 96, 255, 256, 257, 1024, 1064, 1065, 2049, 4096, 4097, 65536, 65537];

    /// <summary>
    /// False when <paramref name="json"/> has a string or property name that System.Text.Json
    /// cannot turn into a .NET string (invalid UTF-8, or an escaped lone surrogate): reading it
    /// throws <see cref="InvalidOperationException"/>, not <see cref="System.Text.Json.JsonException"/>.
    /// </summary>
    public static bool TranscodesCleanly(ReadOnlySpan<byte> json)
    {
        System.Text.Json.Utf8JsonReader reader = new(json);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is System.Text.Json.JsonTokenType.String or System.Text.Json.JsonTokenType.PropertyName)
                {
                    _ = reader.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        return true;
    }

    public static Gen<JsonText> Documents(IReadOnlyList<string> fields, params Guid[] knownIds) =>
        from seed in Gens.Seeds
        from shape in Gen.Choose(0, 9)
        select Document(new System.Random(seed), shape, fields, knownIds);

    /// <summary>A random document: usually an object with some of <paramref name="fields"/>, sometimes any value or deep nesting.</summary>
    public static JsonText Document(System.Random random, int shape, IReadOnlyList<string> fields, IReadOnlyList<Guid> knownIds)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(fields);
        StringBuilder text = new();
        string how;
        switch (shape)
        {
            case 0:
                WriteValue(text, random, 3, fields, knownIds);
                how = "any value";
                break;
            case 1:
                int depth = 60 + random.Next(260);
                WriteNesting(text, random, depth, fields);
                how = $"nesting {depth} deep";
                break;
            default:
                WriteObject(text, random, 3, fields, knownIds, fieldsOnly: shape > 5);
                how = "object";
                break;
        }

        return new JsonText(text.ToString(), how);
    }

    /// <summary>A value that is wrong for most fields, as raw JSON text.</summary>
    public static Gen<string> BadValues(params Guid[] knownIds) =>
        from seed in Gens.Seeds
        select BadValue(new System.Random(seed), knownIds);

    public static string BadValue(System.Random random, IReadOnlyList<Guid> knownIds)
    {
        ArgumentNullException.ThrowIfNull(random);
        StringBuilder text = new();
        switch (random.Next(12))
        {
            case 0:
                text.Append("null");
                break;
            case 1:
                text.Append(random.Next(2) == 0 ? "true" : "false");
                break;
            case 2:
            case 3:
                text.Append(s_numbers[random.Next(s_numbers.Length)]);
                break;
            case 4:
                text.Append(random.Next(3) switch { 0 => "[]", 1 => "{}", _ => "\"\"" });
                break;
            case 5:
                WriteNesting(text, random, 30 + random.Next(200), CommonFields);
                break;
            default:
                WriteValue(text, random, 2, CommonFields, knownIds);
                break;
        }

        return text.ToString();
    }

    /// <summary>
    /// <paramref name="valid"/> with one change: a field (at any depth) given a bad value, a field
    /// removed, an unknown field added, or the whole body replaced.
    /// </summary>
    public static Gen<JsonText> Mutations(JsonObject valid, params Guid[] knownIds) =>
        from seed in Gens.Seeds
        select Mutate(valid, new System.Random(seed), knownIds);

    public static JsonText Mutate(JsonObject valid, System.Random random, IReadOnlyList<Guid> knownIds)
    {
        ArgumentNullException.ThrowIfNull(valid);
        ArgumentNullException.ThrowIfNull(random);
        JsonObject body = (JsonObject)valid.DeepClone();
        List<(JsonNode Parent, string? Name, int Index)> slots = [];
        Collect(body, slots);
        int kind = random.Next(10);
        if (kind == 0 || slots.Count == 0)
        {
            return new JsonText(BadValue(random, knownIds), "the whole body replaced");
        }

        (JsonNode parent, string? name, int index) = slots[random.Next(slots.Count)];
        string where = name ?? $"[{index}]";
        string bad = BadValue(random, knownIds);
        string shown = bad.Length > 200 ? bad[..200] + "..." : bad;
        switch (kind)
        {
            case 1 when name is not null:
                ((JsonObject)parent).Remove(name);
                return new JsonText(body.ToJsonString(), $"'{where}' removed");
            case 2 when parent is JsonObject siblings:
                string unknown = random.Next(2) == 0 ? "unexpected" : CommonFields[random.Next(CommonFields.Count)];
                if (siblings.ContainsKey(unknown))
                {
                    goto default;
                }

                siblings[unknown] = Placeholder();
                return new JsonText(WithPlaceholder(body, bad), $"field '{unknown}' = {shown} added next to '{where}'");
            default:
                if (name is not null)
                {
                    ((JsonObject)parent)[name] = Placeholder();
                }
                else
                {
                    ((JsonArray)parent)[index] = Placeholder();
                }

                return new JsonText(WithPlaceholder(body, bad), $"'{where}' = {shown}");
        }
    }

    private static JsonValue Placeholder() => JsonValue.Create("fuzz-placeholder-7f3a9c");

    /// <summary>The body with the placeholder replaced by raw JSON text (which may be anything, even invalid JSON).</summary>
    private static string WithPlaceholder(JsonObject body, string raw)
    {
        string serialized = body.ToJsonString();
        string replaced = serialized.Replace("\"fuzz-placeholder-7f3a9c\"", raw, StringComparison.Ordinal);
        return replaced != serialized ? replaced : throw new InvalidOperationException($"The placeholder is not in {serialized}");
    }

    private static void Collect(JsonNode node, List<(JsonNode Parent, string? Name, int Index)> slots)
    {
        if (node is JsonObject obj)
        {
            foreach ((string name, JsonNode? child) in obj)
            {
                slots.Add((obj, name, -1));
                if (child is not null)
                {
                    Collect(child, slots);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                slots.Add((array, null, i));
                if (array[i] is { } child)
                {
                    Collect(child, slots);
                }
            }
        }
    }

    private static void WriteNesting(StringBuilder text, System.Random random, int depth, IReadOnlyList<string> fields)
    {
        bool objects = random.Next(2) == 0;
        for (int i = 0; i < depth; i++)
        {
            text.Append(objects ? $"{{\"{fields[random.Next(fields.Count)]}\":" : "[");
        }

        text.Append(random.Next(2) == 0 ? "1" : "\"AAAA\"");
        for (int i = 0; i < depth; i++)
        {
            text.Append(objects ? '}' : ']');
        }
    }

    private static void WriteObject(StringBuilder text, System.Random random, int depth, IReadOnlyList<string> fields, IReadOnlyList<Guid> knownIds, bool fieldsOnly)
    {
        text.Append('{');
        int count = random.Next(8);
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            string name = fieldsOnly || random.Next(4) != 0
                ? fields[random.Next(fields.Count)]
                : random.Next(2) == 0 ? CommonFields[random.Next(CommonFields.Count)] : Gens.RandomString(random, random.Next(10), 12);
            WriteString(text, random.Next(10) == 0 ? name.ToUpperInvariant() : name);
            text.Append(':');
            WriteValue(text, random, depth - 1, fields, knownIds);
        }

        text.Append('}');
    }

    private static void WriteValue(StringBuilder text, System.Random random, int depth, IReadOnlyList<string> fields, IReadOnlyList<Guid> knownIds)
    {
        switch (random.Next(depth > 0 ? 16 : 13))
        {
            case 0:
                text.Append("null");
                break;
            case 1:
                text.Append(random.Next(2) == 0 ? "true" : "false");
                break;
            case 2:
            case 3:
                text.Append(random.Next(3) == 0 ? random.Next(int.MinValue, int.MaxValue).ToString(CultureInfo.InvariantCulture) : s_numbers[random.Next(s_numbers.Length)]);
                break;
            case 4:
            case 5:
            case 6:
                // Base64 of a length a key, nonce, signature or bucket has (or just misses).
                int length = random.Next(3) == 0 ? random.Next(300) : s_byteLengths[random.Next(s_byteLengths.Length)];
                string base64 = Convert.ToBase64String(Gens.RandomBytes(random, length));
                text.Append('"').Append(random.Next(6) == 0 ? base64.Replace('+', '-').Replace('/', '_').TrimEnd('=') : base64).Append('"');
                break;
            case 7:
                // Not base64: a bad character, bad padding, whitespace, a lone quote escape.
                text.Append(random.Next(6) switch
                {
                    0 => "\"AAA\"",
                    1 => "\"A===\"",
                    2 => "\"!!!!\"",
                    3 => "\"QUJD RA==\"",
                    4 => "\"QUJDRA==\\u0000\"",
                    _ => "\"\\ud800QUJD\"",
                });
                break;
            case 8:
                text.Append('"').Append(random.Next(5) switch
                {
                    0 => Guid.Empty.ToString(),
                    1 => new Guid(Gens.RandomBytes(random, 16)).ToString("N"),
                    2 => "00000000-0000-0000-0000-00000000000g",
                    3 when knownIds.Count > 0 => knownIds[random.Next(knownIds.Count)].ToString(),
                    _ => new Guid(Gens.RandomBytes(random, 16)).ToString(),
                }).Append('"');
                break;
            case 9:
                // A long string (within the 128 KiB body limit).
                int longLength = random.Next(4) == 0 ? 60_000 + random.Next(60_000) : 1000 + random.Next(8000);
                text.Append('"').Append('A', longLength).Append('"');
                break;
            case 10:
            case 11:
            case 12:
                WriteString(text, Gens.RandomString(random, random.Next(10), 40));
                break;
            case 13:
            case 14:
                WriteObject(text, random, depth - 1, fields, knownIds, fieldsOnly: false);
                break;
            default:
                text.Append('[');
                int count = random.Next(5);
                for (int i = 0; i < count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    WriteValue(text, random, depth - 1, fields, knownIds);
                }

                text.Append(']');
                break;
        }
    }

    /// <summary>A JSON string literal; lone surrogates and control characters escaped as \uXXXX.</summary>
    private static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (char c in value)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\').Append(c);
            }
            else if (c < 0x20 || char.IsSurrogate(c))
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }

        text.Append('"');
    }
}
