using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Coordination.Client.Identity;
using Coordination.Crypto;

namespace Coordination.Client.Profiles;

/// <summary>
/// A <see cref="Profile"/> kept in <c>profile.json</c> in its own directory (mode 0700, the file
/// 0600 on Unix). Encrypted, the file holds only the Argon2id parameters, a nonce and
/// <c>XChaCha20-Poly1305(Argon2id(passphrase, salt), nonce, profile JSON, ad = "coordination/v1/profile")</c>;
/// key material is written in the clear only when the caller created the profile without a
/// passphrase on purpose. Every write goes to a temporary file that is flushed to disk and then
/// renamed over the old one, so a crash leaves the old profile or the new one, never a torn one.
/// </summary>
/// <remarks>
/// The key derived from the passphrase stays in secure memory while the store is open, so
/// <see cref="SaveAsync"/> needs no passphrase; <see cref="Dispose"/> frees it and zeroes the
/// profile's keys. Serialized plaintext is built in buffers that are zeroed after use.
/// </remarks>
public sealed class ProfileStore : IDisposable
{
    public const string FileName = "profile.json";
    public const int FileFormat = 1;
    public const string KdfAlgorithm = "argon2id13";

    /// <summary>The associated data that binds the ciphertext to its purpose.</summary>
    public const string AssociatedData = "coordination/v1/profile";

    // Bounds on the cost read from a file, so a damaged or hostile file cannot make opening it
    // take hours or all the memory there is (libsodium's "sensitive" preset is 4 passes, 1 GiB).
    private const ulong MaxOperations = 64;
    private const long MaxMemoryBytes = 4L << 30;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private static readonly byte[] s_associatedData = Encoding.ASCII.GetBytes(AssociatedData);

    private readonly SecretKey? _key;
    private readonly byte[]? _salt;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private Profile _profile;
    private bool _disposed;

    private ProfileStore(string directory, Profile profile, SecretKey? key, byte[]? salt, Argon2idCost? cost)
    {
        Directory = directory;
        _profile = profile;
        _key = key;
        _salt = salt;
        KdfCost = cost;
    }

    /// <summary>The profile's directory (absolute).</summary>
    public string Directory { get; }

    public string FilePath => Path.Combine(Directory, FileName);

    /// <summary>True if the file is encrypted under a passphrase.</summary>
    public bool IsEncrypted => _key is not null;

    /// <summary>The Argon2id cost of the passphrase key; null when not encrypted.</summary>
    public Argon2idCost? KdfCost { get; }

