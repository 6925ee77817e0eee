using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Coordination.Client.Cells;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Intake;

/// <summary>
/// An intake team for the intake tests: a cell with an organizer, a member, a newcomer, and an
/// outsider with a cell of their own. The organizer makes the intake key pair on the device and
/// seals the private half under the cell key (protocol section 11); the member opens it with the
/// cell key from their own keyring, as the intake team does.
/// </summary>
public sealed class IntakeWorld : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly CancellationToken None = CancellationToken.None;

    private IntakeWorld(RelayFactory relay, CellMember organizer, CellMember member, CellMember newcomer, CellMember outsider, Guid cellId)
    {
        Relay = relay;
        Organizer = organizer;
        Member = member;
        Newcomer = newcomer;
        Outsider = outsider;
        CellId = cellId;
    }

    public RelayFactory Relay { get; }

    public CellMember Organizer { get; }

    public CellMember Member { get; }

    public CellMember Newcomer { get; }

    /// <summary>Organizer of a cell of their own, not in this one.</summary>
    public CellMember Outsider { get; }

    public Guid CellId { get; }

    public static async Task<IntakeWorld> CreateAsync(RelayFactory relay, ConversationKind kind = ConversationKind.Cell, DateTimeOffset? endsAt = null)
    {
        CellMember organizer = await CellMember.CreateAsync(relay);
        CellMember member = await CellMember.CreateAsync(relay);
        CellMember newcomer = await CellMember.CreateAsync(relay);
        CellMember outsider = await CellMember.CreateAsync(relay);
        CellView cell = await organizer.Cells.CreateAsync(kind, "Intake team", null, null, endsAt, None).WaitAsync(TestTimeouts.Default);
        await organizer.AdmitAsync(member, cell.CellId, MemberRole.Member);
        await organizer.AdmitAsync(newcomer, cell.CellId, MemberRole.Newcomer);
        await outsider.Cells.CreateAsync(ConversationKind.Cell, "Elsewhere", null, null, null, None).WaitAsync(TestTimeouts.Default);
        return new IntakeWorld(relay, organizer, member, newcomer, outsider, cell.CellId);
    }

    /// <summary>The intake private key sealed under the cell key, exactly as the contract says.</summary>
    public static byte[] SealPrivateKey(byte[] cellKey, Guid cellId, X25519KeyPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        byte[] privateKey = new byte[X25519KeyPair.PrivateKeySize];
        pair.ExportPrivateKey(privateKey);
        using SecretKey key = SecretKey.Import(cellKey);
        byte[] nonce = SecureRandom.Nonce();
        byte[] sealedKey = [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, privateKey, IntakeKeyAd(cellId, pair.PublicKey.ToArray()))];
        Array.Clear(privateKey);
        return sealedKey;
    }

    public static byte[] IntakeKeyAd(Guid cellId, byte[] publicKey) =>
        [.. Encoding.ASCII.GetBytes("coordination/v1/intake-key"), .. cellId.ToByteArray(bigEndian: true), .. publicKey];

    /// <summary>Opens an intake as the organizer (difficulty 8 keeps the tests fast).</summary>
    public Task<IntakeInfo> OpenIntakeAsync(int retentionDays = 30, int difficulty = 8) => OpenIntakeAsync(Relay, Organizer, CellId, retentionDays, difficulty);

    /// <summary>Opens an intake of <paramref name="cellId"/> as <paramref name="organizer"/>, with a key pair made here and its private half sealed under the cell key.</summary>
    public static async Task<IntakeInfo> OpenIntakeAsync(RelayFactory relay, CellMember organizer, Guid cellId, int retentionDays = 30, int difficulty = 8)
    {
        ArgumentNullException.ThrowIfNull(organizer);
        using X25519KeyPair pair = X25519KeyPair.Generate();
        byte[] cellKey = new CellKeyring(organizer.Store).Get(cellId)!.CellKey;
        OpenIntakeRequest request = new(pair.PublicKey.ToArray(), SealPrivateKey(cellKey, cellId, pair), retentionDays, difficulty);
        using HttpResponseMessage response = await SendAsync(relay, organizer, HttpMethod.Post, $"/api/v1/cells/{cellId}/intakes", request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<IntakeInfo>(Json).WaitAsync(TestTimeouts.Default))!;
    }

    /// <summary>An intake of <paramref name="cellId"/> with <paramref name="count"/> reports submitted anonymously; returns the intake and the reports' ids.</summary>
    public static async Task<(IntakeInfo Intake, List<Guid> Reports)> OpenWithReportsAsync(RelayFactory relay, CellMember organizer, Guid cellId, int count)
    {
        IntakeInfo intake = await OpenIntakeAsync(relay, organizer, cellId);
        using Reporter reporter = new(relay);
        for (int i = 0; i < count; i++)
        {
            using HttpResponseMessage submitted = await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/reports",
                new SealedReportRequest(await reporter.SolveAsync(intake.IntakeId), StandIn(intake.PublicKey), ReceiptPhrase.LookupSecret(ReceiptPhrase.Generate())));
            Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        }

        using HttpResponseMessage inbox = await SendAsync(relay, organizer, HttpMethod.Get, $"/api/v1/cells/{cellId}/intake-reports", null);
        List<InboxReport> reports = (await inbox.Content.ReadFromJsonAsync<List<InboxReport>>(Json).WaitAsync(TestTimeouts.Default))!;
        return (intake, [.. reports.Where(r => r.IntakeId == intake.IntakeId).Select(r => r.ReportId)]);
    }

    /// <summary>The intake key pair as a team member recovers it: the sealed private key opened with the cell key from their keyring.</summary>
    public X25519KeyPair IntakeKeyOf(CellMember teamMember, IntakeInfo intake)
    {
        ArgumentNullException.ThrowIfNull(teamMember);
        ArgumentNullException.ThrowIfNull(intake);
        byte[] cellKey = new CellKeyring(teamMember.Store).Get(CellId)!.CellKey;
        using SecretKey key = SecretKey.Import(cellKey);
        byte[] sealedKey = intake.SealedPrivateKey;
        Assert.True(XChaCha20Poly1305.TryDecrypt(key, sealedKey.AsSpan(0, 24), sealedKey.AsSpan(24), IntakeKeyAd(intake.CellId, intake.PublicKey), out byte[]? privateKey));
        X25519KeyPair pair = X25519KeyPair.FromPrivateKey(privateKey);
        Array.Clear(privateKey!);
        Assert.Equal(intake.PublicKey, pair.PublicKey.ToArray());
        return pair;
    }

    /// <summary>The inbox as <paramref name="teamMember"/> reads it.</summary>
    public async Task<List<InboxReport>> InboxAsync(CellMember teamMember)
    {
        using HttpResponseMessage response = await SendAsync(teamMember, HttpMethod.Get, $"/api/v1/cells/{CellId}/intake-reports", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<List<InboxReport>>(Json).WaitAsync(TestTimeouts.Default))!;
    }

    /// <summary>Submits a stand-in sealed report (one block) as <paramref name="reporter"/>; returns its id as the inbox lists it.</summary>
    public async Task<Guid> SubmitReportAsync(Reporter reporter, IntakeInfo intake, string? phrase = null)
    {
        ArgumentNullException.ThrowIfNull(reporter);
        ArgumentNullException.ThrowIfNull(intake);
        HashSet<Guid> before = [.. (await InboxAsync(Member)).Select(r => r.ReportId)];
        using HttpResponseMessage response = await reporter.PostAsync($"/api/v1/intakes/{intake.IntakeId}/reports",
            new SealedReportRequest(await reporter.SolveAsync(intake.IntakeId), StandIn(intake.PublicKey), ReceiptPhrase.LookupSecret(phrase ?? ReceiptPhrase.Generate())));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await InboxAsync(Member)).Single(r => !before.Contains(r.ReportId)).ReportId;
    }

    /// <summary>A padded, sealed stand-in report of one block.</summary>
    public static byte[] StandIn(byte[] publicKey) => SealedBox.Seal(Padding.Pad("{\"v\":1}"u8, 1024), X25519PublicKey.FromBytes(publicKey));

    /// <summary>Opens a sealed report with the intake key and removes the padding: the report's JSON.</summary>
    public static JsonElement OpenReport(X25519KeyPair intakeKey, byte[] sealedReport)
    {
        Assert.True(SealedBox.TryOpen(sealedReport, intakeKey, out byte[]? padded), "the team cannot open the sealed report");
        Assert.Equal(0, padded!.Length % 1024);
        Assert.True(Padding.TryUnpad(padded, 1024, out int length));
        using JsonDocument document = JsonDocument.Parse(padded.AsMemory(0, length));
        return document.RootElement.Clone();
    }

    /// <summary>A reply sealed under the receipt-derived key: nonce || XChaCha20-Poly1305(padded JSON, ad "coordination/v1/intake-reply").</summary>
    public static byte[] SealReply(string phrase, string text, DateOnly sentOn)
    {
        byte[] plaintext = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["v"] = 1,
            ["text"] = text,
            ["sentOn"] = sentOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        });
        using SecretKey key = SecretKey.Import(ReceiptPhrase.ReplyKey(phrase));
        byte[] nonce = SecureRandom.Nonce();
        return [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, Padding.Pad(plaintext, 256), Encoding.ASCII.GetBytes("coordination/v1/intake-reply"))];
    }

    /// <summary>The reply's text as the reporter reads it with the phrase, or null if it does not open.</summary>
    public static string? OpenReply(string phrase, byte[] sealedReply)
    {
        using SecretKey key = SecretKey.Import(ReceiptPhrase.ReplyKey(phrase));
        if (!XChaCha20Poly1305.TryDecrypt(key, sealedReply.AsSpan(0, 24), sealedReply.AsSpan(24), Encoding.ASCII.GetBytes("coordination/v1/intake-reply"), out byte[]? padded)
            || !Padding.TryUnpad(padded, 256, out int length))
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(padded.AsMemory(0, length));
        return document.RootElement.GetProperty("text").GetString();
    }

    /// <summary>A call as <paramref name="actor"/> (null: anonymous) on the real port.</summary>
    public Task<HttpResponseMessage> SendAsync(CellMember? actor, HttpMethod method, string path, object? body) => SendAsync(Relay, actor, method, path, body);

    public static async Task<HttpResponseMessage> SendAsync(RelayFactory relay, CellMember? actor, HttpMethod method, string path, object? body)
    {
        ArgumentNullException.ThrowIfNull(relay);
        using HttpClient http = relay.CreateRealClient();
        using HttpRequestMessage request = new(method, new Uri(path, UriKind.Relative));
        if (actor is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", actor.Device.Api.Token);
        }

        request.Content = body is null ? null : JsonContent.Create(body, body.GetType(), options: Json);
        HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Default);
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (CellMember member in new[] { Organizer, Member, Newcomer, Outsider })
        {
            await member.DisposeAsync();
        }
    }
}

