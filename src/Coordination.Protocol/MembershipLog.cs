using Coordination.Crypto;

namespace Coordination.Protocol;

/// <summary>A log entry as stored and served: the signed body and the signer's Ed25519 signature.</summary>
public sealed record SignedMembershipEntry(byte[] Body, byte[] Signature)
{
    /// <summary>BLAKE2b-256(body || signature): what the next entry names as its previous hash.</summary>
    public byte[] Hash() => Blake2b.Hash([.. Body, .. Signature], MembershipEntry.HashBytes);
}

/// <summary>A member as the verified log says: who, with which key, in which role, up to which risk.</summary>
public sealed record MemberState(Guid MembershipId, Guid AccountId, byte[] PublicKey, MemberRole Role, RiskLevel Ceiling);

/// <summary>
/// Replays a cell's membership log and accepts an entry only if it is signed by someone entitled to
/// make it and chained to everything before it (protocol section 8). The relay runs this before it
/// stores an entry; every client runs it again on the whole log before it encrypts to anyone, so a
/// member the relay added on its own, or a removal it dropped, is detected.
/// </summary>
public sealed class MembershipLog
{
    private readonly Dictionary<Guid, MemberState> _members = [];
    private readonly HashSet<Guid> _usedMembershipIds = [];
    private readonly Dictionary<string, int> _inviteUses = new(StringComparer.Ordinal);
    private byte[] _head = MembershipEntry.ZeroHash;

    public MembershipLog(Guid cellId)
    {
        CellId = cellId;
    }

    public Guid CellId { get; }

    /// <summary>How many entries have been accepted; the next entry's index.</summary>
    public long Length { get; private set; }

    /// <summary>The hash of the last entry (32 zero bytes before the first).</summary>
    public ReadOnlySpan<byte> Head => _head;

    public byte[] HeadBytes => (byte[])_head.Clone();

    /// <summary>Current members by membership id.</summary>
    public IReadOnlyDictionary<Guid, MemberState> Members => _members;

    /// <summary>BLAKE2b-256 of entry 0: the cell's identity, carried (truncated) in invite codes.</summary>
    public byte[]? GenesisHash { get; private set; }

    public MemberState? ByAccount(Guid accountId) => _members.Values.FirstOrDefault(m => m.AccountId == accountId);

    /// <summary>How many admissions an invite (by lookup id) has been used for.</summary>
    public int UsesOf(ReadOnlySpan<byte> lookupId) => _inviteUses.GetValueOrDefault(Convert.ToHexString(lookupId));

    /// <summary>Verifies a whole log from its first entry. On failure, <paramref name="error"/> names the entry and the rule it breaks.</summary>
    public static bool TryVerify(Guid cellId, IEnumerable<SignedMembershipEntry> entries, out MembershipLog log, out string? error)
    {
        ArgumentNullException.ThrowIfNull(entries);
        log = new MembershipLog(cellId);
        foreach (SignedMembershipEntry entry in entries)
        {
            if (!log.TryAppend(entry, out _, out error))
            {
                return false;
            }
        }

        error = log.Length == 0 ? "the log is empty" : null;
        return error is null;
    }

    /// <summary>Checks <paramref name="candidate"/> against the log so far and, if it is valid, applies it.</summary>
    public bool TryAppend(SignedMembershipEntry candidate, out MembershipEntry? entry, out string? error)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        error = Check(candidate, out entry);
        if (error is not null)
        {
            error = $"entry {Length}: {error}";
            return false;
        }

