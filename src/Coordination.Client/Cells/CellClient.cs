using System.Net;
using System.Text;
using System.Text.Json;
using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Client.Messaging;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Cells;

/// <summary>A cell's name and description; sealed under the cell key before it leaves the device.</summary>
public sealed record CellProfile(string Name, string? Description);

/// <summary>A cell or group as this device sees it: the relay's facts and the decrypted name.</summary>
public sealed record CellView(
    Guid CellId,
    ConversationKind Kind,
    string Name,
    string? Description,
    Guid? AnnouncementsId,
    int Epoch,
    DateTimeOffset? EndsAt,
    CellMembershipInfo Membership);

/// <summary>A member as the verified membership log says, with the display name they chose (if readable).</summary>
public sealed record VerifiedMember(Guid MembershipId, Guid AccountId, MemberRole Role, RiskLevel Ceiling, string? DisplayName);

/// <summary>The outcome of joining: admitted (with the cell) or waiting for vouches.</summary>
public sealed record JoinResult(CellView? Cell, Guid CellId, int Vouches, int RequiredVouches)
{
    public bool Admitted => Cell is not null;
}

/// <summary>
/// Cells and GRAS groups for one device (protocol section 8): creates them, invites and admits,
/// changes roles and ceilings, removes and burns, always by entries signed with the account key,
/// and verifies the whole membership log (chain, signatures, authority, and that it only grew
/// since this device last saw it) before it trusts a member. Implements
/// <see cref="IConversationTrust"/> so the messaging client encrypts only to verified members.
/// </summary>
public sealed class CellClient : IConversationTrust
{
    private const int CellKeyBytes = 32;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly DeviceIdentity _identity;
    private readonly RelayApi _api;
    private readonly CellKeyring _keyring;
    private readonly TimeProvider _clock;
    private readonly Dictionary<Guid, CellInfo> _announcements = [];

