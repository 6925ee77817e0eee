using System.Buffers.Text;
using System.Collections.Concurrent;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Coordination.Server.Auth;

/// <summary>
/// Session tokens: 32 random bytes given to the device once; the database and the cache hold only
/// BLAKE2b-256 of the token. Revoking a device drops its sessions from both at once.
/// </summary>
public sealed class SessionStore(IServiceScopeFactory scopes, TimeProvider clock, NodeSignals signals)
{
    private const int MaxCached = 200_000;

    private readonly ConcurrentDictionary<string, DevicePrincipal> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, byte> _revokedDevices = new();

    public static byte[] HashToken(ReadOnlySpan<byte> token) => Blake2b.Hash(token, 32);

    /// <summary>Creates a session and returns the token (base64url) to hand to the device.</summary>
    public async Task<(string Token, DevicePrincipal Principal)> CreateAsync(CoordinationDbContext db, Guid accountId, Guid deviceId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        byte[] token = SecureRandom.Bytes(Limits.SessionTokenBytes);
        long expiresAt = clock.GetUtcNow().Add(Limits.SessionLifetime).ToUnixTimeMilliseconds();
        byte[] hash = HashToken(token);
        db.Sessions.Add(new Session { TokenHash = hash, DeviceId = deviceId, ExpiresAt = expiresAt });
        await db.SaveChangesAsync(ct);
        DevicePrincipal principal = new(accountId, deviceId, expiresAt);
        Cache(hash, principal);
        return (Base64Url.EncodeToString(token), principal);
    }

    /// <summary>The device a token belongs to, or null if it is unknown, expired or its device revoked.</summary>
    public async ValueTask<DevicePrincipal?> ValidateAsync(string token, CancellationToken ct)
    {
        if (token.Length is 0 or > 64)
        {
            return null;
        }

        byte[] raw = new byte[Limits.SessionTokenBytes];
        if (!Base64Url.IsValid(token) || !Base64Url.TryDecodeFromChars(token, raw, out int written) || written != Limits.SessionTokenBytes)
        {
            return null;
        }

        byte[] hash = HashToken(raw);
        string key = Convert.ToHexString(hash);
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (_cache.TryGetValue(key, out DevicePrincipal? cached))
        {
            if (_revokedDevices.ContainsKey(cached.DeviceId))
            {
                _cache.TryRemove(key, out _);
                return null;
            }

            if (cached.ExpiresAt > now)
            {
                return cached;
            }

            _cache.TryRemove(key, out _);
            return null;
        }

        await using AsyncServiceScope scope = scopes.CreateAsyncScope();
        CoordinationDbContext db = scope.ServiceProvider.GetRequiredService<CoordinationDbContext>();
        DevicePrincipal? principal = await (
            from s in db.Sessions
            join d in db.Devices on s.DeviceId equals d.Id
            where s.TokenHash == hash && s.ExpiresAt > now && !d.Revoked
            select new DevicePrincipal(d.AccountId, d.Id, s.ExpiresAt)).FirstOrDefaultAsync(ct);
        if (principal is null || _revokedDevices.ContainsKey(principal.DeviceId))
        {
            // Checked after the read too: a revocation may have landed while the query ran.
            return null;
        }

        Cache(hash, principal);
        return principal;
    }

    /// <summary>Ends one session (logout).</summary>
    public async Task EndAsync(CoordinationDbContext db, string token, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        byte[] raw = new byte[Limits.SessionTokenBytes];
        if (!Base64Url.IsValid(token) || !Base64Url.TryDecodeFromChars(token, raw, out int written) || written != Limits.SessionTokenBytes)
        {
            return;
        }

        byte[] hash = HashToken(raw);
        _cache.TryRemove(Convert.ToHexString(hash), out _);
        Guid? deviceId = await db.Sessions.Where(s => s.TokenHash == hash).Select(s => (Guid?)s.DeviceId).FirstOrDefaultAsync(ct);
        if (deviceId is { } device && await db.Sessions.Where(s => s.TokenHash == hash).ExecuteDeleteAsync(ct) > 0)
        {
            // Other nodes may have this session cached; they drop the device's cached sessions.
            await signals.PublishAsync(db, new RelaySignal.SessionEnded(signals.NodeId, device), ct);
        }
    }

    /// <summary>Drops the device's cached sessions (another node ended one); the others are read again from the database.</summary>
    public void DropCached(Guid deviceId)
    {
        foreach (KeyValuePair<string, DevicePrincipal> entry in _cache)
        {
            if (entry.Value.DeviceId == deviceId)
            {
                _cache.TryRemove(entry);
            }
        }
    }

    /// <summary>Drops every cached session (this node may have missed another node's changes).</summary>
    public void DropAllCached() => _cache.Clear();

    /// <summary>
    /// Refuses every token of a revoked device from now on and drops its cached sessions (the
    /// caller deletes the rows).
    /// </summary>
    public void ForgetDevice(Guid deviceId)
    {
        _revokedDevices[deviceId] = 0;
        DropCached(deviceId);
    }

    private void Cache(byte[] hash, DevicePrincipal principal)
    {
        if (_cache.Count >= MaxCached)
        {
            _cache.Clear();
        }

        _cache[Convert.ToHexString(hash)] = principal;
    }
}
