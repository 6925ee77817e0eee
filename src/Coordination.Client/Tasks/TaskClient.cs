using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Tasks;

/// <summary>What a task says, sealed under the cell key: the relay never reads it.</summary>
public sealed record TaskContent(string Title, string? Body);

/// <summary>A task as this device sees it: the relay's facts and the decrypted content.</summary>
public sealed record TaskView(
    Guid TaskId,
    Guid CellId,
    RiskLevel Risk,
    string Title,
    string? Body,
    int RequiredTags,
    int PeopleNeeded,
    DateTimeOffset? Deadline,
    TaskState State,
    Guid ThreadId,
    IReadOnlyList<AssignmentInfo> Assignments);

/// <summary>
/// Tasks in cells (protocol section 10): the content is sealed under the cell key, capability tags
/// are keyed hashes of their names under a key derived from the cell key, so the relay can match
/// them without knowing what they mean.
/// </summary>
public sealed class TaskClient(CellClient cells)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private RelayApi Api => cells.Api;

    /// <summary>The opaque tag for <paramref name="name"/> in this cell: BLAKE2b-256 keyed with KDF(cellKey, 1, "captagsk") over the lower-cased, trimmed name.</summary>
    public byte[] Tag(Guid cellId, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using SecretKey cellKey = SecretKey.Import(CellKey(cellId));
        using SecretKey tagKey = SubkeyDerivation.DeriveSubkey(cellKey, 1, "captagsk");
        return Blake2b.KeyedHash(tagKey, Encoding.UTF8.GetBytes(name.Trim().ToLowerInvariant()), TaskTagBytes);
    }

    public async Task<TaskView> CreateAsync(Guid cellId, RiskLevel risk, string title, string? body, IEnumerable<string> needs, int people, DateTimeOffset? due, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        ArgumentNullException.ThrowIfNull(needs);
        Guid taskId = Guid.NewGuid();
        byte[] sealedContent = Seal(cellId, taskId, new TaskContent(title.Trim(), string.IsNullOrWhiteSpace(body) ? null : body.Trim()));
        TaskInfo info = await Api.CreateTaskAsync(cellId, new CreateTaskRequest(risk, [.. needs.Select(n => Tag(cellId, n))], people, due?.ToUnixTimeMilliseconds(), sealedContent, taskId), ct);
        return View(info);
    }

    public async Task<List<TaskView>> ListAsync(Guid cellId, CancellationToken ct) => [.. (await Api.ListTasksAsync(cellId, ct)).Select(View)];

    public async Task<TaskView> GetAsync(Guid taskId, CancellationToken ct) => View(await Api.GetTaskAsync(taskId, ct));

    public async Task<TaskView> OfferAsync(Guid taskId, Guid membershipId, CancellationToken ct) =>
        View(await Api.OfferTaskAsync(taskId, new OfferTaskRequest(membershipId), ct));

    public async Task<TaskView> AcceptAsync(Guid taskId, CancellationToken ct) => View(await Api.MoveTaskAsync(taskId, "accept", ct));

    public async Task<TaskView> DeclineAsync(Guid taskId, CancellationToken ct) => View(await Api.MoveTaskAsync(taskId, "decline", ct));

    public async Task<TaskView> WithdrawAsync(Guid taskId, CancellationToken ct) => View(await Api.MoveTaskAsync(taskId, "withdraw", ct));

    public async Task<TaskView> DoneAsync(Guid taskId, CancellationToken ct) => View(await Api.MoveTaskAsync(taskId, "done", ct));

    public async Task<TaskView> CancelAsync(Guid taskId, CancellationToken ct) => View(await Api.MoveTaskAsync(taskId, "cancel", ct));

    public async Task<TaskView> HandOverAsync(Guid taskId, Guid toMembershipId, Guid? fromMembershipId, CancellationToken ct) =>
        View(await Api.HandOverTaskAsync(taskId, new HandOverTaskRequest(toMembershipId, fromMembershipId), ct));

    public Task<List<TaskSuggestion>> SuggestAsync(Guid taskId, CancellationToken ct) => Api.SuggestAssigneesAsync(taskId, ct);

    /// <summary>Sets a membership's capability tags by name; only the keyed hashes reach the relay.</summary>
    public Task SetTagsAsync(Guid cellId, Guid membershipId, IEnumerable<string> names, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(names);
        return Api.SetTagsAsync(cellId, membershipId, [.. names.Select(n => Tag(cellId, n))], ct);
    }

    private const int TaskTagBytes = 32;

    private byte[] CellKey(Guid cellId) =>
        cells.Keyring.Get(cellId)?.CellKey ?? throw new InvalidOperationException("This device does not hold the cell's key; join the cell on this device first.");

    /// <summary>"coordination/v1/task" || cellId || taskId: the content belongs to this task of this cell and no other.</summary>
    private static byte[] Ad(Guid cellId, Guid taskId) => [.. "coordination/v1/task"u8.ToArray(), .. cellId.ToByteArray(bigEndian: true), .. taskId.ToByteArray(bigEndian: true)];

    private byte[] Seal(Guid cellId, Guid taskId, TaskContent content)
    {
        using SecretKey key = SecretKey.Import(CellKey(cellId));
        byte[] nonce = SecureRandom.Nonce();
        byte[] padded = Padding.Pad(JsonSerializer.SerializeToUtf8Bytes(content, s_json), 256);
        return [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, padded, Ad(cellId, taskId))];
    }

    private TaskContent? Open(Guid cellId, Guid taskId, byte[] sealedContent)
    {
        byte[]? cellKey = cells.Keyring.Get(cellId)?.CellKey;
        if (cellKey is null || sealedContent.Length < XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            return null;
        }

        using SecretKey key = SecretKey.Import(cellKey);
        if (!XChaCha20Poly1305.TryDecrypt(key, sealedContent.AsSpan(0, XChaCha20Poly1305.NonceSize), sealedContent.AsSpan(XChaCha20Poly1305.NonceSize), Ad(cellId, taskId), out byte[]? padded)
            || !Padding.TryUnpad(padded, 256, out int length))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<TaskContent>(padded.AsSpan(0, length), s_json);
        }
        catch (JsonException)
        {
            // Decrypts but is not a task: shown as unreadable, not a crash.
            return null;
        }
    }

    private TaskView View(TaskInfo info)
    {
        TaskContent? content = Open(info.CellId, info.TaskId, info.SealedContent);
        return new TaskView(info.TaskId, info.CellId, info.Risk, content?.Title ?? "(unreadable on this device)", content?.Body, info.RequiredTags.Count, info.PeopleNeeded,
            info.Deadline is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null, info.State, info.ThreadId, info.Assignments);
    }
}