    public CellClient(DeviceIdentity identity, RelayApi api, LocalMessageStore store, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(api);
        _identity = identity;
        _api = api;
        _keyring = new CellKeyring(store);
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>This device's cell keys and log checkpoints (for the task client, which seals task content under the cell key).</summary>
    internal CellKeyring Keyring => _keyring;

    internal RelayApi Api => _api;

    /// <summary>Tampering the SDK detected. Each alert is also why an operation refused to go on (or left a member out).</summary>
    public event Action<MembershipAlert>? MembershipAlert;

    /// <summary>Creates a cell (with its announcements conversation) or a GRAS group, with this account as its first organizer.</summary>
    public async Task<CellView> CreateAsync(ConversationKind kind, string name, string? description, string? displayName, DateTimeOffset? endsAt, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Guid cellId = Guid.NewGuid();
        MembershipEntry genesis = new(cellId, 0, MembershipEntry.ZeroHash, MembershipAction.Create, Guid.NewGuid(), _identity.AccountId,
            AccountKey, MemberRole.Organizer, RiskLevel.Critical, _identity.AccountId, AccountKey, []);
        SignedMembershipEntry signed = Sign(genesis);
        byte[] cellKey = SecureRandom.Bytes(CellKeyBytes);
        byte[] genesisHash = signed.Hash();
        _keyring.Set(cellId, new CellKeyringEntry(cellKey, genesisHash[..InviteCode.GenesisTagBytes], 1, genesisHash));
        CellInfo info = await _api.CreateCellAsync(
            new CreateCellRequest(
                cellId,
                kind,
                signed,
                SealProfile(cellKey, cellId, new CellProfile(name.Trim(), string.IsNullOrWhiteSpace(description) ? null : description.Trim())),
                string.IsNullOrWhiteSpace(displayName) ? null : SealName(cellKey, cellId, displayName.Trim()),
                endsAt?.ToUnixTimeMilliseconds()),
            ct);
        _keyring.Set(cellId, _keyring.Get(cellId)! with { AnnouncementsId = info.AnnouncementsId });
        return View(info);
    }

    /// <summary>The cells and groups this account belongs to.</summary>
    public async Task<List<CellView>> ListAsync(CancellationToken ct) => [.. (await _api.ListCellsAsync(ct)).Select(View)];

    public async Task<CellView> GetAsync(Guid cellId, CancellationToken ct) => View(await _api.GetCellAsync(cellId, ct));

    /// <summary>
    /// Creates an invite and returns its code. The relay stores the grant under a lookup id derived
    /// from the code; the code (and the cell key sealed under it) is for the invitee alone.
    /// </summary>
    public async Task<string> InviteAsync(Guid cellId, MemberRole role, RiskLevel ceiling, int uses, TimeSpan lifetime, int requiredVouches, CancellationToken ct)
    {
        MembershipLog log = await VerifiedLogAsync(cellId, ct);
        CellKeyringEntry keys = _keyring.Get(cellId) ?? throw new InvalidOperationException("This device does not hold the cell's key.");
        using InviteCode code = InviteCode.Create(log.GenesisHash!);
        InviteGrant grant = new(cellId, code.LookupId, code.SigningKey.PublicKey.ToArray(), role, ceiling, uses,
            _clock.GetUtcNow().Add(lifetime).ToUnixTimeMilliseconds(), requiredVouches, _identity.AccountId, AccountKey);
        byte[] encoded = grant.Encode();
        await _api.CreateInviteAsync(cellId, new CreateInviteRequest(encoded, _identity.AccountKey.Sign(encoded), code.SealCellKey(keys.CellKey)), ct);
        return code.Code;
    }

    /// <summary>
    /// Joins with an invite code: checks that the invite is for the cell the code names, opens the
    /// cell key, and appends this account's signed admission. If the invite needs vouches not yet
    /// given, registers as a candidate and returns how many are still missing; call again later.
    /// </summary>
    public async Task<JoinResult> JoinAsync(string typedCode, string? displayName, CancellationToken ct)
    {
        using InviteCode code = InviteCode.Parse(typedCode);
        for (int attempt = 0; ; attempt++)
        {
            InviteOffer offer = await _api.GetInviteAsync(code.LookupId, ct);
            if (!InviteGrant.TryDecode(offer.Grant, out InviteGrant? grant) || grant!.CellId != offer.CellId || !grant.LookupId.AsSpan().SequenceEqual(code.LookupId)
                || !Ed25519PublicKey.FromBytes(grant.IssuerPublicKey).Verify(offer.Grant, offer.GrantSignature)
                || !grant.InvitePublicKey.AsSpan().SequenceEqual(code.SigningKey.PublicKey.Bytes))
            {
                throw new MembershipTamperingException(Alert(new MembershipAlert(offer.CellId, MembershipAlertKind.ForeignLog, "The relay's invite does not match the code: its grant is not the one the organizer signed for this code.")));
            }

            if (!code.TryOpenCellKey(offer.SealedCellKey, out byte[]? cellKey) || cellKey is not { Length: CellKeyBytes })
            {
                throw new MembershipTamperingException(Alert(new MembershipAlert(offer.CellId, MembershipAlertKind.ForeignLog, "The cell key in the invite does not open with the code.")));
            }

            if (offer.Vouches.Count < grant.RequiredVouches)
            {
                PendingAdmission pending = await _api.RequestAdmissionAsync(code.LookupId, ct);
                _keyring.Set(offer.CellId, new CellKeyringEntry(cellKey, code.GenesisTag, 0, MembershipEntry.ZeroHash));
                return new JoinResult(null, offer.CellId, pending.Vouches, pending.RequiredVouches);
            }

            Guid membershipId = Guid.NewGuid();
            byte[] admit = code.SigningKey.Sign(AdmissionStatements.Admit(offer.CellId, code.LookupId, membershipId, _identity.AccountId, AccountKey));
            byte[] authorization = AdmissionStatements.EncodeAuthorization(offer.Grant, offer.GrantSignature, admit, offer.Vouches);
            MembershipEntry entry = new(offer.CellId, offer.LogLength, offer.LogHead, MembershipAction.Admit, membershipId, _identity.AccountId, AccountKey,
                grant.Role, grant.Ceiling, _identity.AccountId, AccountKey, authorization);
            _keyring.Set(offer.CellId, new CellKeyringEntry(cellKey, code.GenesisTag, 0, MembershipEntry.ZeroHash));
            try
            {
                await _api.AdmitAsync(code.LookupId, new AdmissionRequest(Sign(entry), string.IsNullOrWhiteSpace(displayName) ? null : SealName(cellKey, offer.CellId, displayName.Trim())), ct);
            }
            catch (RelayApiException ex) when (ex.Status == HttpStatusCode.Conflict && attempt < 3)
            {
                // Someone else's change landed first; build the entry on the new head.
                continue;
            }

            CellView view = await GetAsync(offer.CellId, ct);
            _keyring.Set(offer.CellId, _keyring.Get(offer.CellId)! with { AnnouncementsId = view.AnnouncementsId });
            if (view.Membership.Role != MemberRole.Newcomer)
            {
                await VerifiedLogAsync(offer.CellId, ct);
            }

            return new JoinResult(view, offer.CellId, offer.Vouches.Count, grant.RequiredVouches);
        }
    }

    /// <summary>Candidates waiting for vouches.</summary>
    public Task<List<PendingAdmission>> AdmissionsAsync(Guid cellId, CancellationToken ct) => _api.ListAdmissionsAsync(cellId, ct);

    /// <summary>Vouches for a candidate: a signature over the cell, the invite and the candidate's account key.</summary>
    public async Task VouchAsync(Guid cellId, Guid candidateAccountId, CancellationToken ct)
    {
        PendingAdmission candidate = (await _api.ListAdmissionsAsync(cellId, ct)).FirstOrDefault(a => a.AccountId == candidateAccountId)
            ?? throw new RelayApiException(HttpStatusCode.NotFound, "No such candidate in this cell.");
        byte[] statement = AdmissionStatements.VouchFor(cellId, candidate.LookupId, candidate.AccountId, candidate.AccountPublicKey);
        await _api.VouchAsync(cellId, candidateAccountId, new VouchRequest(candidate.LookupId, _identity.AccountKey.Sign(statement)), ct);
    }

    /// <summary>
    /// The members the verified log lists, with display names. A member the relay lists but the
    /// log does not is reported (<see cref="MembershipAlertKind.GhostMember"/>) and left out.
    /// </summary>
    public async Task<List<VerifiedMember>> MembersAsync(Guid cellId, CancellationToken ct)
    {
        MembershipLog log = await VerifiedLogAsync(cellId, ct);
        List<CellMemberInfo> listed = await _api.ListMembersAsync(cellId, ct);
        byte[]? cellKey = _keyring.Get(cellId)?.CellKey;
        List<VerifiedMember> members = [];
        foreach (CellMemberInfo member in listed)
        {
            if (!log.Members.TryGetValue(member.MembershipId, out MemberState? state) || state.AccountId != member.AccountId)
            {
                Alert(new MembershipAlert(cellId, MembershipAlertKind.GhostMember,
                    $"The relay lists account {member.AccountId} as a member of cell {cellId}, but no valid log entry admitted it; it is left out.", member.AccountId));
                continue;
            }

            string? name = member.SealedDisplayName is { } sealedName && cellKey is not null ? OpenName(cellKey, cellId, sealedName) : null;
            members.Add(new VerifiedMember(state.MembershipId, state.AccountId, state.Role, state.Ceiling, name));
        }

        return members;
    }

    public Task<AppendEntryResponse> SetRoleAsync(Guid cellId, Guid membershipId, MemberRole role, CancellationToken ct) =>
        AppendAsync(cellId, membershipId, MembershipAction.SetRole, subject => (role, subject.Ceiling), ct);

    public Task<AppendEntryResponse> SetCeilingAsync(Guid cellId, Guid membershipId, RiskLevel ceiling, CancellationToken ct) =>
        AppendAsync(cellId, membershipId, MembershipAction.SetCeiling, subject => (subject.Role, ceiling), ct);

    public Task<AppendEntryResponse> RemoveAsync(Guid cellId, Guid membershipId, CancellationToken ct) =>
        AppendAsync(cellId, membershipId, MembershipAction.Remove, subject => (subject.Role, subject.Ceiling), ct);

    /// <summary>Burns a member: removed here with a signed entry, and by the relay everywhere else, every device revoked.</summary>
    public Task<AppendEntryResponse> BurnAsync(Guid cellId, Guid membershipId, CancellationToken ct) =>
        AppendAsync(cellId, membershipId, MembershipAction.Burn, subject => (subject.Role, subject.Ceiling), ct);

    /// <summary>Leaves the cell (a removal signed by the member themselves).</summary>
    public async Task<AppendEntryResponse> LeaveAsync(Guid cellId, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            CellInfo info = await _api.GetCellAsync(cellId, ct);
            if (info.Membership.Role != MemberRole.Newcomer)
            {
                return await RemoveAsync(cellId, info.Membership.MembershipId, ct);
            }

            // A newcomer may not read the log; the relay's head is enough to sign one's own removal
            // (the relay checks it against the log it holds).
            MembershipEntry entry = new(cellId, info.LogLength, info.LogHead, MembershipAction.Remove, info.Membership.MembershipId, _identity.AccountId, AccountKey,
                info.Membership.Role, info.Membership.Ceiling, _identity.AccountId, AccountKey, []);
            try
            {
                return await _api.AppendMembershipEntryAsync(cellId, Sign(entry), ct);
            }
            catch (RelayApiException ex) when (ex.Status == HttpStatusCode.Conflict && attempt < 3)
            {
                // Another change landed first; sign again on top of it.
            }
        }
    }

