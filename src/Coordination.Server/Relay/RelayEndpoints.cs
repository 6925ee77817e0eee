using System.Security.Claims;
using Coordination.Crypto;
using Coordination.Protocol;
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
    public static async Task<Ok<List<ConversationInfo>>> ListConversations(ClaimsPrincipal user, CoordinationDbContext db, CancellationToken ct)
    {
        (Guid accountId, _) = DevicePrincipal.From(user);
        List<Guid> ids = await db.ConversationParticipants.AsNoTracking().Where(p => p.AccountId == accountId).Select(p => p.ConversationId).ToListAsync(ct);
        return TypedResults.Ok(await DescribeAsync(db, ids, ct));
    }

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

        List<Guid> participants = [.. entry.Participants];
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
/// devices, live group membership of their open connections, and the directory cache.
/// </summary>
public sealed class ConversationMembership(ConnectionRegistry registry, ConversationDirectory directory, IHubContext<RelayHub, IRelayClient> hub)
{
    public async Task<Guid> CreateAsync(CoordinationDbContext db, ConversationKind kind, IReadOnlyCollection<Guid> accounts, byte[]? directPairKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        Guid conversationId = Guid.NewGuid();
        db.Conversations.Add(new Conversation { Id = conversationId, Kind = kind, Epoch = 0, DirectPairKey = directPairKey });
        foreach (Guid account in accounts)
        {
            db.ConversationParticipants.Add(new ConversationParticipant { ConversationId = conversationId, AccountId = account });
        }

        List<Guid> devices = await db.Devices.Where(d => accounts.Contains(d.AccountId) && !d.Revoked).Select(d => d.Id).ToListAsync(ct);
        foreach (Guid device in devices)
        {
            db.DeliveryCursors.Add(new DeliveryCursor { DeviceId = device, ConversationId = conversationId, AckedSeq = 0 });
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

        directory.Invalidate(conversationId);
        ConversationInfo info = new(conversationId, kind, 0, [.. accounts]);
        foreach (ConnectionRegistry.Connection connection in registry.OfAccounts(accounts))
        {
            await hub.Groups.AddToGroupAsync(connection.ConnectionId, LiveDelivery.GroupFor(conversationId), ct);
            await hub.Clients.Client(connection.ConnectionId).ConversationAdded(info);
        }

        return conversationId;
    }
}
