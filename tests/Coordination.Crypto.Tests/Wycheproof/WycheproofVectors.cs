using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Coordination.Crypto.Tests.Wycheproof;

/// <summary>
/// Loads a Wycheproof vector file from the test output directory (the csproj copies
/// <c>Wycheproof/vectors/**</c> there). A missing or malformed file throws, so the test that asked
/// for it fails; it is never skipped.
/// </summary>
internal static class WycheproofVectors
{
    public const string Valid = "valid";
    public const string Invalid = "invalid";
    public const string Acceptable = "acceptable";

    public static string PathOf(string fileName) => Path.Combine(AppContext.BaseDirectory, "Wycheproof", "vectors", fileName);

    public static WycheproofFile<TGroup> Load<TGroup>(string fileName)
    {
        string path = PathOf(fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                string.Create(CultureInfo.InvariantCulture, $"Wycheproof vector file '{fileName}' is missing from the test output ({path}). It must be in tests/Coordination.Crypto.Tests/Wycheproof/vectors/ and copied by the csproj; these tests never skip."),
                path);
        }

        using FileStream stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<WycheproofFile<TGroup>>(stream)
            ?? throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Wycheproof vector file '{path}' holds JSON null."));
    }

    /// <summary>Decodes a Wycheproof hex field (empty string = empty byte array).</summary>
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex);

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>One failure line: tcId, comment, flags and what went wrong.</summary>
    public static string Failure(WycheproofCase testCase, string problem)
    {
        ArgumentNullException.ThrowIfNull(testCase);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"tcId {testCase.TcId} ({testCase.Result}, \"{testCase.Comment}\", flags [{string.Join(", ", testCase.Flags)}]): {problem}");
    }

    /// <summary>Formats the collected failures as one assertion message.</summary>
    public static string Report(string what, IReadOnlyCollection<string> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        return string.Create(CultureInfo.InvariantCulture, $"{failures.Count} {what} Wycheproof case(s) failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }
}

/// <summary>The top level of a Wycheproof <c>testvectors_v1</c> file.</summary>
public sealed class WycheproofFile<TGroup>
{
    [JsonPropertyName("algorithm")]
    public required string Algorithm { get; init; }

    [JsonPropertyName("schema")]
    public required string Schema { get; init; }

    [JsonPropertyName("numberOfTests")]
    public required int NumberOfTests { get; init; }

    [JsonPropertyName("testGroups")]
    public required IReadOnlyList<TGroup> TestGroups { get; init; }
}

/// <summary>Fields every Wycheproof test case has.</summary>
public abstract class WycheproofCase
{
    [JsonPropertyName("tcId")]
    public required int TcId { get; init; }

    [JsonPropertyName("comment")]
    public required string Comment { get; init; }

    [JsonPropertyName("flags")]
    public required IReadOnlyList<string> Flags { get; init; }

    /// <summary><c>valid</c>, <c>invalid</c> or <c>acceptable</c>.</summary>
    [JsonPropertyName("result")]
    public required string Result { get; init; }

    public bool HasFlag(string flag) => Flags.Contains(flag, StringComparer.Ordinal);
}

/// <summary>A group of <c>aead_test_schema_v1</c>.</summary>
public sealed class AeadTestGroup
{
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("ivSize")]
    public required int IvSize { get; init; }

    [JsonPropertyName("keySize")]
    public required int KeySize { get; init; }

    [JsonPropertyName("tagSize")]
    public required int TagSize { get; init; }

    [JsonPropertyName("tests")]
    public required IReadOnlyList<AeadTestCase> Tests { get; init; }
}

public sealed class AeadTestCase : WycheproofCase
{
    [JsonPropertyName("key")]
    public required string Key { get; init; }

    [JsonPropertyName("iv")]
    public required string Iv { get; init; }

    [JsonPropertyName("aad")]
    public required string Aad { get; init; }

    [JsonPropertyName("msg")]
    public required string Msg { get; init; }

    [JsonPropertyName("ct")]
    public required string Ct { get; init; }

    [JsonPropertyName("tag")]
    public required string Tag { get; init; }
}

/// <summary>A group of <c>xdh_comp_schema_v1</c>.</summary>
public sealed class XdhTestGroup
{
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("curve")]
    public required string Curve { get; init; }

    [JsonPropertyName("tests")]
    public required IReadOnlyList<XdhTestCase> Tests { get; init; }
}

public sealed class XdhTestCase : WycheproofCase
{
    [JsonPropertyName("public")]
    public required string Public { get; init; }

    [JsonPropertyName("private")]
    public required string Private { get; init; }

    [JsonPropertyName("shared")]
    public required string Shared { get; init; }
}

/// <summary>A group of <c>eddsa_verify_schema_v1</c>.</summary>
public sealed class EddsaTestGroup
{
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("publicKey")]
    public required EddsaPublicKey PublicKey { get; init; }

    [JsonPropertyName("tests")]
    public required IReadOnlyList<EddsaTestCase> Tests { get; init; }
}

public sealed class EddsaPublicKey
{
    [JsonPropertyName("curve")]
    public required string Curve { get; init; }

    [JsonPropertyName("pk")]
    public required string Pk { get; init; }
}

public sealed class EddsaTestCase : WycheproofCase
{
    [JsonPropertyName("msg")]
    public required string Msg { get; init; }

    [JsonPropertyName("sig")]
    public required string Sig { get; init; }
}
