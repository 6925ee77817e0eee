using System.Globalization;
using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Sdk;

namespace Coordination.Fuzz.Tests.Infrastructure;

/// <summary>
/// How the properties run: a fixed seed (so a CI run is the same every time) and a bounded number
/// of cases each, both overridable from the environment for a longer run or a replay.
/// <list type="bullet">
/// <item><c>COORDINATION_FUZZ_SEED</c>: the seed (an unsigned 64-bit number); each property derives its own from it and its name.</item>
/// <item><c>COORDINATION_FUZZ_RUNS</c>: cases per parser property (a few slow ones run a tenth or a twentieth of it);
/// properties against the relay run a hundredth of it, because every case is a request; each at least its CI count.</item>
/// </list>
/// A failure names the seed and the command that replays it.
/// </summary>
public static class Fuzzer
{
    public const string SeedVariable = "COORDINATION_FUZZ_SEED";
    public const string RunsVariable = "COORDINATION_FUZZ_RUNS";

    /// <summary>The seed of every CI run.</summary>
    public const ulong DefaultSeed = 20261121;

    /// <summary>Properties against the relay run <c>COORDINATION_FUZZ_RUNS / RelayDivisor</c> cases.</summary>
    public const int RelayDivisor = 100;

    public static ulong Seed { get; } = ulong.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed) ? seed : DefaultSeed;

    public static int? RequestedRuns { get; } = int.TryParse(Environment.GetEnvironmentVariable(RunsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int runs) && runs > 0 ? runs : null;

    /// <summary>Cases for a property: its CI count, or the requested count (divided for relay properties) when that is larger.</summary>
    public static int Runs(int ci, int divisor = 1) => RequestedRuns is { } requested ? Math.Max(ci, requested / divisor) : ci;

    /// <summary>
    /// Checks a synchronous property; a failure (or any exception the property lets out) fails the
    /// test with the seed. <paramref name="variant"/> tells apart several properties of one test.
    /// </summary>
    /// <param name="divisor">For properties whose cases are slow: a longer run gives them <c>COORDINATION_FUZZ_RUNS / divisor</c> cases.</param>
    public static void Check<T>(int ci, Arbitrary<T> cases, Action<T> property, string? variant = null, int divisor = 1, [CallerMemberName] string test = "") =>
        Run(test, variant, Runs(ci, divisor), Prop.ForAll(cases, property));

    /// <summary>Checks a property against the relay (a request per case), off the test's synchronization context.</summary>
    public static Task CheckAsync<T>(int ci, Arbitrary<T> cases, Func<T, Task> property, string? variant = null, [CallerMemberName] string test = "") =>
        Task.Run(() => Run(test, variant, Runs(ci, RelayDivisor), Prop.ForAll(cases, property)));

    /// <summary>The generator as an arbitrary without shrinking: every case is replayed from the seed instead.</summary>
    public static Arbitrary<T> Cases<T>(Gen<T> gen) => Arb.From(gen);

    private static void Run(string test, string? variant, int runs, Property property)
    {
        string name = variant is null ? test : $"{test}({variant})";
        ulong seed = Seed ^ Fnv1a(name);
        Config config = Config.QuickThrowOnFailure
            .WithName(name)
            .WithMaxTest(runs)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed), FSharpOption<int>.None)));
        try
        {
            FsCheck.Check.One(config, property);
        }
        catch (Exception ex)
        {
            throw new XunitException(
                $"Property '{name}' failed ({runs} cases, {SeedVariable}={Seed}). Replay: {SeedVariable}={Seed} {RunsVariable}={runs} "
                + $"dotnet test tests/Coordination.Fuzz.Tests -c Release --filter \"FullyQualifiedName~{test}\"{Environment.NewLine}{ex.Message}");
        }
    }

    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return hash;
    }
}