    /// <summary>
    /// Fetches and verifies the whole log: every signature, the chain, who was entitled to each
    /// change, that it starts from the founding entry this device knows, and that it still contains
    /// the last entry this device verified. Throws <see cref="MembershipTamperingException"/> otherwise.
    /// </summary>
    public async Task<MembershipLog> VerifiedLogAsync(Guid cellId, CancellationToken ct)
    {
        List<SignedMembershipEntry> entries = await _api.GetMembershipLogAsync(cellId, ct);
        if (!MembershipLog.TryVerify(cellId, entries, out MembershipLog log, out string? error))
        {
            throw new MembershipTamperingException(Alert(new MembershipAlert(cellId, MembershipAlertKind.BrokenLog, $"The membership log of cell {cellId} does not verify: {error}.")));
        }

        CellKeyringEntry? known = _keyring.Get(cellId);
        if (known is not null)
        {
            if (!log.GenesisHash.AsSpan(0, InviteCode.GenesisTagBytes).SequenceEqual(known.GenesisTag))
            {
                throw new MembershipTamperingException(Alert(new MembershipAlert(cellId, MembershipAlertKind.ForeignLog, $"The membership log of cell {cellId} starts from another founding entry than the one this device knows.")));
            }

            if (log.Length < known.KnownLength
                || (known.KnownLength > 0 && !entries[(int)known.KnownLength - 1].Hash().AsSpan().SequenceEqual(known.KnownHead)))
            {
                throw new MembershipTamperingException(Alert(new MembershipAlert(cellId, MembershipAlertKind.RolledBackLog,
                    $"The membership log of cell {cellId} has {log.Length} entries and no longer contains entry {known.KnownLength - 1} as this device verified it: entries were dropped or rewritten.")));
            }

            if (log.Length != known.KnownLength)
            {
                // Equal lengths already matched the head above: nothing to rewrite.
                _keyring.Set(cellId, known with { KnownLength = log.Length, KnownHead = log.HeadBytes });
            }
        }

        return log;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Which conversations are cells is decided from this device's own keyring first (the cells it
    /// created or joined), and from the relay's word only for cells the device does not know (a
    /// newly linked device): a relay that calls a cell a direct conversation cannot switch the check
    /// off. A cell's main conversation trusts its members and organizers; its announcements trust
    /// newcomers too.
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, byte[]>?> TrustedAccountsAsync(ConversationInfo conversation, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        Guid id = conversation.ConversationId;
        (Guid? cellId, bool announcements) = _keyring.Get(id) is not null ? (id, false)
            : _keyring.CellOfAnnouncements(id) is { } owner ? (owner, true)
            : conversation.Kind switch
            {
                ConversationKind.Cell or ConversationKind.GrasGroup => (id, false),
                ConversationKind.Announcements => (await CellOfAnnouncementsAsync(id, ct), true),
                _ => ((Guid?)null, false),
            };
        if (cellId is not { } cell)
        {
            return null;
        }

        if (announcements && (await _api.GetCellAsync(cell, ct)).Membership.Role == MemberRole.Newcomer)
        {
            // A newcomer cannot read the roster, so it relies on the relay for who is in the announcements.
            return null;
        }

        MembershipLog log = await VerifiedLogAsync(cell, ct);
        return log.Members.Values
            .Where(m => announcements || m.Role != MemberRole.Newcomer)
            .ToDictionary(m => m.AccountId, m => m.PublicKey);
    }

    /// <inheritdoc />
    public void ReportUntrusted(Guid conversationId, Guid accountId) =>
        Alert(new MembershipAlert(conversationId, MembershipAlertKind.GhostMember,
            $"The relay lists account {accountId} in conversation {conversationId}, but the verified membership log does not; nothing is encrypted to it.", accountId));

    private async Task<Guid?> CellOfAnnouncementsAsync(Guid conversationId, CancellationToken ct)
    {
        if (!_announcements.ContainsKey(conversationId))
        {
            foreach (CellInfo cell in await _api.ListCellsAsync(ct))
            {
                if (cell.AnnouncementsId is { } announcements)
                {
                    _announcements[announcements] = cell;
                }
            }
        }

        return _announcements.TryGetValue(conversationId, out CellInfo? info) ? info.CellId : null;
    }

    private async Task<AppendEntryResponse> AppendAsync(Guid cellId, Guid membershipId, MembershipAction action, Func<MemberState, (MemberRole Role, RiskLevel Ceiling)> change, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            MembershipLog log = await VerifiedLogAsync(cellId, ct);
            if (!log.Members.TryGetValue(membershipId, out MemberState? subject))
            {
                throw new RelayApiException(HttpStatusCode.NotFound, $"Membership {membershipId} is not a current member of this cell.");
            }

            (MemberRole role, RiskLevel ceiling) = change(subject);
            MembershipEntry entry = new(cellId, log.Length, log.HeadBytes, action, membershipId, subject.AccountId, subject.PublicKey,
                role, ceiling, _identity.AccountId, AccountKey, []);
            try
            {
                AppendEntryResponse response = await _api.AppendMembershipEntryAsync(cellId, Sign(entry), ct);
                bool leftTheCell = action is MembershipAction.Remove or MembershipAction.Burn && subject.AccountId == _identity.AccountId;
                if (!leftTheCell)
                {
                    // Remember the new head, so the relay cannot later drop this entry unnoticed.
                    await VerifiedLogAsync(cellId, ct);
                }

                return response;
            }
            catch (RelayApiException ex) when (ex.Status == HttpStatusCode.Conflict && attempt < 3)
            {
                // Another change landed first; sign again on top of it.
            }
        }
    }