/// <summary>
/// An anonymous reporter: no account, no token, a distinctive User-Agent the canary scans look
/// for, connecting from <see cref="RelayFactory.ClientAddress"/>.
/// </summary>
public sealed class Reporter : IDisposable
{
    public Reporter(RelayFactory relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        UserAgent = "ReporterAgent" + Guid.NewGuid().ToString("N")[..12];
        Http = relay.CreateRealClient();
        Http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent + "/2.0");
    }

    public HttpClient Http { get; }

    public string UserAgent { get; }

    public async Task<PowChallenge> ChallengeAsync(Guid intakeId)
    {
        using HttpResponseMessage response = await PostAsync($"/api/v1/intakes/{intakeId}/challenges", new { });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PowChallenge>(IntakeWorld.Json).WaitAsync(TestTimeouts.Default))!;
    }

    /// <summary>A fresh challenge, solved.</summary>
    public async Task<PowSolution> SolveAsync(Guid intakeId)
    {
        PowChallenge challenge = await ChallengeAsync(intakeId);
        return new PowSolution(challenge.ChallengeId, ProofOfWork.Solve(challenge.Nonce, challenge.Difficulty));
    }

    /// <summary>A counter that does not solve <paramref name="challenge"/>.</summary>
    public static ulong Unsolved(PowChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        ulong counter = 0;
        while (ProofOfWork.IsSolved(challenge.Nonce, counter, challenge.Difficulty))
        {
            counter++;
        }

        return counter;
    }

    public async Task<HttpResponseMessage> PostAsync(string path, object body)
    {
        using JsonContent content = JsonContent.Create(body, body.GetType(), options: IntakeWorld.Json);
        HttpResponseMessage response = await Http.PostAsync(new Uri(path, UriKind.Relative), content).WaitAsync(TestTimeouts.Default);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Default);
        return response;
    }

    public async Task<HttpResponseMessage> PostRawAsync(string path, string content, string mediaType = "application/json")
    {
        using StringContent body = new(content, Encoding.UTF8, mediaType);
        HttpResponseMessage response = await Http.PostAsync(new Uri(path, UriKind.Relative), body).WaitAsync(TestTimeouts.Default);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Default);
        return response;
    }

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(response);
        string body = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default);
        Assert.True(response.StatusCode == expected, $"expected {expected}, got {response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, IntakeWorld.Json)!;
    }

    /// <summary>A report sealed on the reporter's side, as the SDK and the page do it.</summary>
    public static byte[] SealReport(byte[] publicKey, string flow, string language, IReadOnlyDictionary<string, string> answers, string phrase, DateOnly submittedOn)
    {
        using MemoryStream buffer = new();
        using (Utf8JsonWriter json = new(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", 1);
            json.WriteString("flow", flow);
            json.WriteString("language", language);
            json.WriteStartObject("answers");
            foreach ((string step, string value) in answers)
            {
                json.WriteString(step, value);
            }

            json.WriteEndObject();
            json.WriteString("receipt", phrase);
            json.WriteString("submittedOn", submittedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        return SealedBox.Seal(Padding.Pad(buffer.ToArray(), 1024), X25519PublicKey.FromBytes(publicKey));
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>Scans of what the relay keeps: the database files and every line it logged.</summary>
public static class RelayScan
{
    /// <summary>Everything the database keeps at rest (see <see cref="RelayFactory.ReadStorage"/>).</summary>
    public static byte[] Storage(RelayFactory relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        return relay.ReadStorage();
    }

    /// <summary>Asserts that no secret is in the database files (as UTF-8, UTF-16 or raw bytes) or in the logs.</summary>
    public static void AssertAbsent(RelayFactory relay, IEnumerable<string> texts, IEnumerable<byte[]> raw)
    {
        ArgumentNullException.ThrowIfNull(relay);
        byte[] storage = Storage(relay);
        string logs = string.Join('\n', relay.Logs);
        Assert.NotEmpty(relay.Logs);
        foreach (string text in texts)
        {
            Assert.False(Contains(storage, Encoding.UTF8.GetBytes(text)), $"'{text}' was found in the database files");
            Assert.False(Contains(storage, Encoding.Unicode.GetBytes(text)), $"'{text}' was found (UTF-16) in the database files");
            Assert.DoesNotContain(text, logs, StringComparison.Ordinal);
        }

        foreach (byte[] bytes in raw)
        {
            Assert.False(Contains(storage, bytes), "a secret was found (raw bytes) in the database files");
            Assert.DoesNotContain(Convert.ToBase64String(bytes), logs, StringComparison.Ordinal);
        }
    }

    public static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    /// <summary>
    /// Whether any 256-byte piece of <paramref name="stored"/> (its start, its end) is in the
    /// database files. A report is longer than SQLite keeps in one page of a WITHOUT ROWID table,
    /// and than PostgreSQL keeps in one TOAST chunk, so its bytes are split and never found whole.
    /// </summary>
    public static bool ContainsPiece(byte[] haystack, byte[] stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return Contains(haystack, stored[..256]) || Contains(haystack, stored[^256..]);
    }
}
