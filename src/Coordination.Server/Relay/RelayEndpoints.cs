using System.Security.Claims;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Auth;
using Coordination.Server.Hosting;
using Coordination.Server.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Relay;

public static class RelayEndpoints
{
    public static IEndpointRouteBuilder MapRelay(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder conversations = app.MapGroup("/api/v1/conversations").WithTags("Conversations").RequireAuthorization();
        conversations.MapGet("/", ListConversations).WithName(nameof(ListConversations));
        conversations.MapPost("/direct", OpenDirectConversation).WithName(nameof(OpenDirectConversation));
        conversations.MapGet("/{conversationId:guid}/devices", ListRecipientDevices).WithName(nameof(ListRecipientDevices));
        conversations.MapPost("/{conversationId:guid}/envelopes", SendEnvelope).WithName(nameof(SendEnvelope));

        RouteGroupBuilder inbox = app.MapGroup("/api/v1/inbox").WithTags("Inbox").RequireAuthorization();
        inbox.MapGet("/", FetchInbox).WithName(nameof(FetchInbox));
        inbox.MapPost("/acks", AcknowledgeInbox).WithName(nameof(AcknowledgeInbox));

        app.MapHub<RelayHub>(RelayHubContract.Path, options =>
        {
            options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
            options.ApplicationMaxBufferSize = Limits.MaxWireMessageBytes;
            options.TransportMaxBufferSize = Limits.MaxWireMessageBytes;
            options.CloseOnAuthenticationExpiration = true;
        });
        return app;
    }

    /// <summary>The conversations this device's account takes part in.</summary>
    public static async Task<Ok<List<ConversationInfo>>> ListConversations(ClaimsPrincipal user, CoordinationDbContext db, ConversationDirectory directory, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        List<Guid> ids = await db.ConversationParticipants.AsNoTracking().Where(p => p.AccountId == accountId).Select(p => p.ConversationId).ToListAsync(ct);
        List<ConversationInfo> conversations = [];
        foreach (ConversationInfo info in await DescribeAsync(db, ids, ct))
        {
            // Only announcements narrow what the caller sees (Audience); no directory lookup for the rest.
            ConversationDirectory.Entry? entry = info.Kind == ConversationKind.Announcements ? await directory.GetAsync(info.ConversationId, ct) : null;
            conversations.Add(entry is null ? info : info with { Participants = [.. Audience(entry, accountId)] });
        }

        return TypedResults.Ok(conversations);
    }

    /// <summary>
    /// Who the caller may see in a conversation: everyone, except in a cell's announcements, where
    /// a reader sees only the organizers (and themselves): the announcements' audience is the whole
    /// roster, newcomers included, and newcomers must not learn the roster from it.
    /// </summary>
    internal static IEnumerable<Guid> Audience(ConversationDirectory.Entry entry, Guid caller) =>
        entry.Writers is null || entry.Writers.Contains(caller)
            ? entry.Participants
            : entry.Participants.Where(p => p == caller || entry.Writers.Contains(p));

    /// <summary>The direct conversation with another account; created the first time either side asks.</summary>
    public static async Task<Results<Ok<ConversationInfo>, ProblemHttpResult>> OpenDirectConversation(
        OpenDirectConversationRequest request, ClaimsPrincipal user, CoordinationDbContext db, ConversationMembership membership, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        if (request is null || request.PeerAccountId == Guid.Empty)
        {
            return Problems.BadRequest("peerAccountId is required.");
        }

        if (request.PeerAccountId == accountId)
        {
            return Problems.BadRequest("A direct conversation needs another account.");
        }

        if (!await db.Accounts.AnyAsync(a => a.Id == request.PeerAccountId, ct))
        {
            return Problems.NotFound("No such account.");
        }

        byte[] pairKey = DirectPairKey(accountId, request.PeerAccountId);
        Conversation? existing = await db.Conversations.AsNoTracking().FirstOrDefaultAsync(c => c.DirectPairKey == pairKey, ct);
        Guid conversationId = existing?.Id ?? await membership.CreateAsync(db, ConversationKind.Direct, [accountId, request.PeerAccountId], pairKey, ct);
        return TypedResults.Ok((await DescribeAsync(db, [conversationId], ct))[0]);
    }

