using System.Collections.Concurrent;
using Coordination.Protocol;
using Coordination.Server.Identity;
using Coordination.Server.Persistence;
using Coordination.Server.Relay;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Cells;

/// <summary>A refusal of a cell operation, with its HTTP status.</summary>
public sealed record CellRefusal(int Status, string Detail);

/// <summary>
/// Keeps each cell's membership log and what follows from it. An entry is accepted only if the
/// shared verifier (<see cref="MembershipLog"/>) accepts it after replaying the stored log; then
/// the entry, the relay's copy of the roster, the conversations' participants and epochs change
/// in one transaction. Appends to one cell are serialized in this process; the (cell, index)
/// primary key keeps them serialized across processes too.
/// </summary>
public sealed class CellLedger(ConversationMembership conversations, DeviceRevocation revocation, IEnumerable<IMembershipObserver> observers)
{
    private static readonly ConcurrentDictionary<Guid, SemaphoreSlim> s_locks = new();

    /// <summary>Creates a cell or group from its founding entry; the founder becomes its first organizer.</summary>
    public async Task<CellRefusal?> CreateAsync(CoordinationDbContext db, Guid accountId, CreateCellRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        MembershipLog log = new(request.CellId);
        if (!log.TryAppend(request.Genesis, out MembershipEntry? genesis, out string? error))
        {
            return new CellRefusal(StatusCodes.Status400BadRequest, $"The founding entry is not valid: {error}.");
        }

        byte[]? accountKey = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.PublicKey).FirstOrDefaultAsync(ct);
        if (genesis!.SubjectAccountId != accountId || accountKey is null || !accountKey.AsSpan().SequenceEqual(genesis.SubjectPublicKey))
        {
            return new CellRefusal(StatusCodes.Status400BadRequest, "The founding entry must be signed by the caller's own account key.");
        }

        if (await db.Conversations.AnyAsync(c => c.Id == request.CellId, ct))
        {
            return new CellRefusal(StatusCodes.Status409Conflict, "A conversation with this id exists; choose another random id.");
        }

        Guid? announcements = request.Kind == ConversationKind.Cell ? Guid.NewGuid() : null;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await conversations.CreateAsync(db, request.Kind, [accountId], null, ct, request.CellId, partOfUnitOfWork: true);
        if (announcements is { } id)
        {
            await conversations.CreateAsync(db, ConversationKind.Announcements, [accountId], null, ct, id, partOfUnitOfWork: true);
        }

