using System.Runtime.CompilerServices;
using Coordination.Fuzz.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Rest;

/// <summary>
/// The three kinds of body every JSON endpoint gets: random JSON (wrong types, missing and unknown
/// fields, nulls, huge numbers, deep nesting, long strings, bad base64, keys of wrong lengths),
/// random bytes sent as JSON, and its valid body with one field changed. Each request must pass
/// <see cref="RelayWorld.CheckAsync"/>; after the batch the server must have logged no error.
/// </summary>
public static class BodyFuzz
{
    public const int RandomJsonCases = 25;
    public const int RandomBytesCases = 10;
    public const int MutatedCases = 40;

    private static readonly string[] s_contentTypes = ["application/json", "application/json", "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"];

    public static async Task RandomJsonAsync(RelayWorld world, string name, [CallerMemberName] string test = "")
    {
        ArgumentNullException.ThrowIfNull(world);
        BodyEndpoint endpoint = world[name];
        int logs = world.Relay.Logs.Count;
        await Fuzzer.CheckAsync(RandomJsonCases, Fuzzer.Cases(JsonFuzz.Documents(JsonFuzz.CommonFields, [.. endpoint.KnownIds])),
            json => Check(world, endpoint, json.Utf8, json.ToString()), name, test);
        world.AssertNoErrorsSince(logs);
    }

    public static async Task RandomBytesAsync(RelayWorld world, string name, [CallerMemberName] string test = "")
    {
        ArgumentNullException.ThrowIfNull(world);
        BodyEndpoint endpoint = world[name];
        int logs = world.Relay.Logs.Count;
        Gen<(Bytes Body, string ContentType)> cases =
            from body in Gen.OneOf(
                Gens.Bytes(0, 4096),
                Gens.Prefixed("{\""u8.ToArray(), 300),
                Gens.Prefixed([0xEF, 0xBB, 0xBF, (byte)'{'], 300))
            from contentType in Gen.Elements(s_contentTypes)
            select (body, contentType);
        await Fuzzer.CheckAsync(RandomBytesCases, Fuzzer.Cases(cases),
            c => Check(world, endpoint, c.Body.Value, c.Body.ToString(), c.ContentType), name, test);
        world.AssertNoErrorsSince(logs);
    }

    /// <summary>
    /// A fresh valid body for every case (new keys, ids, challenges and proofs-of-work, so an earlier
    /// case that was accepted does not spoil the next), with the change the case's seed picks.
    /// </summary>
    public static async Task MutatedValidAsync(RelayWorld world, string name, [CallerMemberName] string test = "")
    {
        ArgumentNullException.ThrowIfNull(world);
        BodyEndpoint endpoint = world[name];
        int logs = world.Relay.Logs.Count;
        await Fuzzer.CheckAsync(MutatedCases, Fuzzer.Cases(Gens.Seeds), async seed =>
        {
            JsonText json = JsonFuzz.Mutate(await endpoint.Valid(), new System.Random(seed), [.. endpoint.KnownIds]);
            await Check(world, endpoint, json.Utf8, json.ToString());
        }, name, test);
        world.AssertNoErrorsSince(logs);
    }

    private static async Task Check(RelayWorld world, BodyEndpoint endpoint, byte[] body, string what, string contentType = "application/json") =>
        await world.CheckAsync(endpoint.Method, endpoint.Path, endpoint.Token, body, endpoint.Tables, what, contentType);
}