    /// <summary>Every active device of every participant, with the keys to encrypt to it.</summary>
    public static async Task<Results<Ok<List<RecipientDevice>>, ProblemHttpResult>> ListRecipientDevices(
        Guid conversationId, ClaimsPrincipal user, CoordinationDbContext db, ConversationDirectory directory, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        ConversationDirectory.Entry? entry = await directory.ForParticipantAsync(conversationId, accountId, ct);
        if (entry is null)
        {
            return Problems.NotFound("No such conversation.");
        }

        List<Guid> participants = [.. Audience(entry, accountId)];
        var rows = await (
            from d in db.Devices
            join a in db.Accounts on d.AccountId equals a.Id
            where participants.Contains(d.AccountId) && !d.Revoked
            select new { a.Id, a.PublicKey, Device = d }).AsNoTracking().ToListAsync(ct);
        return TypedResults.Ok(rows
            .Select(r => new RecipientDevice(r.Id, r.PublicKey, new DeviceInfo(r.Device.Id, r.Device.SigningPublicKey, r.Device.AgreementPublicKey, r.Device.AccountSignature, r.Device.Revoked)))
            .ToList());
    }

    /// <summary>Stores an envelope durably and returns the acknowledgement (REST twin of the hub's Send).</summary>
    public static async Task<Results<Ok<SendResult>, ProblemHttpResult>> SendEnvelope(
        Guid conversationId, SendEnvelope envelope, ClaimsPrincipal user, EnvelopeRelay relay, CancellationToken ct)
    {
        (Guid accountId, Guid deviceId) = DevicePrincipal.From(user);
        if (envelope is not null && envelope.ConversationId != conversationId)
        {
            return Problems.BadRequest("conversationId in the body must match the path.");
        }

        (SendResult? result, RelayRefusal? refusal) = await relay.SendAsync(accountId, deviceId, envelope, null, ct);
        return result is not null ? TypedResults.Ok(result) : Problems.Problem(refusal!.Status, refusal.Detail);
    }

    /// <summary>The next page of envelopes this device has not acknowledged, in relay order.</summary>
    public static async Task<Ok<InboxPage>> FetchInbox(ClaimsPrincipal user, CoordinationDbContext db, TimeProvider clock, int? limit, CancellationToken ct)
    {
        (_, Guid deviceId) = DevicePrincipal.From(user);
        return TypedResults.Ok(await EnvelopeRelay.FetchAsync(db, deviceId, limit ?? Limits.DefaultFetchPageSize, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct));
    }

    /// <summary>Cumulative acknowledgements per conversation.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> AcknowledgeInbox(AckRequest request, ClaimsPrincipal user, EnvelopeRelay relay, CancellationToken ct)
    {
        (_, Guid deviceId) = DevicePrincipal.From(user);
        RelayRefusal? refusal = await relay.AckAsync(deviceId, request, ct);
        return refusal is null ? TypedResults.NoContent() : Problems.Problem(refusal.Status, refusal.Detail);
    }

    internal static byte[] DirectPairKey(Guid a, Guid b)
    {
        Span<byte> both = stackalloc byte[32];
        (Guid first, Guid second) = a.CompareTo(b) < 0 ? (a, b) : (b, a);
        _ = first.TryWriteBytes(both[..16]);
        _ = second.TryWriteBytes(both[16..]);
        return Blake2b.Hash(both, 32);
    }