    /// <summary>The stored profile. Setting it changes what <see cref="SaveAsync"/> writes.</summary>
    public Profile Profile
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _profile;
        }

        set
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            _profile = value;
        }
    }

    /// <summary>True if <paramref name="directory"/> holds a profile file.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(Path.GetFullPath(directory), FileName));

    /// <summary>Whether the profile in <paramref name="directory"/> needs a passphrase, without opening it.</summary>
    public static async Task<bool> IsEncryptedAsync(string directory, CancellationToken ct = default)
    {
        byte[] file = await ReadFileAsync(Path.GetFullPath(directory), ct).ConfigureAwait(false);
        try
        {
            using JsonDocument document = ParseFile(file);
            return ReadHeader(document.RootElement);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(file);
        }
    }

    /// <summary>
    /// Writes a new profile into <paramref name="directory"/> (created if needed) under
    /// <paramref name="passphrase"/> with the cost named by <c>COORD_KDF</c> (default moderate).
    /// A null passphrase writes the keys unencrypted: pass null only when the user asked for that.
    /// Fails if the directory already holds a profile. The store takes ownership of
    /// <paramref name="profile"/>: disposing the store zeroes its keys.
    /// </summary>
    public static Task<ProfileStore> CreateAsync(string directory, Profile profile, ReadOnlyMemory<char>? passphrase, CancellationToken ct = default) =>
        CreateCoreAsync(directory, profile, passphrase, null, ct);

    /// <summary>As <see cref="CreateAsync(string, Profile, ReadOnlyMemory{char}?, CancellationToken)"/> with an explicit Argon2id cost.</summary>
    public static Task<ProfileStore> CreateAsync(string directory, Profile profile, ReadOnlyMemory<char>? passphrase, Argon2idCost cost, CancellationToken ct = default) =>
        CreateCoreAsync(directory, profile, passphrase, cost, ct);

    /// <summary>
    /// Reads the profile in <paramref name="directory"/>. An encrypted profile needs
    /// <paramref name="passphrase"/> (<see cref="ProfilePassphraseRequiredException"/> without it); a
    /// wrong passphrase or any change to the file fails with "wrong passphrase or damaged profile".
    /// An unencrypted profile ignores the passphrase.
    /// </summary>
    public static async Task<ProfileStore> OpenAsync(string directory, ReadOnlyMemory<char>? passphrase, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string fullPath = Path.GetFullPath(directory);
        byte[] file = await ReadFileAsync(fullPath, ct).ConfigureAwait(false);
        try
        {
            using JsonDocument document = ParseFile(file);
            JsonElement root = document.RootElement;
            if (!ReadHeader(root))
            {
                Profile plainProfile = DeserializeProfile(() => root.GetProperty("profile").Deserialize<Profile>(s_json));
                return new ProfileStore(fullPath, plainProfile, null, null, null);
            }

            if (passphrase is not { } secret)
            {
                throw new ProfilePassphraseRequiredException();
            }

            (byte[] salt, Argon2idCost cost, byte[] nonce, byte[] ciphertext) = ReadEncrypted(root);
            SecretKey key = await DeriveKeyAsync(secret, salt, cost, ct).ConfigureAwait(false);
            try
            {
                Profile profile = Decrypt(key, nonce, ciphertext);
                return new ProfileStore(fullPath, profile, key, salt, cost);
            }
            catch
            {
                key.Dispose();
                throw;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(file);
        }
    }

    /// <summary>The device's keys in secure memory, with its ids set. The caller disposes it.</summary>
    public DeviceIdentity ToIdentity() => Profile.ToIdentity();

    /// <summary>Writes <see cref="Profile"/> atomically (encrypted with a fresh nonce if the store is encrypted).</summary>
    public Task SaveAsync(CancellationToken ct = default) => WriteAsync(overwrite: true, ct);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _profile.Wipe();
        _key?.Dispose();
        _writeGate.Dispose();
    }

    private static async Task<ProfileStore> CreateCoreAsync(string directory, Profile profile, ReadOnlyMemory<char>? passphrase, Argon2idCost? requestedCost, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        if (passphrase is { IsEmpty: true })
        {
            throw new ArgumentException("The passphrase is empty; pass null for an unencrypted profile.", nameof(passphrase));
        }

        string fullPath = Path.GetFullPath(directory);
        CreatePrivateDirectory(fullPath);
        if (File.Exists(Path.Combine(fullPath, FileName)))
        {
            throw new ProfileException($"A profile already exists in {fullPath}.");
        }

        SecretKey? key = null;
        byte[]? salt = null;
        Argon2idCost? cost = null;
        if (passphrase is { } secret)
        {
            cost = requestedCost ?? ProfileKdf.FromEnvironment();
            CheckCost(cost.Value);
            salt = SecureRandom.Bytes(Argon2id.SaltSize);
            key = await DeriveKeyAsync(secret, salt, cost.Value, ct).ConfigureAwait(false);
        }

        ProfileStore store = new(fullPath, profile, key, salt, cost);
        try
        {
            await store.WriteAsync(overwrite: false, ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            // The caller still owns the profile it passed in; only the key is ours to free.
            key?.Dispose();
            store._writeGate.Dispose();
            throw;
        }
    }

    private async Task WriteAsync(bool overwrite, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using ZeroingBufferWriter file = new();
            Serialize(file);
            await WriteAtomicallyAsync(file.WrittenMemory, overwrite, ct).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void Serialize(ZeroingBufferWriter output)
    {
        using Utf8JsonWriter writer = new(output, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteNumber("format", FileFormat);
        writer.WriteBoolean("encrypted", IsEncrypted);
        if (_key is null)
        {
            writer.WritePropertyName("profile");
            JsonSerializer.Serialize(writer, _profile, s_json);
        }
        else
        {
            byte[] nonce = SecureRandom.Nonce();
            byte[] ciphertext;
            using (ZeroingBufferWriter plaintext = new())
            {
                using (Utf8JsonWriter plainWriter = new(plaintext))
                {
                    JsonSerializer.Serialize(plainWriter, _profile, s_json);
                }

                ciphertext = XChaCha20Poly1305.Encrypt(_key, nonce, plaintext.WrittenSpan, s_associatedData);
            }

            writer.WriteStartObject("kdf");
            writer.WriteString("algorithm", KdfAlgorithm);
            writer.WriteBase64String("salt", _salt);
            writer.WriteNumber("opsLimit", KdfCost!.Value.Operations);
            writer.WriteNumber("memLimit", KdfCost.Value.MemoryBytes);
            writer.WriteEndObject();
            writer.WriteBase64String("nonce", nonce);
            writer.WriteBase64String("ciphertext", ciphertext);
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    private async Task WriteAtomicallyAsync(ReadOnlyMemory<byte> content, bool overwrite, CancellationToken ct)
    {
        string target = FilePath;
        string temporary = Path.Combine(Directory, $".{FileName}.{Convert.ToHexStringLower(SecureRandom.Bytes(8))}.tmp");
        FileStreamOptions options = new()
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            FileStream stream = new(temporary, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, ct).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temporary, target, overwrite);
        }
        catch (IOException) when (!overwrite && File.Exists(target))
        {
            TryDelete(temporary);
            throw new ProfileException($"A profile already exists in {Directory}.");
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return;
        }

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        System.IO.Directory.CreateDirectory(path, Private);
        File.SetUnixFileMode(path, Private);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task<byte[]> ReadFileAsync(string directory, CancellationToken ct)
    {
        try
        {
            return await File.ReadAllBytesAsync(Path.Combine(directory, FileName), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ProfileException($"There is no profile in {directory}.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ProfileException($"The profile in {directory} cannot be read: permission denied.", ex);
        }
    }

    private static JsonDocument ParseFile(byte[] file)
    {
        try
        {
            return JsonDocument.Parse(file.AsMemory());
        }
        catch (JsonException ex)
        {
            throw new ProfileException("The profile file is damaged: it is not valid JSON.", ex);
        }
    }

    /// <summary>Checks the format and returns whether the file is encrypted.</summary>
    private static bool ReadHeader(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.Number
            || !root.TryGetProperty("encrypted", out JsonElement encrypted) || encrypted.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new ProfileException("The profile file is damaged: it has no format or encryption flag.");
        }

        if (!format.TryGetInt32(out int version) || version != FileFormat)
        {
            throw new ProfileException($"The profile file has an unknown format; this version reads format {FileFormat}.");
        }

        return encrypted.GetBoolean();
    }

    private static (byte[] Salt, Argon2idCost Cost, byte[] Nonce, byte[] Ciphertext) ReadEncrypted(JsonElement root)
    {
        try
        {
            JsonElement kdf = root.GetProperty("kdf");
            if (kdf.GetProperty("algorithm").GetString() != KdfAlgorithm)
            {
                throw new ProfileException($"The profile is encrypted with an unknown key derivation; this version knows {KdfAlgorithm}.");
            }

            byte[] salt = kdf.GetProperty("salt").GetBytesFromBase64();
            Argon2idCost cost = new(kdf.GetProperty("opsLimit").GetUInt64(), kdf.GetProperty("memLimit").GetInt64());
            byte[] nonce = root.GetProperty("nonce").GetBytesFromBase64();
            byte[] ciphertext = root.GetProperty("ciphertext").GetBytesFromBase64();
            if (salt.Length != Argon2id.SaltSize || nonce.Length != XChaCha20Poly1305.NonceSize || ciphertext.Length < XChaCha20Poly1305.TagSize)
            {
                throw new ProfileException("The profile file is damaged: a salt, nonce or ciphertext has the wrong length.");
            }

            CheckCost(cost);
            return (salt, cost, nonce, ciphertext);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ProfileException("The profile file is damaged: a field of the encryption header is missing or malformed.", ex);
        }
    }

    private static void CheckCost(Argon2idCost cost)
    {
        if (cost.Operations < Argon2idCost.Minimum.Operations || cost.MemoryBytes < Argon2idCost.Minimum.MemoryBytes
            || cost.Operations > MaxOperations || cost.MemoryBytes > MaxMemoryBytes)
        {
            throw new ProfileException($"The Argon2id cost must be between libsodium's minimum and {MaxOperations} passes, {MaxMemoryBytes >> 30} GiB.");
        }
    }

    private static async Task<SecretKey> DeriveKeyAsync(ReadOnlyMemory<char> passphrase, byte[] salt, Argon2idCost cost, CancellationToken ct)
    {
        // Argon2id is deliberately slow (about a second at the moderate cost): keep it off the caller's thread.
        return await Task.Run(
            () =>
            {
                byte[] utf8 = new byte[Encoding.UTF8.GetMaxByteCount(passphrase.Length)];
                try
                {
                    int length = Encoding.UTF8.GetBytes(passphrase.Span, utf8);
                    return Argon2id.DeriveKey(utf8.AsSpan(0, length), salt, cost, XChaCha20Poly1305.KeySize);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(utf8);
                }
            },
            ct).ConfigureAwait(false);
    }

    private static Profile Decrypt(SecretKey key, byte[] nonce, byte[] ciphertext)
    {
        byte[] plaintext = new byte[ciphertext.Length - XChaCha20Poly1305.TagSize];
        try
        {
            if (!XChaCha20Poly1305.TryDecrypt(key, nonce, ciphertext, s_associatedData, plaintext))
            {
                throw new ProfileException("wrong passphrase or damaged profile");
            }

            return DeserializeProfile(() => JsonSerializer.Deserialize<Profile>(plaintext, s_json));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static Profile DeserializeProfile(Func<Profile?> deserialize)
    {
        Profile? profile;
        try
        {
            profile = deserialize();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // The exception's message could quote a value; say only what is wrong.
            throw new ProfileException("The profile is damaged: a field is missing or malformed.", ex);
        }

        if (profile is null)
        {
            throw new ProfileException("The profile is damaged: it is empty.");
        }

        try
        {
            profile.Validate();
        }
        catch
        {
            profile.Wipe();
            throw;
        }

        return profile;
    }
}
