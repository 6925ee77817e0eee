using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Tasks;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;

namespace Coordination.Client.Intake;

/// <summary>
/// A report in the intake team's inbox: the relay's facts and, if this device could open it, what
/// the reporter sent. When it could not, <see cref="Failure"/> says why and <see cref="Content"/>
/// is null: a report that does not open is shown as such, never dropped.
/// </summary>
public sealed record IntakeReportView(
    Guid ReportId,
    Guid IntakeId,
    Guid CellId,
    DateOnly ReceivedOn,
    DateTimeOffset ExpiresAt,
    ReportState State,
    int Replies,
    IntakeReportContent? Content,
    string? Failure);

/// <summary>
/// The intake team's side of the anonymous intake (protocol section 11), for members and organizers
/// of a cell on this device: opens an intake (its X25519 key pair is made here; the private half
/// reaches the relay only sealed under the cell key), reads the inbox (opening every report on this
/// device), triages, replies under the key derived from the report's receipt, turns a report into a
/// task (sealed under the cell key by <see cref="TaskClient"/>) and deletes.
/// </summary>
public sealed class IntakeTeamClient(CellClient cells)
{
    public const int MinRetentionDays = 1;
    public const int MaxRetentionDays = 90;
    public const int MinPowDifficulty = 8;
    public const int MaxPowDifficulty = 28;

    /// <summary>Task content is sealed into at most this many bytes (the relay's limit); a long report is cut to fit.</summary>
    private const int MaxTaskContentJson = Limits.MaxSealedEventBytes - 24 - 16 - 256 - 1;

    private static readonly JsonSerializerOptions s_taskJson = new(JsonSerializerDefaults.Web);

    private readonly CellClient _cells = cells ?? throw new ArgumentNullException(nameof(cells));

    private RelayApi Api => _cells.Api;

