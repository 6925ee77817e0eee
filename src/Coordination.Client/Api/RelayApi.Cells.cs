using System.Buffers.Text;
using Coordination.Protocol;

namespace Coordination.Client.Api;

/// <summary>Cells and GRAS groups (protocol section 8).</summary>
public sealed partial class RelayApi
{
    public Task<CellInfo> CreateCellAsync(CreateCellRequest request, CancellationToken ct = default) => PostAsync<CellInfo>("api/v1/cells", request, ct);

    public Task<List<CellInfo>> ListCellsAsync(CancellationToken ct = default) => GetAsync<List<CellInfo>>("api/v1/cells", ct);

    public Task<CellInfo> GetCellAsync(Guid cellId, CancellationToken ct = default) => GetAsync<CellInfo>($"api/v1/cells/{cellId}", ct);

    public Task<List<CellMemberInfo>> ListMembersAsync(Guid cellId, CancellationToken ct = default) => GetAsync<List<CellMemberInfo>>($"api/v1/cells/{cellId}/members", ct);

    public Task SetDisplayNameAsync(Guid cellId, byte[] sealedDisplayName, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/cells/{cellId}/members/me/display-name", new DisplayNameRequest(sealedDisplayName), ct);

    /// <summary>The whole membership log, page by page.</summary>
    public async Task<List<SignedMembershipEntry>> GetMembershipLogAsync(Guid cellId, CancellationToken ct = default)
    {
        List<SignedMembershipEntry> entries = [];
        while (true)
        {
            MembershipLogPage page = await GetAsync<MembershipLogPage>($"api/v1/cells/{cellId}/log?from={entries.Count}", ct);
            entries.AddRange(page.Entries);
            if (!page.More || page.Entries.Count == 0)
            {
                return entries;
            }
        }
    }

    public Task<AppendEntryResponse> AppendMembershipEntryAsync(Guid cellId, SignedMembershipEntry entry, CancellationToken ct = default) =>
        PostAsync<AppendEntryResponse>($"api/v1/cells/{cellId}/log", new AppendEntryRequest(entry), ct);

    public Task CreateInviteAsync(Guid cellId, CreateInviteRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/cells/{cellId}/invites", request, ct);

    public Task<List<PendingAdmission>> ListAdmissionsAsync(Guid cellId, CancellationToken ct = default) =>
        GetAsync<List<PendingAdmission>>($"api/v1/cells/{cellId}/admissions", ct);

    public Task VouchAsync(Guid cellId, Guid candidateAccountId, VouchRequest request, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/cells/{cellId}/admissions/{candidateAccountId}/vouches", request, ct);

    public Task<InviteOffer> GetInviteAsync(byte[] lookupId, CancellationToken ct = default) =>
        GetAsync<InviteOffer>($"api/v1/invites/{Base64Url.EncodeToString(lookupId)}", ct);

    public Task<PendingAdmission> RequestAdmissionAsync(byte[] lookupId, CancellationToken ct = default) =>
        PostAsync<PendingAdmission>($"api/v1/invites/{Base64Url.EncodeToString(lookupId)}/requests", new { }, ct);

    public Task<AppendEntryResponse> AdmitAsync(byte[] lookupId, AdmissionRequest request, CancellationToken ct = default) =>
        PostAsync<AppendEntryResponse>($"api/v1/invites/{Base64Url.EncodeToString(lookupId)}/admission", request, ct);
}