    private byte[] AccountKey => _identity.AccountKey.PublicKey.ToArray();

    private SignedMembershipEntry Sign(MembershipEntry entry)
    {
        byte[] body = entry.Encode();
        return new SignedMembershipEntry(body, _identity.AccountKey.Sign(body));
    }

    private MembershipAlert Alert(MembershipAlert alert)
    {
        MembershipAlert?.Invoke(alert);
        return alert;
    }

    private CellView View(CellInfo info)
    {
        CellProfile? profile = _keyring.Get(info.CellId)?.CellKey is { } key ? OpenProfile(key, info.CellId, info.SealedProfile) : null;
        return new CellView(info.CellId, info.Kind, profile?.Name ?? "(name unreadable on this device)", profile?.Description, info.AnnouncementsId, info.Epoch,
            info.EndsAt is { } ends ? DateTimeOffset.FromUnixTimeMilliseconds(ends) : null, info.Membership);
    }

    private static byte[] Ad(string purpose, Guid cellId) => [.. Encoding.ASCII.GetBytes("coordination/v1/" + purpose), .. cellId.ToByteArray(bigEndian: true)];

    private static byte[] Seal(byte[] key, byte[] plaintext, byte[] ad)
    {
        using SecretKey secret = SecretKey.Import(key);
        byte[] nonce = SecureRandom.Nonce();
        return [.. nonce, .. XChaCha20Poly1305.Encrypt(secret, nonce, plaintext, ad)];
    }

