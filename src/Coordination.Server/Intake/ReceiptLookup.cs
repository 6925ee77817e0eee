using System.Security.Cryptography;
using Coordination.Crypto;
using Coordination.Server.Persistence;

namespace Coordination.Server.Intake;

/// <summary>
/// Turns a receipt's lookup secret into the id the relay stores: Argon2id (interactive cost) of
/// the 32-byte secret, salted with BLAKE2b-128 of the relay's pepper. The pepper is kept outside
/// the database (<c>Intake:Pepper</c>, else <c>{Storage:DataDirectory}/intake-pepper.key</c>), so a
/// copy of the database alone does not let anyone test a guessed receipt. Every relay node sharing
/// a database must have the same pepper. The proof-of-work challenge key is derived from it too
/// (crypto_kdf, subkey 1, context "intakepw"), so a challenge issued by one node is checked by any.
/// </summary>
/// <remarks>
/// Argon2id takes 64 MiB and tens of milliseconds of one core: it runs on the thread pool with
/// <see cref="Task.Run(Action)"/>, never more than <see cref="IntakeOptions.MaxConcurrentLookups"/>
/// at once, and the endpoints that reach it are rate-limited.
/// </remarks>
public sealed class ReceiptLookup : IDisposable
{
    public const string PepperFileName = "intake-pepper.key";
    public const int PepperBytes = 32;

    // Derived from the pepper, so as secret as it: kept in sodium-allocated memory.
    private readonly SecretKey _salt;
    private readonly SemaphoreSlim _gate;

    /// <summary>The key that tags and derives proof-of-work challenges (see <see cref="PowChallenges"/>).</summary>
    internal SecretKey ChallengeKey { get; }

    public ReceiptLookup(IntakeOptions options, StorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        byte[] pepper = options.Pepper is { } configured ? Decode(configured) : LoadOrCreate(Path.GetFullPath(Path.Combine(storage.DataDirectory, PepperFileName)));
        try
        {
            byte[] salt = Blake2b.Hash(pepper, Argon2id.SaltSize);
            _salt = SecretKey.Import(salt);
            CryptographicOperations.ZeroMemory(salt);
            using SecretKey master = SecretKey.Import(pepper);
            ChallengeKey = SubkeyDerivation.DeriveSubkey(master, 1, "intakepw");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pepper);
        }

        _gate = new SemaphoreSlim(options.MaxConcurrentLookups, options.MaxConcurrentLookups);
    }

    /// <summary>The stored lookup id of <paramref name="lookupSecret"/> (32 bytes).</summary>
    public async Task<byte[]> LookupIdAsync(byte[] lookupSecret, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lookupSecret);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await Task.Run(
                () =>
                {
                    byte[] id = new byte[IntakeLimits.LookupIdBytes];
                    Span<byte> salt = stackalloc byte[Argon2id.SaltSize];
                    _salt.Export(salt);
                    try
                    {
                        Argon2id.DeriveBytes(lookupSecret, salt, Argon2idCost.Interactive, id);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(salt);
                    }

                    return id;
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
        _salt.Dispose();
        ChallengeKey.Dispose();
    }

    private static byte[] Decode(string configured)
    {
        byte[]? pepper = null;
        try
        {
            pepper = Convert.FromBase64String(configured.Trim());
        }
        catch (FormatException)
        {
        }

        return pepper is { Length: PepperBytes } ? pepper : throw new InvalidOperationException($"Intake:Pepper must be {PepperBytes} bytes in base64.");
    }

    /// <summary>Reads the pepper file, or creates it (owner read/write only) with fresh random bytes.</summary>
    private static byte[] LoadOrCreate(string path)
    {
        string directory = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(path))
        {
            byte[] fresh = SecureRandom.Bytes(PepperBytes);
            try
            {
                FileStreamOptions create = new() { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (FileStream file = new(path, create))
                {
                    file.Write(fresh);
                    file.Flush(flushToDisk: true);
                }

                return fresh;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
                CryptographicOperations.ZeroMemory(fresh);
            }
        }

        byte[] stored = File.ReadAllBytes(path);
        if (stored.Length != PepperBytes)
        {
            CryptographicOperations.ZeroMemory(stored);
            throw new InvalidOperationException($"The intake pepper file {path} must hold exactly {PepperBytes} bytes; restore it from a backup (without it no receipt can be looked up).");
        }

        return stored;
    }
}
