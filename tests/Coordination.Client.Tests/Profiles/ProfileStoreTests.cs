using System.Text;
using System.Text.Json.Nodes;
using Coordination.Client.Identity;
using Coordination.Client.Profiles;
using Coordination.Crypto;

namespace Coordination.Client.Tests.Profiles;

/// <summary>
/// Runs on its own, after the parallel tests: the hub keep-alive tests count pings in a 1.5 s window
/// and are thrown off when these tests warm up the serializer and libsodium on the same two cores.
/// </summary>
[CollectionDefinition(nameof(ProfileStoreTests), DisableParallelization = true)]
public sealed class ProfileStoreTestGroup;

[Collection(nameof(ProfileStoreTests))]
public sealed class ProfileStoreTests : IDisposable
{
    private const string DisplayName = "Kestrel-Lantern-Name";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "coordination-profile-tests", Guid.NewGuid().ToString("N"));

    private string ProfileDirectory => Path.Combine(_root, "profile");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public async Task Encrypted_profile_round_trips()
    {
        Profile original = NewProfile();
        using (ProfileStore created = await ProfileStore.CreateAsync(ProfileDirectory, Copy(original), Passphrase("correct horse"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
            Assert.True(created.IsEncrypted);
            Assert.Equal(Argon2idCost.Minimum, created.KdfCost);
        }

        using ProfileStore opened = await ProfileStore.OpenAsync(ProfileDirectory, Passphrase("correct horse")).WaitAsync(s_timeout);
        Assert.True(opened.IsEncrypted);
        AssertSameProfile(original, opened.Profile);
        Assert.True(await ProfileStore.IsEncryptedAsync(ProfileDirectory).WaitAsync(s_timeout));

        using DeviceIdentity identity = opened.ToIdentity();
        Assert.Equal(original.AccountId, identity.AccountId);
        Assert.Equal(original.DeviceId, identity.DeviceId);
        using Ed25519KeyPair account = Ed25519KeyPair.FromSeed(original.AccountSeed);
        Assert.Equal(account.PublicKey, identity.AccountKey.PublicKey);
    }

    [Fact]
    public async Task Unencrypted_profile_round_trips_and_says_so()
    {
        Profile original = NewProfile();
        using (ProfileStore created = await ProfileStore.CreateAsync(ProfileDirectory, Copy(original), passphrase: null).WaitAsync(s_timeout))
        {
            Assert.False(created.IsEncrypted);
            Assert.Null(created.KdfCost);
        }

        using ProfileStore opened = await ProfileStore.OpenAsync(ProfileDirectory, passphrase: null).WaitAsync(s_timeout);
        Assert.False(opened.IsEncrypted);
        AssertSameProfile(original, opened.Profile);
        Assert.False(await ProfileStore.IsEncryptedAsync(ProfileDirectory).WaitAsync(s_timeout));

        JsonNode file = JsonNode.Parse(await File.ReadAllBytesAsync(Path.Combine(ProfileDirectory, ProfileStore.FileName)))!;
        Assert.Equal(1, (int)file["format"]!);
        Assert.False((bool)file["encrypted"]!);
        Assert.Equal(original.AccountId, Guid.Parse((string)file["profile"]!["accountId"]!));
    }

    [Fact]
    public async Task Encrypted_file_has_the_documented_layout()
    {
        using (await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        JsonObject file = JsonNode.Parse(await File.ReadAllBytesAsync(Path.Combine(ProfileDirectory, ProfileStore.FileName)))!.AsObject();
        Assert.Equal(["format", "encrypted", "kdf", "nonce", "ciphertext"], file.Select(p => p.Key));
        Assert.Equal(1, (int)file["format"]!);
        Assert.True((bool)file["encrypted"]!);
        Assert.Equal("argon2id13", (string)file["kdf"]!["algorithm"]!);
        Assert.Equal(16, Convert.FromBase64String((string)file["kdf"]!["salt"]!).Length);
        Assert.Equal(Argon2idCost.Minimum.Operations, (ulong)file["kdf"]!["opsLimit"]!);
        Assert.Equal(Argon2idCost.Minimum.MemoryBytes, (long)file["kdf"]!["memLimit"]!);
        Assert.Equal(24, Convert.FromBase64String((string)file["nonce"]!).Length);
        Assert.NotEmpty(Convert.FromBase64String((string)file["ciphertext"]!));
    }

    [Fact]
    public async Task Wrong_passphrase_fails_clearly()
    {
        using (await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("right"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        ProfileException error = await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.OpenAsync(ProfileDirectory, Passphrase("wrong")).WaitAsync(s_timeout));
        Assert.Equal("wrong passphrase or damaged profile", error.Message);
    }

    [Fact]
    public async Task Encrypted_profile_without_a_passphrase_fails_clearly()
    {
        using (await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("right"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        ProfileException error = await Assert.ThrowsAsync<ProfilePassphraseRequiredException>(() => ProfileStore.OpenAsync(ProfileDirectory, passphrase: null).WaitAsync(s_timeout));
        Assert.Contains("passphrase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Encrypted_file_contains_no_key_bytes_and_no_display_name()
    {
        Profile profile = NewProfile();
        byte[][] secrets =
        [
            (byte[])profile.AccountSeed.Clone(), (byte[])profile.DeviceSigningSeed.Clone(),
            (byte[])profile.DeviceAgreementKey.Clone(), (byte[])profile.LocalStorageKey.Clone(),
        ];
        using (await ProfileStore.CreateAsync(ProfileDirectory, profile, Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        byte[] file = await File.ReadAllBytesAsync(Path.Combine(ProfileDirectory, ProfileStore.FileName));
        string text = Encoding.UTF8.GetString(file);
        foreach (byte[] secret in secrets)
        {
            // Raw, base64 and hex forms of each key, and any 8-byte window of it.
            Assert.False(Contains(file, secret), "A key appears raw in the file.");
            Assert.DoesNotContain(Convert.ToBase64String(secret), text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(secret), text, StringComparison.OrdinalIgnoreCase);
            for (int i = 0; i + 8 <= secret.Length; i++)
            {
                Assert.False(Contains(file, secret.AsSpan(i, 8)), "Part of a key appears raw in the file.");
            }
        }

        Assert.False(Contains(file, Encoding.UTF8.GetBytes(DisplayName)), "The display name appears in the file.");
        Assert.DoesNotContain(DisplayName, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(DisplayName)), text, StringComparison.Ordinal);
        Assert.DoesNotContain(profile.AccountId.ToString(), text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(profile.DeviceId.ToString(), text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);

        // No temporary file is left next to it.
        Assert.Equal([ProfileStore.FileName], Directory.GetFiles(ProfileDirectory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("nonce")]
    [InlineData("salt")]
    public async Task Tampered_file_fails(string field)
    {
        using (await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        string path = Path.Combine(ProfileDirectory, ProfileStore.FileName);
        JsonObject file = JsonNode.Parse(await File.ReadAllBytesAsync(path))!.AsObject();
        JsonObject holder = field == "salt" ? file["kdf"]!.AsObject() : file;
        byte[] bytes = Convert.FromBase64String((string)holder[field]!);
        bytes[bytes.Length / 2] ^= 0x01;
        holder[field] = Convert.ToBase64String(bytes);
        await File.WriteAllTextAsync(path, file.ToJsonString());

        ProfileException error = await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.OpenAsync(ProfileDirectory, Passphrase("pass")).WaitAsync(s_timeout));
        Assert.Equal("wrong passphrase or damaged profile", error.Message);
    }

    [Fact]
    public async Task Damaged_header_fails_without_deriving_a_key()
    {
        using (await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        string path = Path.Combine(ProfileDirectory, ProfileStore.FileName);
        JsonObject file = JsonNode.Parse(await File.ReadAllBytesAsync(path))!.AsObject();
        file["kdf"]!["memLimit"] = long.MaxValue;
        await File.WriteAllTextAsync(path, file.ToJsonString());
        await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.OpenAsync(ProfileDirectory, Passphrase("pass")).WaitAsync(s_timeout));

        await File.WriteAllTextAsync(path, "{ not json");
        await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.OpenAsync(ProfileDirectory, Passphrase("pass")).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Missing_profile_fails_clearly()
    {
        ProfileException error = await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.OpenAsync(ProfileDirectory, Passphrase("pass")).WaitAsync(s_timeout));
        Assert.Contains("no profile", error.Message, StringComparison.Ordinal);
        Assert.False(ProfileStore.Exists(ProfileDirectory));
    }

    [Fact]
    public async Task Create_refuses_to_overwrite_an_existing_profile()
    {
        Profile first = NewProfile();
        Guid firstAccount = first.AccountId;
        using (await ProfileStore.CreateAsync(ProfileDirectory, first, Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), passphrase: null).WaitAsync(s_timeout));
        using ProfileStore opened = await ProfileStore.OpenAsync(ProfileDirectory, Passphrase("pass")).WaitAsync(s_timeout);
        Assert.Equal(firstAccount, opened.Profile.AccountId);
    }

    [Fact]
    public async Task Save_writes_changes_under_the_same_passphrase_with_a_fresh_nonce()
    {
        string path = Path.Combine(ProfileDirectory, ProfileStore.FileName);
        using (ProfileStore store = await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
            string before = (string)JsonNode.Parse(await File.ReadAllBytesAsync(path))!["nonce"]!;
            store.Profile = store.Profile with { DisplayName = "renamed" };
            await store.SaveAsync().WaitAsync(s_timeout);
            Assert.NotEqual(before, (string)JsonNode.Parse(await File.ReadAllBytesAsync(path))!["nonce"]!);
        }

        using ProfileStore opened = await ProfileStore.OpenAsync(ProfileDirectory, Passphrase("pass")).WaitAsync(s_timeout);
        Assert.Equal("renamed", opened.Profile.DisplayName);
        Assert.Equal([ProfileStore.FileName], Directory.GetFiles(ProfileDirectory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Dispose_wipes_the_keys_it_holds()
    {
        ProfileStore store = await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("pass"), Argon2idCost.Minimum).WaitAsync(s_timeout);
        Profile profile = store.Profile;
        store.Dispose();
        Assert.All([profile.AccountSeed, profile.DeviceSigningSeed, profile.DeviceAgreementKey, profile.LocalStorageKey], key => Assert.All(key, b => Assert.Equal(0, b)));
        Assert.Throws<ObjectDisposedException>(() => store.Profile);
    }

    [Fact]
    public async Task Non_ascii_passphrases_work()
    {
        using (await ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), Passphrase("пароль на границе 🔑"), Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
        }

        using ProfileStore opened = await ProfileStore.OpenAsync(ProfileDirectory, Passphrase("пароль на границе 🔑")).WaitAsync(s_timeout);
        await Assert.ThrowsAsync<ProfileException>(() => ProfileStore.OpenAsync(ProfileDirectory, Passphrase("пароль на границе")).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Empty_passphrase_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => ProfileStore.CreateAsync(ProfileDirectory, NewProfile(), ReadOnlyMemory<char>.Empty, Argon2idCost.Minimum).WaitAsync(s_timeout));
        Assert.False(ProfileStore.Exists(ProfileDirectory));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Directory_is_0700_and_file_is_0600_on_unix(bool encrypted)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string nested = Path.Combine(ProfileDirectory, "nested");
        using (ProfileStore store = await ProfileStore.CreateAsync(nested, NewProfile(), encrypted ? Passphrase("pass") : null, Argon2idCost.Minimum).WaitAsync(s_timeout))
        {
            await store.SaveAsync().WaitAsync(s_timeout);
        }

        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(Owner | UnixFileMode.UserExecute, File.GetUnixFileMode(nested));
        Assert.Equal(Owner, File.GetUnixFileMode(Path.Combine(nested, ProfileStore.FileName)));
    }

    [Fact]
    public void Kdf_setting_names_the_presets()
    {
        Assert.Equal(Argon2idCost.Moderate, ProfileKdf.Parse(null));
        Assert.Equal(Argon2idCost.Moderate, ProfileKdf.Parse("moderate"));
        Assert.Equal(Argon2idCost.Interactive, ProfileKdf.Parse("Interactive"));
        Assert.Equal(Argon2idCost.Minimum, ProfileKdf.Parse("min"));
        Assert.Throws<ProfileException>(() => ProfileKdf.Parse("none"));
    }

    private static ReadOnlyMemory<char>? Passphrase(string text) => text.ToCharArray();

    private static Profile NewProfile()
    {
        using DeviceIdentity identity = DeviceIdentity.CreateAccount();
        identity.AccountId = Guid.NewGuid();
        identity.DeviceId = Guid.NewGuid();
        return Profile.FromIdentity(identity, new Uri("http://127.0.0.1:5080/"), DisplayName);
    }

    /// <summary>The store owns (and on dispose wipes) the profile it is given; tests compare against a copy.</summary>
    private static Profile Copy(Profile profile) => profile with
    {
        AccountSeed = (byte[])profile.AccountSeed.Clone(),
        DeviceSigningSeed = (byte[])profile.DeviceSigningSeed.Clone(),
        DeviceAgreementKey = (byte[])profile.DeviceAgreementKey.Clone(),
        LocalStorageKey = (byte[])profile.LocalStorageKey.Clone(),
    };

    private static void AssertSameProfile(Profile expected, Profile actual)
    {
        Assert.Equal(expected.FormatVersion, actual.FormatVersion);
        Assert.Equal(expected.ServerUrl, actual.ServerUrl);
        Assert.Equal(expected.AccountId, actual.AccountId);
        Assert.Equal(expected.DeviceId, actual.DeviceId);
        Assert.Equal(expected.AccountSeed, actual.AccountSeed);
        Assert.Equal(expected.DeviceSigningSeed, actual.DeviceSigningSeed);
        Assert.Equal(expected.DeviceAgreementKey, actual.DeviceAgreementKey);
        Assert.Equal(expected.DisplayName, actual.DisplayName);
        Assert.Equal(expected.LocalStorageKey, actual.LocalStorageKey);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
    }

    private static bool Contains(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle) >= 0;
}