    private static byte[]? Open(byte[] key, byte[] sealedBytes, byte[] ad)
    {
        if (sealedBytes.Length < XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            return null;
        }

        using SecretKey secret = SecretKey.Import(key);
        return XChaCha20Poly1305.TryDecrypt(secret, sealedBytes.AsSpan(0, XChaCha20Poly1305.NonceSize), sealedBytes.AsSpan(XChaCha20Poly1305.NonceSize), ad, out byte[]? plaintext)
            ? plaintext
            : null;
    }

    /// <summary>Padded to 256 bytes before sealing, so the length of a name does not show.</summary>
    private static byte[] SealProfile(byte[] key, Guid cellId, CellProfile profile) =>
        Seal(key, Padding.Pad(JsonSerializer.SerializeToUtf8Bytes(profile, s_json), 256), Ad("cell-profile", cellId));

    private static CellProfile? OpenProfile(byte[] key, Guid cellId, byte[] sealedProfile)
    {
        byte[]? padded = Open(key, sealedProfile, Ad("cell-profile", cellId));
        return padded is not null && Padding.TryUnpad(padded, 256, out int length)
            ? JsonSerializer.Deserialize<CellProfile>(padded.AsSpan(0, length), s_json)
            : null;
    }

    private static byte[] SealName(byte[] key, Guid cellId, string name) =>
        Seal(key, Padding.Pad(Encoding.UTF8.GetBytes(name), 64), Ad("display-name", cellId));

    private static string? OpenName(byte[] key, Guid cellId, byte[] sealedName)
    {
        byte[]? padded = Open(key, sealedName, Ad("display-name", cellId));
        return padded is not null && Padding.TryUnpad(padded, 64, out int length) ? Encoding.UTF8.GetString(padded, 0, length) : null;
    }
}
