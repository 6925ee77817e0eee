using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Coordination.Client.Identity;
using Coordination.Protocol;

namespace Coordination.Client.Api;

/// <summary>A refusal from the relay, with the status and the problem detail it sent.</summary>
public sealed class RelayApiException : Exception
{
    public RelayApiException()
    {
    }

    public RelayApiException(string message)
        : base(message)
    {
    }

    public RelayApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RelayApiException(HttpStatusCode status, string? detail)
        : base($"The relay answered {(int)status} {status}: {detail ?? "(no detail)"}")
    {
        Status = status;
        Detail = detail;
    }

    public HttpStatusCode Status { get; }

    public string? Detail { get; }
}

/// <summary>
/// The relay's REST API (/api/v1). One instance per server; <see cref="LoginAsync"/> stores the
/// session token for later calls. The token is never logged or put in an exception.
/// </summary>
public sealed partial class RelayApi(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public HttpClient Http { get; } = http;

    /// <summary>The session token from the last login (base64url), for the hub connection.</summary>
    public string? Token { get; private set; }

    public long TokenExpiresAt { get; private set; }

    /// <summary>The origin login signatures are bound to: the server as this client reaches it.</summary>
    public string Origin => SignedStatements.NormalizeOrigin(Http.BaseAddress?.ToString() ?? throw new InvalidOperationException("HttpClient.BaseAddress is not set."));

    public static RelayApi Create(Uri server) => new(new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) });

    public async Task<RegisterAccountResponse> RegisterAccountAsync(DeviceIdentity identity, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        RegisterAccountResponse response = await PostAsync<RegisterAccountResponse>(
            "api/v1/accounts", new RegisterAccountRequest(identity.AccountKey.PublicKey.ToArray(), identity.SignedDeviceKeys()), ct);
        identity.AccountId = response.AccountId;
        identity.DeviceId = response.DeviceId;
        return response;
    }

    /// <summary>Challenge, sign, session: stores the token for this client.</summary>
    public async Task<LoginResponse> LoginAsync(DeviceIdentity identity, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ChallengeResponse challenge = await PostAsync<ChallengeResponse>("api/v1/auth/challenges", new ChallengeRequest(identity.DeviceId), ct);
        LoginResponse login = await PostAsync<LoginResponse>("api/v1/auth/sessions", new LoginRequest(challenge.ChallengeId, identity.SignLogin(Origin, challenge)), ct);
        Token = login.Token;
        TokenExpiresAt = login.ExpiresAt;
        return login;
    }

    public Task LogoutAsync(CancellationToken ct = default) => SendAsync(HttpMethod.Delete, "api/v1/auth/sessions/current", null, ct);

    public Task<AccountInfo> GetAccountAsync(Guid accountId, CancellationToken ct = default) => GetAsync<AccountInfo>($"api/v1/accounts/{accountId}", ct);

    public Task<List<DeviceInfo>> ListDevicesAsync(CancellationToken ct = default) => GetAsync<List<DeviceInfo>>("api/v1/devices", ct);

    public Task RevokeDeviceAsync(Guid deviceId, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, $"api/v1/devices/{deviceId}", null, ct);

    /// <summary>Offers a link: the payload (the account seed) sealed under the code.</summary>
    public Task<CreateLinkCodeResponse> CreateLinkCodeAsync(DeviceLinkCode code, ReadOnlySpan<byte> payload, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        return PostAsync<CreateLinkCodeResponse>("api/v1/devices/link-codes", new CreateLinkCodeRequest(code.LookupId, code.Seal(payload)), ct);
    }

    public Task<LinkCodeOffer> GetLinkCodeAsync(DeviceLinkCode code, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        return GetAsync<LinkCodeOffer>($"api/v1/devices/link-codes/{Base64Url.EncodeToString(code.LookupId)}", ct);
    }

    public async Task<LinkDeviceResponse> LinkDeviceAsync(DeviceLinkCode code, DeviceIdentity identity, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(identity);
        LinkDeviceResponse response = await PostAsync<LinkDeviceResponse>("api/v1/devices", new LinkDeviceRequest(code.LookupId, identity.SignedDeviceKeys()), ct);
        identity.AccountId = response.AccountId;
        identity.DeviceId = response.DeviceId;
        return response;
    }

    public Task<List<ConversationInfo>> ListConversationsAsync(CancellationToken ct = default) => GetAsync<List<ConversationInfo>>("api/v1/conversations", ct);

    public Task<ConversationInfo> OpenDirectConversationAsync(Guid peerAccountId, CancellationToken ct = default) =>
        PostAsync<ConversationInfo>("api/v1/conversations/direct", new OpenDirectConversationRequest(peerAccountId), ct);

    public Task<List<RecipientDevice>> ListRecipientDevicesAsync(Guid conversationId, CancellationToken ct = default) =>
        GetAsync<List<RecipientDevice>>($"api/v1/conversations/{conversationId}/devices", ct);

    public Task<SendResult> SendAsync(SendEnvelope envelope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return PostAsync<SendResult>($"api/v1/conversations/{envelope.ConversationId}/envelopes", envelope, ct);
    }

    public Task<InboxPage> FetchAsync(int limit = Limits.DefaultFetchPageSize, CancellationToken ct = default) =>
        GetAsync<InboxPage>($"api/v1/inbox?limit={limit}", ct);

    public Task AckAsync(IReadOnlyList<Ack> acks, CancellationToken ct = default) => SendAsync(HttpMethod.Post, "api/v1/inbox/acks", new AckRequest(acks), ct);

    public void Dispose() => Http.Dispose();

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendRawAsync(HttpMethod.Get, path, null, ct);
        return (await response.Content.ReadFromJsonAsync<T>(s_json, ct))!;
    }

    private async Task<T> PostAsync<T>(string path, object body, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendRawAsync(HttpMethod.Post, path, body, ct);
        return (await response.Content.ReadFromJsonAsync<T>(s_json, ct))!;
    }

    private async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendRawAsync(method, path, body, ct);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using HttpRequestMessage request = new(method, new Uri(path, UriKind.Relative));
        if (Token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: s_json);
        }

        HttpResponseMessage response = await Http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        string? detail = null;
        try
        {
            using JsonDocument problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
            detail = problem.RootElement.TryGetProperty("detail", out JsonElement d) ? d.GetString()
                : problem.RootElement.TryGetProperty("title", out JsonElement t) ? t.GetString() : null;
        }
        catch (JsonException)
        {
        }

        HttpStatusCode status = response.StatusCode;
        response.Dispose();
        throw new RelayApiException(status, detail);
    }
}
