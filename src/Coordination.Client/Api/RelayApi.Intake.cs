using System.Text.Json;
using Coordination.Protocol;

namespace Coordination.Client.Api;

/// <summary>
/// The anonymous intake (protocol section 11): the intake team's routes (a logged-in member of the
/// cell) and the reporter's routes (no login: a <see cref="RelayApi"/> that never logs in sends no
/// credentials at all).
/// </summary>
public sealed partial class RelayApi
{
    // The intake team.
    public Task<IntakeInfo> OpenIntakeAsync(Guid cellId, OpenIntakeRequest request, CancellationToken ct = default) =>
        PostAsync<IntakeInfo>($"api/v1/cells/{cellId}/intakes", request, ct);

    public Task<List<IntakeInfo>> ListIntakesAsync(Guid cellId, CancellationToken ct = default) => GetAsync<List<IntakeInfo>>($"api/v1/cells/{cellId}/intakes", ct);

    public Task<List<InboxReport>> ListIntakeReportsAsync(Guid cellId, CancellationToken ct = default) =>
        GetAsync<List<InboxReport>>($"api/v1/cells/{cellId}/intake-reports", ct);

    public Task TriageIntakeReportAsync(Guid reportId, TriageRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"api/v1/intake-reports/{reportId}", request, ct);

    public Task ReplyToIntakeReportAsync(Guid reportId, ReplyRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/intake-reports/{reportId}/replies", request, ct);

    public Task DeleteIntakeReportAsync(Guid reportId, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, $"api/v1/intake-reports/{reportId}", null, ct);

    // The reporter (anonymous).
    public Task<PublicIntake> GetPublicIntakeAsync(Guid intakeId, CancellationToken ct = default) => GetAsync<PublicIntake>($"api/v1/intakes/{intakeId}", ct);

    /// <summary>The intake's flows document (seeds/intake-flows.json as this intake serves it), unparsed.</summary>
    public Task<JsonElement> GetIntakeFlowsAsync(Guid intakeId, CancellationToken ct = default) => GetAsync<JsonElement>($"api/v1/intakes/{intakeId}/flows", ct);

    public Task<PowChallenge> CreatePowChallengeAsync(Guid intakeId, CancellationToken ct = default) =>
        PostAsync<PowChallenge>($"api/v1/intakes/{intakeId}/challenges", new { }, ct);

    public Task<ReportAccepted> SubmitSealedReportAsync(Guid intakeId, SealedReportRequest request, CancellationToken ct = default) =>
        PostAsync<ReportAccepted>($"api/v1/intakes/{intakeId}/reports", request, ct);

    public Task<ReceiptIssued> SubmitBridgeReportAsync(Guid intakeId, BridgeReportRequest request, CancellationToken ct = default) =>
        PostAsync<ReceiptIssued>($"api/v1/intakes/{intakeId}/bridge", request, ct);

    public Task<BotTurn> StartIntakeConversationAsync(Guid intakeId, StartConversationRequest request, CancellationToken ct = default) =>
        PostAsync<BotTurn>($"api/v1/intakes/{intakeId}/conversations", request, ct);

    public Task<BotTurn> AnswerIntakeConversationAsync(Guid intakeId, Guid conversationId, ConversationAnswer answer, CancellationToken ct = default) =>
        PostAsync<BotTurn>($"api/v1/intakes/{intakeId}/conversations/{conversationId}/answers", answer, ct);

    public Task<ReplyList> CheckReceiptRepliesAsync(ReplyCheckRequest request, CancellationToken ct = default) =>
        PostAsync<ReplyList>("api/v1/receipts/replies", request, ct);
}
