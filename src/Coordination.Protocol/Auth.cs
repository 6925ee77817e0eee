namespace Coordination.Protocol;

/// <summary>POST /api/v1/auth/challenges.</summary>
public sealed record ChallengeRequest(Guid DeviceId);

/// <summary>A single-use challenge, valid until <paramref name="ExpiresAt"/> (Unix milliseconds).</summary>
public sealed record ChallengeResponse(Guid ChallengeId, byte[] Nonce, long ExpiresAt);

/// <summary>POST /api/v1/auth/sessions: the device's signature over <see cref="SignedStatements.Login"/>.</summary>
public sealed record LoginRequest(Guid ChallengeId, byte[] Signature);

/// <summary>An opaque bearer token (base64url, 32 random bytes); the server keeps only its hash.</summary>
public sealed record LoginResponse(string Token, long ExpiresAt, Guid AccountId, Guid DeviceId);