        Apply(entry!, candidate);
        return true;
    }

    private string? Check(SignedMembershipEntry candidate, out MembershipEntry? entry)
    {
        if (candidate.Body is null || candidate.Signature is not { Length: Limits.SignatureBytes } || !MembershipEntry.TryDecode(candidate.Body, out entry))
        {
            entry = null;
            return "malformed";
        }

        if (entry!.CellId != CellId)
        {
            return "belongs to another cell";
        }

        if (entry.Index != Length || !ConstantTime.AreEqual(entry.PreviousHash, _head))
        {
            return "does not follow the previous entry (index or hash)";
        }

        if (!Ed25519PublicKey.FromBytes(entry.SignerPublicKey).Verify(candidate.Body, candidate.Signature))
        {
            return "the signature does not verify";
        }

        if (entry.Action != MembershipAction.Admit && entry.Authorization.Length != 0)
        {
            return "only an admission carries an authorization";
        }

        if (Length == 0)
        {
            return entry.Action != MembershipAction.Create ? "the first entry must create the cell"
                : entry.Role != MemberRole.Organizer || !SignerIsSubject(entry) || entry.MembershipId == Guid.Empty ? "the founder must sign their own entry as organizer"
                : null;
        }

        switch (entry.Action)
        {
            case MembershipAction.Create:
                return "a cell is created once";
            case MembershipAction.Admit:
                return CheckAdmission(entry);
        }

        if (!_members.TryGetValue(entry.MembershipId, out MemberState? subject)
            || subject.AccountId != entry.SubjectAccountId || !ConstantTime.AreEqual(subject.PublicKey, entry.SubjectPublicKey))
        {
            return "its subject is not a current member";
        }

        MemberState? signer = Signer(entry);
        if (signer is null)
        {
            return "its signer is not a current member";
        }

        bool leavingOrBurningSelf = entry.Action is MembershipAction.Remove or MembershipAction.Burn && signer.MembershipId == subject.MembershipId;
        if (signer.Role != MemberRole.Organizer && !leavingOrBurningSelf)
        {
            return "only an organizer may change someone else's membership";
        }

        bool losesLastOrganizer = subject.Role == MemberRole.Organizer
            && (entry.Action is MembershipAction.Remove or MembershipAction.Burn || (entry.Action == MembershipAction.SetRole && entry.Role != MemberRole.Organizer))
            && _members.Values.Count(m => m.Role == MemberRole.Organizer) == 1;
        if (losesLastOrganizer)
        {
            return "the last organizer cannot leave or step down; promote another member first";
        }

        return entry.Action switch
        {
            MembershipAction.SetRole when entry.Role == 0 => "a role change names a role",
            MembershipAction.SetRole when entry.Ceiling != subject.Ceiling => "a role change keeps the ceiling",
            MembershipAction.SetCeiling when entry.Role != subject.Role => "a ceiling change keeps the role",
            _ => null,
        };
    }

    private string? CheckAdmission(MembershipEntry entry)
    {
        if (!SignerIsSubject(entry))
        {
            return "an admission is signed by the member being admitted";
        }

        if (entry.MembershipId == Guid.Empty || _usedMembershipIds.Contains(entry.MembershipId))
        {
            return "the membership id is not new";
        }

        if (ByAccount(entry.SubjectAccountId) is not null || _members.Values.Any(m => ConstantTime.AreEqual(m.PublicKey, entry.SubjectPublicKey)))
        {
            return "the account is already a member";
        }

        if (!AdmissionStatements.TryDecodeAuthorization(entry.Authorization, out byte[] grantBytes, out byte[] grantSignature, out byte[] admitSignature, out List<Vouch> vouches)
            || !InviteGrant.TryDecode(grantBytes, out InviteGrant? grant))
        {
            return "the invite in the admission is malformed";
        }

        if (grant!.CellId != CellId)
        {
            return "the invite is for another cell";
        }

        MemberState? issuer = ByAccount(grant.IssuerAccountId);
        if (issuer is null || issuer.Role != MemberRole.Organizer || !ConstantTime.AreEqual(issuer.PublicKey, grant.IssuerPublicKey))
        {
            return "the invite was not issued by a current organizer";
        }

        if (!Ed25519PublicKey.FromBytes(grant.IssuerPublicKey).Verify(grantBytes, grantSignature))
        {
            return "the invite's signature does not verify";
        }

        if (entry.Role != grant.Role || entry.Ceiling != grant.Ceiling)
        {
            return "the role or ceiling differs from the invite's";
        }

        byte[] admit = AdmissionStatements.Admit(CellId, grant.LookupId, entry.MembershipId, entry.SubjectAccountId, entry.SubjectPublicKey);
        if (!Ed25519PublicKey.FromBytes(grant.InvitePublicKey).Verify(admit, admitSignature))
        {
            return "the admission does not prove knowledge of the invite code";
        }

        if (UsesOf(grant.LookupId) >= grant.Uses)
        {
            return "the invite has been used up";
        }

        HashSet<Guid> vouchers = [];
        byte[] statement = AdmissionStatements.VouchFor(CellId, grant.LookupId, entry.SubjectAccountId, entry.SubjectPublicKey);
        foreach (Vouch vouch in vouches)
        {
            MemberState? voucher = ByAccount(vouch.VoucherAccountId);
            if (voucher is null || voucher.Role == MemberRole.Newcomer || !vouchers.Add(vouch.VoucherAccountId)
                || !Ed25519PublicKey.FromBytes(voucher.PublicKey).Verify(statement, vouch.Signature))
            {
                return "a vouch is not a valid signature of a distinct current member";
            }
        }

        return vouchers.Count < grant.RequiredVouches ? $"the invite needs {grant.RequiredVouches} vouches, the admission has {vouchers.Count}" : null;
    }

    private MemberState? Signer(MembershipEntry entry)
    {
        MemberState? signer = ByAccount(entry.SignerAccountId);
        return signer is not null && ConstantTime.AreEqual(signer.PublicKey, entry.SignerPublicKey) ? signer : null;
    }

    private static bool SignerIsSubject(MembershipEntry entry) =>
        entry.SignerAccountId == entry.SubjectAccountId && ConstantTime.AreEqual(entry.SignerPublicKey, entry.SubjectPublicKey);

    private void Apply(MembershipEntry entry, SignedMembershipEntry candidate)
    {
        switch (entry.Action)
        {
            case MembershipAction.Create:
            case MembershipAction.Admit:
                _members[entry.MembershipId] = new MemberState(entry.MembershipId, entry.SubjectAccountId, entry.SubjectPublicKey, entry.Role, entry.Ceiling);
                _usedMembershipIds.Add(entry.MembershipId);
                if (entry.Action == MembershipAction.Admit && AdmissionStatements.TryDecodeAuthorization(entry.Authorization, out byte[] grant, out _, out _, out _))
                {
                    string lookup = Convert.ToHexString(grant.AsSpan(InviteGrant.Label.Length + 16, Limits.InviteLookupIdBytes));
                    _inviteUses[lookup] = _inviteUses.GetValueOrDefault(lookup) + 1;
                }

                break;
            case MembershipAction.SetRole:
            case MembershipAction.SetCeiling:
                _members[entry.MembershipId] = _members[entry.MembershipId] with { Role = entry.Role, Ceiling = entry.Ceiling };
                break;
            case MembershipAction.Remove:
            case MembershipAction.Burn:
                _members.Remove(entry.MembershipId);
                break;
        }

        _head = candidate.Hash();
        GenesisHash ??= (byte[])_head.Clone();
        Length++;
    }
}