    internal static async Task<List<ConversationInfo>> DescribeAsync(CoordinationDbContext db, List<Guid> ids, CancellationToken ct)
    {
        List<Conversation> conversations = await db.Conversations.AsNoTracking().Where(c => ids.Contains(c.Id)).ToListAsync(ct);
        var participants = await db.ConversationParticipants.AsNoTracking().Where(p => ids.Contains(p.ConversationId)).ToListAsync(ct);
        return conversations
            .Select(c => new ConversationInfo(c.Id, c.Kind, c.Epoch, participants.Where(p => p.ConversationId == c.Id).Select(p => p.AccountId).ToList()))
            .ToList();
    }
}

/// <summary>
/// Creates conversations and changes who is in them: participants, delivery cursors for their
/// devices, live group membership of their open connections, and the directory cache. Database
/// changes join the caller's unit of work; <see cref="PublishAsync"/> applies the live side after
/// the caller committed.
/// </summary>
public sealed class ConversationMembership(
    ConnectionRegistry registry, ConversationDirectory directory, IHubContext<RelayHub, IRelayClient> hub, RelayWriter writer, CoordinationDbContext db, NodeSignals signals)
{
    private readonly List<(Guid ConversationId, Guid AccountId, bool Added)> _pending = [];

    /// <summary>
    /// Creates a conversation. With <paramref name="partOfUnitOfWork"/> the caller saves (in its
    /// transaction) and then calls <see cref="PublishAsync"/>; otherwise it is saved and published here.
    /// </summary>
    public async Task<Guid> CreateAsync(
        CoordinationDbContext db, ConversationKind kind, IReadOnlyCollection<Guid> accounts, byte[]? directPairKey, CancellationToken ct,
        Guid? conversationId = null, bool partOfUnitOfWork = false)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(accounts);
        Guid id = conversationId ?? Guid.NewGuid();
        db.Conversations.Add(new Conversation { Id = id, Kind = kind, Epoch = 0, DirectPairKey = directPairKey });
        foreach (Guid account in accounts)
        {
            db.ConversationParticipants.Add(new ConversationParticipant { ConversationId = id, AccountId = account });
        }

        List<Guid> devices = await db.Devices.Where(d => accounts.Contains(d.AccountId) && !d.Revoked).Select(d => d.Id).ToListAsync(ct);
        foreach (Guid device in devices)
        {
            db.DeliveryCursors.Add(new DeliveryCursor { DeviceId = device, ConversationId = id, AckedSeq = 0 });
        }

        if (partOfUnitOfWork)
        {
            _pending.AddRange(accounts.Select(a => (id, a, true)));
            return id;
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException) when (directPairKey is not null)
        {
            // Both sides opened the same direct conversation at once; the other insert won.
            db.ChangeTracker.Clear();
            return await db.Conversations.Where(c => c.DirectPairKey == directPairKey).Select(c => c.Id).FirstAsync(ct);
        }

        _pending.AddRange(accounts.Select(a => (id, a, true)));
        await PublishAsync(ct);
        return id;
    }

    /// <summary>
    /// Adds an account to a conversation. Its devices start after everything already stored: they
    /// could not decrypt older group messages anyway (those belong to earlier epochs).
    /// </summary>
    public async Task AddAsync(CoordinationDbContext db, Guid conversationId, Guid accountId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (await db.ConversationParticipants.AnyAsync(p => p.ConversationId == conversationId && p.AccountId == accountId, ct))
        {
            return;
        }

        long latest = await db.Envelopes.Where(e => e.ConversationId == conversationId).MaxAsync(e => (long?)e.Seq, ct) ?? 0;
        db.ConversationParticipants.Add(new ConversationParticipant { ConversationId = conversationId, AccountId = accountId });
        List<Guid> devices = await db.Devices.Where(d => d.AccountId == accountId && !d.Revoked).Select(d => d.Id).ToListAsync(ct);
        foreach (Guid device in devices)
        {
            db.DeliveryCursors.Add(new DeliveryCursor { DeviceId = device, ConversationId = conversationId, AckedSeq = latest });
        }

        _pending.Add((conversationId, accountId, true));
    }

    /// <summary>Removes an account from a conversation: nothing more is delivered to its devices, and nothing waits for them.</summary>
    public async Task RemoveAsync(CoordinationDbContext db, Guid conversationId, Guid accountId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        await db.ConversationParticipants.Where(p => p.ConversationId == conversationId && p.AccountId == accountId).ExecuteDeleteAsync(ct);
        List<Guid> devices = await db.Devices.Where(d => d.AccountId == accountId).Select(d => d.Id).ToListAsync(ct);
        await db.DeliveryCursors.Where(c => c.ConversationId == conversationId && devices.Contains(c.DeviceId)).ExecuteDeleteAsync(ct);
        _pending.Add((conversationId, accountId, false));
    }

    /// <summary>Moves the conversation to its next epoch; group messages for older epochs are refused from now on.</summary>
    public async Task AdvanceEpochAsync(CoordinationDbContext db, Guid conversationId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        await db.Conversations.Where(c => c.Id == conversationId).ExecuteUpdateAsync(s => s.SetProperty(c => c.Epoch, c => c.Epoch + 1), ct);
        _pending.Add((conversationId, Guid.Empty, false));
    }

    /// <summary>
    /// After the caller's commit: tell the other relay nodes, refresh the directory, move open
    /// connections in or out of live delivery, and sweep.
    /// </summary>
    public async Task PublishAsync(CancellationToken ct)
    {
        List<(Guid ConversationId, Guid AccountId, bool Added)> changes = [.. _pending];
        _pending.Clear();
        if (changes.Count == 0)
        {
            return;
        }

        await signals.PublishAsync(db, new RelaySignal.MembershipChanged(signals.NodeId, changes), ct);
        await ApplyLocallyAsync(changes, ct);
        if (changes.Exists(c => !c.Added && c.AccountId != Guid.Empty))
        {
            await writer.SweepAsync([.. changes.Select(c => c.ConversationId).Distinct()]);
        }
    }

    /// <summary>
    /// The live side of committed changes on this node (its own, or another node's signal): the
    /// directory, the live groups of this node's connections, and notices to accounts added.
    /// </summary>
    public async Task ApplyLocallyAsync(IReadOnlyList<(Guid ConversationId, Guid AccountId, bool Added)> changes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(changes);
        HashSet<Guid> touched = [.. changes.Select(c => c.ConversationId)];
        foreach (Guid conversation in touched)
        {
            directory.Invalidate(conversation);
        }

        foreach ((Guid conversationId, Guid accountId, bool added) in changes.Where(c => c.AccountId != Guid.Empty))
        {
            foreach (ConnectionRegistry.Connection connection in registry.OfAccounts([accountId]))
            {
                if (added)
                {
                    await hub.Groups.AddToGroupAsync(connection.ConnectionId, LiveDelivery.GroupFor(conversationId), ct);
                }
                else
                {
                    await hub.Groups.RemoveFromGroupAsync(connection.ConnectionId, LiveDelivery.GroupFor(conversationId), ct);
                }
            }
        }

        foreach (Guid conversation in touched)
        {
            ConversationDirectory.Entry? entry = await directory.GetAsync(conversation, ct);
            if (entry is null)
            {
                continue;
            }

            foreach (ConnectionRegistry.Connection connection in registry.OfAccounts([.. changes.Where(c => c.ConversationId == conversation && c.Added).Select(c => c.AccountId)]))
            {
                // Each one sees the audience they may see (a newcomer: only the organizers of the announcements).
                ConversationInfo info = new(conversation, entry.Kind, entry.Epoch, [.. RelayEndpoints.Audience(entry, connection.AccountId)]);
                await hub.Clients.Client(connection.ConnectionId).ConversationAdded(info);
            }
        }
    }

    /// <summary>Forgets changes of a unit of work that was rolled back.</summary>
    public void Discard() => _pending.Clear();
}