    /// <summary>Opens an intake for <paramref name="cellId"/> (organizers). Its web page is <c>/intake/{IntakeId}</c>.</summary>
    public async Task<IntakeInfo> OpenAsync(Guid cellId, int retentionDays, int powDifficulty, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retentionDays, MinRetentionDays);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(retentionDays, MaxRetentionDays);
        ArgumentOutOfRangeException.ThrowIfLessThan(powDifficulty, MinPowDifficulty);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(powDifficulty, MaxPowDifficulty);
        byte[] cellKey = CellKey(cellId);
        using X25519KeyPair intakeKey = X25519KeyPair.Generate();
        byte[] sealedPrivateKey = IntakeFormat.SealIntakeKey(cellKey, cellId, intakeKey);
        return await Api.OpenIntakeAsync(cellId, new OpenIntakeRequest(intakeKey.PublicKey.ToArray(), sealedPrivateKey, retentionDays, powDifficulty), ct).ConfigureAwait(false);
    }

    public Task<List<IntakeInfo>> ListIntakesAsync(Guid cellId, CancellationToken ct) => Api.ListIntakesAsync(cellId, ct);

    /// <summary>
    /// The cell's reports, each opened on this device: the intake's private key from its sealed form
    /// with the cell key, then the sealed box, the padding and the JSON. Every report that does not
    /// open is listed with its <see cref="IntakeReportView.Failure"/>.
    /// </summary>
    public async Task<List<IntakeReportView>> InboxAsync(Guid cellId, CancellationToken ct)
    {
        // The relay first: for someone outside the cell its refusal says more than a missing key.
        List<IntakeInfo> intakes = await Api.ListIntakesAsync(cellId, ct).ConfigureAwait(false);
        List<InboxReport> reports = await Api.ListIntakeReportsAsync(cellId, ct).ConfigureAwait(false);
        byte[] cellKey = CellKey(cellId);
        Dictionary<Guid, (X25519KeyPair? Key, string? Failure)> keys = [];
        try
        {
            List<IntakeReportView> views = new(reports.Count);
            foreach (InboxReport report in reports)
            {
                if (!keys.TryGetValue(report.IntakeId, out (X25519KeyPair? Key, string? Failure) key))
                {
                    IntakeInfo? intake = intakes.FirstOrDefault(i => i.IntakeId == report.IntakeId && i.CellId == cellId);
                    key = intake is null
                        ? (null, $"the relay lists this report under intake {report.IntakeId}, which is not one of this cell's intakes")
                        : (IntakeFormat.OpenIntakeKey(cellKey, cellId, intake.PublicKey, intake.SealedPrivateKey, out string? keyFailure), keyFailure);
                    keys[report.IntakeId] = key;
                }

                IntakeReportContent? content = null;
                string? failure = key.Failure;
                if (key.Key is not null)
                {
                    content = IntakeFormat.OpenReport(report.SealedReport, key.Key, out failure);
                }

                views.Add(new IntakeReportView(report.ReportId, report.IntakeId, cellId, DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(report.ReceivedOn).UtcDateTime),
                    DateTimeOffset.FromUnixTimeMilliseconds(report.ExpiresAt), report.State, report.Replies, content, failure));
            }

            return views;
        }
        finally
        {
            foreach ((X25519KeyPair? key, _) in keys.Values)
            {
                key?.Dispose();
            }
        }
    }

    /// <summary>One report of the cell's inbox, opened on this device; a 404 <see cref="RelayApiException"/> if the inbox has no such report.</summary>
    public async Task<IntakeReportView> GetAsync(Guid cellId, Guid reportId, CancellationToken ct) =>
        (await InboxAsync(cellId, ct).ConfigureAwait(false)).FirstOrDefault(r => r.ReportId == reportId)
        ?? throw new RelayApiException(HttpStatusCode.NotFound, $"No report {reportId} in the intake inbox of cell {cellId}.");

    public Task TriageAsync(Guid reportId, ReportState state, CancellationToken ct) => Api.TriageIntakeReportAsync(reportId, new TriageRequest(state), ct);

    /// <summary>
    /// Replies to the reporter: sealed under the key derived from the receipt phrase inside the
    /// report, which only the reporter and the intake team know.
    /// </summary>
    public Task ReplyAsync(IntakeReportView report, string text, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        IntakeReportContent content = Readable(report);
        string receipt = ReceiptPhrase.Normalize(content.Receipt)
            ?? throw new InvalidOperationException($"Report {report.ReportId} carries no valid receipt phrase, so no reply can reach its reporter.");
        byte[] key = ReceiptPhrase.ReplyKey(receipt);
        try
        {
            byte[] sealedReply = IntakeFormat.SealReply(key, text.Trim(), DateOnly.FromDateTime(DateTime.UtcNow));
            return Api.ReplyToIntakeReportAsync(report.ReportId, new ReplyRequest(sealedReply), ct);
        }
        finally
        {
            Array.Clear(key);
        }
    }

    public Task DeleteAsync(Guid reportId, CancellationToken ct) => Api.DeleteIntakeReportAsync(reportId, ct);

    /// <summary>
    /// Turns a report into a task of its cell: the title and description are made here from the
    /// report's answers (labelled with the flow's questions when the relay serves the flows) and
    /// sealed under the cell key by <see cref="TaskClient"/>; the relay never sees them. A long
    /// report is cut to fit a task, with a note that the whole report is in the inbox.
    /// </summary>
    public async Task<TaskView> ToTaskAsync(IntakeReportView report, RiskLevel risk, IEnumerable<string> tags, int people, DateTimeOffset? due, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(tags);
        IntakeReportContent content = Readable(report);
        IntakeFlow? flow = null;
        try
        {
            flow = IntakeFlowsDocument.Parse(await Api.GetIntakeFlowsAsync(report.IntakeId, ct).ConfigureAwait(false)).Find(content.Flow);
        }
        catch (Exception ex) when (ex is RelayApiException or JsonException or InvalidDataException)
        {
            // Without the flows the task still says everything, labelled by step ids instead of questions.
        }

        (string title, string body) = TaskText(report, content, flow);
        return await new TaskClient(_cells).CreateAsync(report.CellId, risk, title, body, tags, people, due, ct).ConfigureAwait(false);
    }

    /// <summary>The title and description of the task made from a report, in English where the flow has it.</summary>
    public static (string Title, string Body) TaskText(IntakeReportView report, IntakeReportContent content, IntakeFlow? flow)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(content);
        const string language = "en";
        string? mainStep = flow?.MainTextStep?.Id ?? content.Answers.Keys.FirstOrDefault();
        string main = mainStep is not null && content.Answers.TryGetValue(mainStep, out string? text) ? text : string.Empty;
        string firstLine = main.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty;
        string snippet = firstLine.Length > 80 ? firstLine[..80].TrimEnd() + "…" : firstLine;
        string flowTitle = IntakeText.In(flow?.Title, language) ?? content.Flow;
        string title = snippet.Length == 0 ? $"{flowTitle} (report {report.ReportId})" : $"{flowTitle}: {snippet}";

        StringBuilder body = new();
        body.Append(CultureInfo.InvariantCulture, $"From intake report {report.ReportId}, received {report.ReceivedOn:yyyy-MM-dd}, written in '{content.Language}'.\n");
        IEnumerable<string> order = flow is null
            ? content.Answers.Keys
            : [.. flow.Steps.Select(s => s.Id).Where(content.Answers.ContainsKey), .. content.Answers.Keys.Where(k => flow.Step(k) is null)];
        foreach (string id in order)
        {
            string value = content.Answers[id];
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            IntakeStep? step = flow?.Step(id);
            if (step?.Answer.Kind == IntakeStep.Consent)
            {
                continue;
            }

            string question = IntakeText.In(step?.Question, language) ?? id;
            body.Append(CultureInfo.InvariantCulture, $"\n{question}\n{step?.Describe(value, language) ?? value}\n");
        }

        return (title, FitTask(title, body.ToString(), report.ReportId));
    }

    private static string FitTask(string title, string body, Guid reportId)
    {
        if (TaskJsonLength(title, body) <= MaxTaskContentJson)
        {
            return body;
        }

        string note = $"\n… (cut to fit a task; the whole report is {reportId} in the intake inbox)";
        int low = 0;
        int high = body.Length;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (TaskJsonLength(title, Cut(body, middle) + note) <= MaxTaskContentJson)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return Cut(body, low) + note;
    }

    // Never split a surrogate pair.
    private static string Cut(string text, int length) => length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]) ? text[..(length - 1)] : text[..length];

    private static int TaskJsonLength(string title, string body) => JsonSerializer.SerializeToUtf8Bytes(new TaskContent(title, body), s_taskJson).Length;

    private static IntakeReportContent Readable(IntakeReportView report) =>
        report.Content ?? throw new InvalidOperationException($"Report {report.ReportId} could not be read on this device: {report.Failure}.");

    private byte[] CellKey(Guid cellId) =>
        _cells.Keyring.Get(cellId)?.CellKey ?? throw new InvalidOperationException("This device does not hold the cell's key; join the cell on this device first.");
}
