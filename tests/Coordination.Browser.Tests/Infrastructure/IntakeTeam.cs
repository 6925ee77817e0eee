using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Browser.Tests.Infrastructure;

/// <summary>
/// The intake team of the browser tests: one organizer with a real account and device, a cell made
/// with the SDK's <see cref="CellClient"/>, and an intake whose X25519 key pair is made here and
/// whose private half reaches the relay only sealed under the cell key (protocol section 11). The
/// team reads and answers reports over the REST routes of the intake contract, opening and sealing
/// everything itself, so what the page writes is checked against the format, not against a helper
/// that shares its mistakes.
/// </summary>
public sealed class IntakeTeam : IAsyncDisposable
{
    public const string ReplyAd = "coordination/v1/intake-reply";
    public const int ReportBlock = 1024;
    public const int ReplyBlock = 256;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly string _storeDirectory;

    private IntakeTeam(RelayApi api, DeviceIdentity identity, LocalMessageStore store, string storeDirectory, CellView cell, X25519KeyPair intakeKey, IntakeInfo intake)
    {
        Api = api;
        Identity = identity;
        Store = store;
        _storeDirectory = storeDirectory;
        Cell = cell;
        IntakeKey = intakeKey;
        Intake = intake;
    }

    public RelayApi Api { get; }

    public DeviceIdentity Identity { get; }

    public LocalMessageStore Store { get; }

    public CellView Cell { get; }

    public X25519KeyPair IntakeKey { get; }

    public IntakeInfo Intake { get; }

    public Guid IntakeId => Intake.IntakeId;

    /// <summary>Registers an organizer, creates a cell with the SDK and opens an intake for it.</summary>
    public static async Task<IntakeTeam> OpenAsync(RelayFactory relay, int powDifficulty, int retentionDays = 30)
    {
        ArgumentNullException.ThrowIfNull(relay);
        RelayApi api = new(relay.CreateRealClient());
        DeviceIdentity identity = DeviceIdentity.CreateAccount();
        await api.RegisterAccountAsync(identity).WaitAsync(TestTimeouts.Default);
        await api.LoginAsync(identity).WaitAsync(TestTimeouts.Default);

        // The organizer's device store is not the relay's: it stays out of the relay's data directory.
        string storeDirectory = Path.Combine(Path.GetTempPath(), "coordination-browser-tests", Guid.NewGuid().ToString("N"));
        LocalMessageStore store = LocalMessageStore.Open(storeDirectory, SecureRandom.Bytes(32));
        CellClient cells = new(identity, api, store);
        CellView cell = await cells.CreateAsync(ConversationKind.Cell, "Intake team", "reads the anonymous intake", "Organizer", null, CancellationToken.None)
            .WaitAsync(TestTimeouts.Default);

        X25519KeyPair intakeKey = X25519KeyPair.Generate();
        byte[] publicKey = intakeKey.PublicKey.ToArray();
        byte[] sealedPrivateKey = SealPrivateKey(CellKey(store, cell.CellId), cell.CellId, intakeKey);
        IntakeInfo intake = await SendAsync<IntakeInfo>(api, HttpMethod.Post, $"api/v1/cells/{cell.CellId}/intakes",
            new OpenIntakeRequest(publicKey, sealedPrivateKey, retentionDays, powDifficulty), HttpStatusCode.Created);
        Assert.Equal(cell.CellId, intake.CellId);
        Assert.Equal(publicKey, intake.PublicKey);
        return new IntakeTeam(api, identity, store, storeDirectory, cell, intakeKey, intake);
    }

