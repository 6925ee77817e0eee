using System.Text;
using System.Text.Json;
using Coordination.Crypto;

namespace Coordination.Client.Messaging;

/// <summary>A message as kept on the device after decryption (or a record that it could not be read).</summary>
public sealed record StoredMessage(
    Guid ConversationId,
    long Seq,
    Guid MessageId,
    Guid SenderAccountId,
    Guid SenderDeviceId,
    long SentAt,
    string? Text,
    bool Outgoing,
    string? Failure);

/// <summary>
/// The device's message history and group key state, encrypted at rest with the profile's local
/// storage key: one XChaCha20-Poly1305 record per line, so a seized device without the passphrase
/// shows only ciphertext. Duplicates (by message id) are kept once.
/// </summary>
public sealed class LocalMessageStore : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private static readonly byte[] s_messagesAd = Encoding.ASCII.GetBytes("coordination/v1/history");
    private static readonly byte[] s_stateAd = Encoding.ASCII.GetBytes("coordination/v1/group-state");

    private readonly SecretKey _key;
    private readonly string _messagesPath;
    private readonly string _statePath;
    private readonly string _directory;
    private readonly List<StoredMessage> _messages = [];
    private readonly HashSet<Guid> _seen = [];
    private readonly Lock _gate = new();

    private LocalMessageStore(SecretKey key, string directory)
    {
        _key = key;
        _directory = directory;
        _messagesPath = Path.Combine(directory, "history.enc");
        _statePath = Path.Combine(directory, "group-state.enc");
    }

    /// <summary>Opens (or creates) the store in <paramref name="directory"/> under a 32-byte storage key.</summary>
    public static LocalMessageStore Open(string directory, ReadOnlySpan<byte> storageKey)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        LocalMessageStore store = new(SecretKey.Import(storageKey), directory);
        store.Load();
        return store;
    }

    public IReadOnlyList<StoredMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public bool Contains(Guid messageId)
    {
        lock (_gate)
        {
            return _seen.Contains(messageId);
        }
    }

    /// <summary>Appends the message durably (fsync) unless its id is already stored; true if it was new.</summary>
    public bool Add(StoredMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_gate)
        {
            if (!_seen.Add(message.MessageId))
            {
                return false;
            }

            byte[] line = Encoding.ASCII.GetBytes(Seal(JsonSerializer.SerializeToUtf8Bytes(message, s_json), s_messagesAd) + "\n");
            using (FileStream file = new(_messagesPath, PrivateFile(FileMode.Append)))
            {
                file.Write(line);
                file.Flush(flushToDisk: true);
            }

            _messages.Add(message);
            return true;
        }
    }

    /// <summary>Saves opaque state (group chains) encrypted, replacing the previous version atomically.</summary>
    public void SaveState(byte[] state) => SaveRecord(_statePath, state, s_stateAd);

    public byte[]? LoadState() => LoadRecord(_statePath, s_stateAd, "group key state");

    /// <summary>
    /// Saves another encrypted record next to the history (<c>{name}.enc</c>, associated data
    /// <c>coordination/v1/{name}</c>), replacing the previous version atomically. The array is wiped.
    /// </summary>
    public void SaveRecord(string name, byte[] content)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        SaveRecord(Path.Combine(_directory, name + ".enc"), content, Encoding.ASCII.GetBytes("coordination/v1/" + name));
    }

    public byte[]? LoadRecord(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return LoadRecord(Path.Combine(_directory, name + ".enc"), Encoding.ASCII.GetBytes("coordination/v1/" + name), name);
    }

    public void Dispose() => _key.Dispose();

    private void Load()
    {
        if (!File.Exists(_messagesPath))
        {
            return;
        }

        foreach (string line in File.ReadLines(_messagesPath))
        {
            if (line.Length == 0)
            {
                continue;
            }

            byte[] json = Open(line, s_messagesAd) ?? throw new InvalidDataException("The local history is damaged or was written under another key.");
            StoredMessage? message = JsonSerializer.Deserialize<StoredMessage>(json, s_json);
            Array.Clear(json);
            if (message is not null && _seen.Add(message.MessageId))
            {
                _messages.Add(message);
            }
        }
    }

    private void SaveRecord(string path, byte[] content, byte[] ad)
    {
        ArgumentNullException.ThrowIfNull(content);
        string temporary = path + ".tmp";
        byte[] line = Encoding.ASCII.GetBytes(Seal(content, ad));
        using (FileStream file = new(temporary, PrivateFile(FileMode.Create)))
        {
            file.Write(line);
            file.Flush(flushToDisk: true);
        }

        // Durable before it replaces the old version: a crash leaves one or the other, whole.
        File.Move(temporary, path, overwrite: true);
        Array.Clear(content);
    }

    private byte[]? LoadRecord(string path, byte[] ad, string what)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        return Open(File.ReadAllText(path).Trim(), ad)
            ?? throw new InvalidDataException($"The local {what} is damaged or was written under another key.");
    }

    /// <summary>Files only the owner may read or write (0600), whatever the umask.</summary>
    private static FileStreamOptions PrivateFile(FileMode mode)
    {
        FileStreamOptions options = new() { Mode = mode, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private string Seal(byte[] plaintext, byte[] ad)
    {
        byte[] nonce = SecureRandom.Nonce();
        byte[] ciphertext = XChaCha20Poly1305.Encrypt(_key, nonce, plaintext, ad);
        Array.Clear(plaintext);
        return Convert.ToBase64String([.. nonce, .. ciphertext]);
    }

    private byte[]? Open(string line, byte[] ad)
    {
        byte[] record = Convert.FromBase64String(line);
        if (record.Length < XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            return null;
        }

        return XChaCha20Poly1305.TryDecrypt(_key, record.AsSpan(0, XChaCha20Poly1305.NonceSize), record.AsSpan(XChaCha20Poly1305.NonceSize), ad, out byte[]? plaintext)
            ? plaintext
            : null;
    }
}