        db.Set<Cell>().Add(new Cell
        {
            Id = request.CellId,
            Kind = request.Kind,
            AnnouncementsId = announcements,
            SealedProfile = request.SealedProfile,
            EndsAt = request.EndsAt,
            LogLength = log.Length,
            LogHead = log.HeadBytes,
        });
        db.Set<Membership>().Add(new Membership
        {
            Id = genesis.MembershipId,
            CellId = request.CellId,
            AccountId = accountId,
            Role = MemberRole.Organizer,
            Ceiling = genesis.Ceiling,
            SealedDisplayName = request.SealedDisplayName,
        });
        db.Set<MembershipLogRecord>().Add(new MembershipLogRecord { CellId = request.CellId, Index = 0, Body = request.Genesis.Body, Signature = request.Genesis.Signature });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        await conversations.PublishAsync(ct);
        return null;
    }

    /// <summary>
    /// Appends a signed entry and applies it. <paramref name="invite"/> is the invite an admission
    /// uses (its remaining uses go down by one); <paramref name="displayName"/> is an admitted
    /// member's sealed display name.
    /// </summary>
    public async Task<(AppendEntryResponse? Response, CellRefusal? Refusal)> AppendAsync(
        CoordinationDbContext db, Guid cellId, SignedMembershipEntry submitted, Invite? invite, byte[]? displayName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(submitted);
        SemaphoreSlim gate = s_locks.GetOrAdd(cellId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            // The log is read, checked and extended in one transaction that holds the cell's lock, so
            // two relay nodes cannot both append entry N (on SQLite the write transaction suffices).
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.Database.LockAsync(cellId, ct);
            Cell? cell = await db.Set<Cell>().FirstOrDefaultAsync(c => c.Id == cellId, ct);
            if (cell is null)
            {
                return (null, new CellRefusal(StatusCodes.Status404NotFound, "No such cell."));
            }

            MembershipLog? log = await ReplayAsync(db, cellId, ct);
            if (log is null)
            {
                return (null, new CellRefusal(StatusCodes.Status409Conflict, "The stored membership log of this cell does not verify; it was altered outside the relay."));
            }

            if (!log.TryAppend(submitted, out MembershipEntry? entry, out string? error))
            {
                int status = error!.Contains("does not follow", StringComparison.Ordinal) ? StatusCodes.Status409Conflict
                    : error.Contains("only an organizer", StringComparison.Ordinal) || error.Contains("not issued by a current organizer", StringComparison.Ordinal) ? StatusCodes.Status403Forbidden
                    : StatusCodes.Status400BadRequest;
                return (null, new CellRefusal(status, $"The membership entry was refused: {error}."));
            }

            try
            {
                await ApplyAsync(db, cell, entry!, invite, displayName, ct);
                db.Set<MembershipLogRecord>().Add(new MembershipLogRecord { CellId = cellId, Index = entry!.Index, Body = submitted.Body, Signature = submitted.Signature });
                cell.LogLength = log.Length;
                cell.LogHead = log.HeadBytes;
                await conversations.AdvanceEpochAsync(db, cellId, ct);
                if (cell.AnnouncementsId is { } announcements)
                {
                    await conversations.AdvanceEpochAsync(db, announcements, ct);
                }

                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
            }
            catch
            {
                conversations.Discard();
                throw;
            }

            await conversations.PublishAsync(ct);
            foreach (IMembershipObserver observer in observers)
            {
                await observer.PublishAsync(ct);
            }

            int epoch = await db.Conversations.Where(c => c.Id == cellId).Select(c => c.Epoch).FirstAsync(ct);
            return (new AppendEntryResponse(log.Length, log.HeadBytes, epoch), null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The stored log, verified from its first entry; null if it does not verify.</summary>
    public static async Task<MembershipLog?> ReplayAsync(CoordinationDbContext db, Guid cellId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        List<SignedMembershipEntry> entries = await db.Set<MembershipLogRecord>().AsNoTracking()
            .Where(r => r.CellId == cellId).OrderBy(r => r.Index)
            .Select(r => new SignedMembershipEntry(r.Body, r.Signature)).ToListAsync(ct);
        return MembershipLog.TryVerify(cellId, entries, out MembershipLog log, out _) ? log : null;
    }

    private async Task ApplyAsync(CoordinationDbContext db, Cell cell, MembershipEntry entry, Invite? invite, byte[]? displayName, CancellationToken ct)
    {
        DbSet<Membership> memberships = db.Set<Membership>();
        switch (entry.Action)
        {
            case MembershipAction.Admit:
                memberships.Add(new Membership
                {
                    Id = entry.MembershipId,
                    CellId = cell.Id,
                    AccountId = entry.SubjectAccountId,
                    Role = entry.Role,
                    Ceiling = entry.Ceiling,
                    SealedDisplayName = displayName,
                });
                await JoinConversationsAsync(db, cell, entry.SubjectAccountId, entry.Role, ct);
                if (invite is not null)
                {
                    invite.UsesLeft--;
                    if (invite.UsesLeft <= 0)
                    {
                        db.Set<Invite>().Remove(invite);
                    }
                }

                await db.Set<AdmissionCandidate>().Where(a => a.CellId == cell.Id && a.AccountId == entry.SubjectAccountId).ExecuteDeleteAsync(ct);
                break;

            case MembershipAction.SetRole:
                Membership promoted = await memberships.FirstAsync(m => m.Id == entry.MembershipId, ct);
                bool wasNewcomer = promoted.Role == MemberRole.Newcomer;
                promoted.Role = entry.Role;
                if (wasNewcomer && entry.Role != MemberRole.Newcomer)
                {
                    await conversations.AddAsync(db, cell.Id, entry.SubjectAccountId, ct);
                }
                else if (!wasNewcomer && entry.Role == MemberRole.Newcomer)
                {
                    await conversations.RemoveAsync(db, cell.Id, entry.SubjectAccountId, ct);
                }

                break;

            case MembershipAction.SetCeiling:
                Membership changed = await memberships.FirstAsync(m => m.Id == entry.MembershipId, ct);
                changed.Ceiling = entry.Ceiling;
                foreach (IMembershipObserver observer in observers)
                {
                    await observer.CeilingChangedAsync(db, changed, entry.Ceiling, ct);
                }

                break;

            case MembershipAction.Remove:
                await LeaveAsync(db, cell, entry.SubjectAccountId, burned: false, ct);
                break;

            case MembershipAction.Burn:
                // All in the entry's transaction: the log never says "burned" while the devices still work.
                await LeaveAsync(db, cell, entry.SubjectAccountId, burned: true, ct);
                await BurnEverywhereAsync(db, entry.SubjectAccountId, cell.Id, ct);
                break;
        }
    }

    private async Task JoinConversationsAsync(CoordinationDbContext db, Cell cell, Guid accountId, MemberRole role, CancellationToken ct)
    {
        if (cell.AnnouncementsId is { } announcements)
        {
            await conversations.AddAsync(db, announcements, accountId, ct);
        }

        if (role != MemberRole.Newcomer)
        {
            await conversations.AddAsync(db, cell.Id, accountId, ct);
        }
    }

    private async Task LeaveAsync(CoordinationDbContext db, Cell cell, Guid accountId, bool burned, CancellationToken ct)
    {
        Membership? leaving = await db.Set<Membership>().AsNoTracking().FirstOrDefaultAsync(m => m.CellId == cell.Id && m.AccountId == accountId, ct);
        if (leaving is not null)
        {
            foreach (IMembershipObserver observer in observers)
            {
                await observer.MembershipEndingAsync(db, leaving, burned, ct);
            }
        }

        await db.Set<Membership>().Where(m => m.CellId == cell.Id && m.AccountId == accountId).ExecuteDeleteAsync(ct);
        await conversations.RemoveAsync(db, cell.Id, accountId, ct);
        if (cell.AnnouncementsId is { } announcements)
        {
            await conversations.RemoveAsync(db, announcements, accountId, ct);
        }
    }

    /// <summary>
    /// Part of a burn entry's transaction: every device of the member is revoked (sessions,
    /// connections and queued deliveries end), the member leaves every other cell and group, whose
    /// epochs advance, and the invites they issued and vouches they gave anywhere are withdrawn.
    /// Those cells' logs still name the member until one of their organizers signs a removal;
    /// clients encrypt only to members both the log and the relay list, so the relay's removal
    /// takes effect. Other cells' locks are not taken (the burned cell's is held), so two burns
    /// cannot wait on each other; the database serializes the writes.
    /// </summary>
    private async Task BurnEverywhereAsync(CoordinationDbContext db, Guid accountId, Guid burnedIn, CancellationToken ct)
    {
        List<Guid> devices = await db.Devices.Where(d => d.AccountId == accountId && !d.Revoked).Select(d => d.Id).ToListAsync(ct);
        foreach (Guid device in devices)
        {
            await revocation.RevokeAsync(db, device, ct, insideTransaction: true);
        }

        List<Cell> others = await (
            from m in db.Set<Membership>()
            where m.AccountId == accountId && m.CellId != burnedIn
            join c in db.Set<Cell>() on m.CellId equals c.Id
            select c).ToListAsync(ct);
        foreach (Cell cell in others)
        {
            await LeaveAsync(db, cell, accountId, burned: true, ct);
            await conversations.AdvanceEpochAsync(db, cell.Id, ct);
            if (cell.AnnouncementsId is { } announcements)
            {
                await conversations.AdvanceEpochAsync(db, announcements, ct);
            }
        }

        List<Guid> cells = [burnedIn, .. others.Select(c => c.Id)];
        List<Invite> invites = await db.Set<Invite>().Where(i => cells.Contains(i.CellId)).ToListAsync(ct);
        db.Set<Invite>().RemoveRange(invites.Where(i => InviteGrant.TryDecode(i.Grant, out InviteGrant? grant) && grant!.IssuerAccountId == accountId));
        await db.Set<VouchRecord>().Where(v => v.VoucherAccountId == accountId).ExecuteDeleteAsync(ct);
        await db.Set<AdmissionCandidate>().Where(a => a.AccountId == accountId).ExecuteDeleteAsync(ct);
    }
}
