using Coordination.Crypto;

namespace Coordination.Client.Profiles;

/// <summary>
/// The Argon2id cost for new profiles: <see cref="Argon2idCost.Moderate"/> (3 passes, 256 MiB)
/// unless the <c>COORD_KDF</c> setting says otherwise. <c>interactive</c> (2 passes, 64 MiB) is for
/// slow or small machines; <c>min</c> is libsodium's minimum and only for tests.
/// </summary>
public static class ProfileKdf
{
    public const string EnvironmentVariable = "COORD_KDF";

    /// <summary>The cost named by the <c>COORD_KDF</c> environment variable of this process.</summary>
    public static Argon2idCost FromEnvironment() => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// <c>moderate</c> (also for null or empty), <c>interactive</c>, <c>sensitive</c> or <c>min</c>,
    /// case-insensitive; anything else throws <see cref="ProfileException"/>.
    /// </summary>
    public static Argon2idCost Parse(string? setting) => setting?.Trim().ToUpperInvariant() switch
    {
        null or "" or "MODERATE" => Argon2idCost.Moderate,
        "INTERACTIVE" => Argon2idCost.Interactive,
        "SENSITIVE" => Argon2idCost.Sensitive,
        "MIN" => Argon2idCost.Minimum,
        _ => throw new ProfileException($"{EnvironmentVariable} must be one of interactive, moderate, sensitive or min."),
    };
}