    /// <summary>
    /// nonce(24) || XChaCha20-Poly1305(cellKey, private key, ad = "coordination/v1/intake-key" ||
    /// cellId (16 bytes, big-endian) || publicKey (32)).
    /// </summary>
    public static byte[] SealPrivateKey(byte[] cellKey, Guid cellId, X25519KeyPair intakeKey)
    {
        ArgumentNullException.ThrowIfNull(intakeKey);
        byte[] ad = [.. Encoding.ASCII.GetBytes("coordination/v1/intake-key"), .. cellId.ToByteArray(bigEndian: true), .. intakeKey.PublicKey.Bytes];
        byte[] privateKey = new byte[X25519KeyPair.PrivateKeySize];
        try
        {
            intakeKey.ExportPrivateKey(privateKey);
            using SecretKey key = SecretKey.Import(cellKey);
            byte[] nonce = SecureRandom.Nonce();
            return [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, privateKey, ad)];
        }
        finally
        {
            Array.Clear(privateKey);
        }
    }

    /// <summary>The reports in the team's inbox (GET /api/v1/cells/{cellId}/intake-reports).</summary>
    public Task<List<InboxReport>> InboxAsync() =>
        SendAsync<List<InboxReport>>(Api, HttpMethod.Get, $"api/v1/cells/{Cell.CellId}/intake-reports", null, HttpStatusCode.OK);

    /// <summary>Opens a sealed report with the intake's private key, unpads it and parses its JSON.</summary>
    public JsonDocument Open(byte[] sealedReport)
    {
        Assert.True(SealedBox.TryOpen(sealedReport, IntakeKey, out byte[]? padded), "The sealed report does not open with the intake's private key.");
        Assert.True(Padding.TryUnpad(padded, ReportBlock, out int length), $"The report is not padded to a multiple of {ReportBlock} bytes (sodium_pad).");
        return JsonDocument.Parse(padded.AsMemory(0, length));
    }

    /// <summary>
    /// Seals a reply as the contract says (JSON padded to 256, nonce(24) || XChaCha20-Poly1305 under
    /// the receipt's reply key, ad "coordination/v1/intake-reply") and posts it.
    /// </summary>
    public async Task ReplyAsync(Guid reportId, string receipt, string text)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new { v = 1, text, sentOn = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) });
        byte[] padded = Padding.Pad(json, ReplyBlock);
        using SecretKey key = SecretKey.Import(ReceiptPhrase.ReplyKey(receipt));
        byte[] nonce = SecureRandom.Nonce();
        byte[] sealedReply = [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, padded, Encoding.ASCII.GetBytes(ReplyAd))];
        using HttpResponseMessage response = await RawAsync(Api, HttpMethod.Post, $"api/v1/intake-reports/{reportId}/replies", new ReplyRequest(sealedReply));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Posting a reply answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default)}");
    }

    public async ValueTask DisposeAsync()
    {
        IntakeKey.Dispose();
        Store.Dispose();
        Identity.Dispose();
        Api.Dispose();
        try
        {
            Directory.Delete(_storeDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        await Task.CompletedTask;
    }

    private static byte[] CellKey(LocalMessageStore store, Guid cellId)
    {
        // The SDK keeps its cell keys in the encrypted record "cells" (CellKeyring).
        byte[] record = store.LoadRecord("cells") ?? throw new InvalidOperationException("The organizer's device has no cell keyring.");
        Dictionary<Guid, CellKeyringEntry> entries = JsonSerializer.Deserialize<Dictionary<Guid, CellKeyringEntry>>(record, s_json)!;
        return entries[cellId].CellKey;
    }

    private static async Task<T> SendAsync<T>(RelayApi api, HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using HttpResponseMessage response = await RawAsync(api, method, path, body);
        string text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default);
        Assert.True(response.StatusCode == expected, $"{method} {path} answered {(int)response.StatusCode}, not {(int)expected}: {text}");
        return JsonSerializer.Deserialize<T>(text, s_json)!;
    }

    private static async Task<HttpResponseMessage> RawAsync(RelayApi api, HttpMethod method, string path, object? body)
    {
        using HttpRequestMessage request = new(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", api.Token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: s_json);
        }

        return await api.Http.SendAsync(request).WaitAsync(TestTimeouts.Default);
    }
}
