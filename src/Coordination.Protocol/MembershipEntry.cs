using System.Buffers.Binary;

namespace Coordination.Protocol;

/// <summary>A member's standing in a cell or GRAS group. The numbers are part of signed bytes.</summary>
public enum MemberRole : byte
{
    Organizer = 1,
    Member = 2,

    /// <summary>On probation: reads the cell's announcements, not its roster or its main conversation.</summary>
    Newcomer = 3,
}

/// <summary>How much risk a member may take on; tasks above it are never offered to them. Part of signed bytes.</summary>
public enum RiskLevel : byte
{
    Low = 0,
    Elevated = 1,
    High = 2,
    Critical = 3,
}

/// <summary>What a membership log entry does. Part of signed bytes.</summary>
public enum MembershipAction : byte
{
    /// <summary>Entry 0: the founder creates the cell as its first organizer.</summary>
    Create = 1,

    /// <summary>An invitee joins with an organizer's signed invite (and the vouches the invite asks for).</summary>
    Admit = 2,

    SetRole = 3,
    SetCeiling = 4,

    /// <summary>An organizer removes a member, or a member leaves.</summary>
    Remove = 5,

    /// <summary>Like <see cref="Remove"/>, and the relay also revokes every device of the member and removes them everywhere.</summary>
    Burn = 6,
}

/// <summary>
/// One entry of a cell's membership log (protocol section 8). <see cref="Encode"/> gives the bytes
/// the signer signs with its account key; the entry's hash, which the next entry names, is
/// BLAKE2b-256(body || signature).
/// </summary>
public sealed record MembershipEntry(
    Guid CellId,
    long Index,
    byte[] PreviousHash,
    MembershipAction Action,
    Guid MembershipId,
    Guid SubjectAccountId,
    byte[] SubjectPublicKey,
    MemberRole Role,
    RiskLevel Ceiling,
    Guid SignerAccountId,
    byte[] SignerPublicKey,
    byte[] Authorization)
{
    public const int HashBytes = 32;
    public const int MaxAuthorizationBytes = 4096;

    public static ReadOnlySpan<byte> Label => "coordination/v1/membership\0"u8;

    private const int FixedBytes = 27 + 16 + 8 + HashBytes + 1 + 16 + 16 + 32 + 1 + 1 + 16 + 32 + 2;

    public static byte[] ZeroHash => new byte[HashBytes];

    /// <summary>The signed bytes: label, then every field in order, integers big-endian, ids as RFC 4122 bytes.</summary>
    public byte[] Encode()
    {
        if (PreviousHash is not { Length: HashBytes } || SubjectPublicKey is not { Length: Limits.PublicKeyBytes }
            || SignerPublicKey is not { Length: Limits.PublicKeyBytes } || Authorization is null || Authorization.Length > MaxAuthorizationBytes)
        {
            throw new ArgumentException("A membership entry has a 32-byte previous hash, 32-byte keys and at most 4096 bytes of authorization.");
        }

        byte[] body = new byte[FixedBytes + Authorization.Length];
        Span<byte> span = body;
        Label.CopyTo(span);
        span = span[Label.Length..];
        Write(ref span, CellId);
        BinaryPrimitives.WriteInt64BigEndian(span, Index);
        span = span[8..];
        Write(ref span, PreviousHash);
        span[0] = (byte)Action;
        span = span[1..];
        Write(ref span, MembershipId);
        Write(ref span, SubjectAccountId);
        Write(ref span, SubjectPublicKey);
        span[0] = (byte)Role;
        span[1] = (byte)Ceiling;
        span = span[2..];
        Write(ref span, SignerAccountId);
        Write(ref span, SignerPublicKey);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)Authorization.Length);
        span = span[2..];
        Authorization.CopyTo(span);
        return body;
    }

    /// <summary>Parses signed bytes; false for anything that is not exactly one well-formed entry.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> body, out MembershipEntry? entry)
    {
        entry = null;
        if (body.Length < FixedBytes || body.Length > FixedBytes + MaxAuthorizationBytes || !body.StartsWith(Label))
        {
            return false;
        }

        ReadOnlySpan<byte> span = body[Label.Length..];
        Guid cell = ReadGuid(ref span);
        long index = BinaryPrimitives.ReadInt64BigEndian(span);
        span = span[8..];
        byte[] previous = Read(ref span, HashBytes);
        byte action = span[0];
        span = span[1..];
        Guid membership = ReadGuid(ref span);
        Guid subject = ReadGuid(ref span);
        byte[] subjectKey = Read(ref span, Limits.PublicKeyBytes);
        byte role = span[0];
        byte ceiling = span[1];
        span = span[2..];
        Guid signer = ReadGuid(ref span);
        byte[] signerKey = Read(ref span, Limits.PublicKeyBytes);
        int length = BinaryPrimitives.ReadUInt16BigEndian(span);
        span = span[2..];
        if (span.Length != length || index < 0 || !Enum.IsDefined((MembershipAction)action)
            || (role != 0 && !Enum.IsDefined((MemberRole)role)) || !Enum.IsDefined((RiskLevel)ceiling))
        {
            return false;
        }

        entry = new MembershipEntry(cell, index, previous, (MembershipAction)action, membership, subject, subjectKey, (MemberRole)role, (RiskLevel)ceiling, signer, signerKey, span.ToArray());
        return true;
    }

    private static void Write(ref Span<byte> span, Guid value)
    {
        _ = value.TryWriteBytes(span, bigEndian: true, out _);
        span = span[16..];
    }

    private static void Write(ref Span<byte> span, byte[] value)
    {
        value.CopyTo(span);
        span = span[value.Length..];
    }

    private static Guid ReadGuid(ref ReadOnlySpan<byte> span)
    {
        Guid value = new(span[..16], bigEndian: true);
        span = span[16..];
        return value;
    }

    private static byte[] Read(ref ReadOnlySpan<byte> span, int length)
    {
        byte[] value = span[..length].ToArray();
        span = span[length..];
        return value;
    }
}

/// <summary>
/// What an organizer signs to create an invite (protocol section 8.3). The invitee proves it holds
/// the code by signing with the invite key derived from it; the relay stores only the lookup id.
/// </summary>
public sealed record InviteGrant(
    Guid CellId,
    byte[] LookupId,
    byte[] InvitePublicKey,
    MemberRole Role,
    RiskLevel Ceiling,
    int Uses,
    long ExpiresAt,
    int RequiredVouches,
    Guid IssuerAccountId,
    byte[] IssuerPublicKey)
{
    public const int EncodedBytes = 23 + 16 + 32 + 32 + 1 + 1 + 2 + 8 + 1 + 16 + 32;
    public const int MaxUses = 1000;
    public const int MaxVouches = 20;

    public static ReadOnlySpan<byte> Label => "coordination/v1/invite\0"u8;

    public byte[] Encode()
    {
        if (LookupId is not { Length: Limits.InviteLookupIdBytes } || InvitePublicKey is not { Length: Limits.PublicKeyBytes }
            || IssuerPublicKey is not { Length: Limits.PublicKeyBytes } || Uses is < 1 or > MaxUses || RequiredVouches is < 0 or > MaxVouches)
        {
            throw new ArgumentException("An invite grant has a 32-byte lookup id, 32-byte keys, 1 to 1000 uses and 0 to 20 vouches.");
        }

        byte[] bytes = new byte[EncodedBytes];
        Span<byte> span = bytes;
        Label.CopyTo(span);
        span = span[Label.Length..];
        _ = CellId.TryWriteBytes(span, bigEndian: true, out _);
        span = span[16..];
        LookupId.CopyTo(span);
        span = span[32..];
        InvitePublicKey.CopyTo(span);
        span = span[32..];
        span[0] = (byte)Role;
        span[1] = (byte)Ceiling;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)Uses);
        BinaryPrimitives.WriteInt64BigEndian(span[4..], ExpiresAt);
        span[12] = (byte)RequiredVouches;
        span = span[13..];
        _ = IssuerAccountId.TryWriteBytes(span, bigEndian: true, out _);
        IssuerPublicKey.CopyTo(span[16..]);
        return bytes;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out InviteGrant? grant)
    {
        grant = null;
        if (bytes.Length != EncodedBytes || !bytes.StartsWith(Label))
        {
            return false;
        }

        ReadOnlySpan<byte> span = bytes[Label.Length..];
        Guid cell = new(span[..16], bigEndian: true);
        byte[] lookup = span[16..48].ToArray();
        byte[] inviteKey = span[48..80].ToArray();
        span = span[80..];
        byte role = span[0];
        byte ceiling = span[1];
        int uses = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        long expires = BinaryPrimitives.ReadInt64BigEndian(span[4..]);
        int vouches = span[12];
        span = span[13..];
        Guid issuer = new(span[..16], bigEndian: true);
        byte[] issuerKey = span[16..48].ToArray();
        if (!Enum.IsDefined((MemberRole)role) || !Enum.IsDefined((RiskLevel)ceiling) || uses is < 1 or > MaxUses || vouches > MaxVouches)
        {
            return false;
        }

        grant = new InviteGrant(cell, lookup, inviteKey, (MemberRole)role, (RiskLevel)ceiling, uses, expires, vouches, issuer, issuerKey);
        return true;
    }
}

/// <summary>A member's signature saying they vouch for an invitee (protocol section 8.4).</summary>
public sealed record Vouch(Guid VoucherAccountId, byte[] Signature)
{
    public const int EncodedBytes = 16 + Limits.SignatureBytes;
}

/// <summary>Statements signed inside admissions: by the invite key and by vouchers.</summary>
public static class AdmissionStatements
{
    /// <summary>"coordination/v1/admit\0" || cellId || lookupId || membershipId || subjectAccountId || subjectPublicKey.</summary>
    public static byte[] Admit(Guid cellId, ReadOnlySpan<byte> lookupId, Guid membershipId, Guid subjectAccountId, ReadOnlySpan<byte> subjectPublicKey) =>
        Statement("coordination/v1/admit\0"u8, cellId, lookupId, membershipId, subjectAccountId, subjectPublicKey);

    /// <summary>"coordination/v1/vouch\0" || cellId || lookupId || zero id || subjectAccountId || subjectPublicKey.</summary>
    public static byte[] VouchFor(Guid cellId, ReadOnlySpan<byte> lookupId, Guid subjectAccountId, ReadOnlySpan<byte> subjectPublicKey) =>
        Statement("coordination/v1/vouch\0"u8, cellId, lookupId, Guid.Empty, subjectAccountId, subjectPublicKey);

    /// <summary>
    /// The authorization of an Admit entry: grant || grantSignature(64) || admitSignature(64) ||
    /// vouchCount(1) || (voucherAccountId(16) || signature(64)) * vouchCount.
    /// </summary>
    public static byte[] EncodeAuthorization(byte[] grant, byte[] grantSignature, byte[] admitSignature, IReadOnlyList<Coordination.Protocol.Vouch> vouches)
    {
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentNullException.ThrowIfNull(vouches);
        if (grant.Length != InviteGrant.EncodedBytes || grantSignature is not { Length: Limits.SignatureBytes }
            || admitSignature is not { Length: Limits.SignatureBytes } || vouches.Count > InviteGrant.MaxVouches)
        {
            throw new ArgumentException("An admission carries one grant, two 64-byte signatures and at most 20 vouches.");
        }

        List<byte> bytes = [.. grant, .. grantSignature, .. admitSignature, (byte)vouches.Count];
        foreach (Coordination.Protocol.Vouch vouch in vouches)
        {
            byte[] id = vouch.VoucherAccountId.ToByteArray(bigEndian: true);
            bytes.AddRange(id);
            bytes.AddRange(vouch.Signature is { Length: Limits.SignatureBytes } s ? s : throw new ArgumentException("A vouch signature is 64 bytes."));
        }

        return [.. bytes];
    }

    public static bool TryDecodeAuthorization(ReadOnlySpan<byte> bytes, out byte[] grant, out byte[] grantSignature, out byte[] admitSignature, out List<Coordination.Protocol.Vouch> vouches)
    {
        grant = grantSignature = admitSignature = [];
        vouches = [];
        int head = InviteGrant.EncodedBytes + (2 * Limits.SignatureBytes) + 1;
        if (bytes.Length < head)
        {
            return false;
        }

        int count = bytes[head - 1];
        if (count > InviteGrant.MaxVouches || bytes.Length != head + (count * Coordination.Protocol.Vouch.EncodedBytes))
        {
            return false;
        }

        grant = bytes[..InviteGrant.EncodedBytes].ToArray();
        grantSignature = bytes.Slice(InviteGrant.EncodedBytes, Limits.SignatureBytes).ToArray();
        admitSignature = bytes.Slice(InviteGrant.EncodedBytes + Limits.SignatureBytes, Limits.SignatureBytes).ToArray();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> vouch = bytes.Slice(head + (i * Coordination.Protocol.Vouch.EncodedBytes), Coordination.Protocol.Vouch.EncodedBytes);
            vouches.Add(new Coordination.Protocol.Vouch(new Guid(vouch[..16], bigEndian: true), vouch[16..].ToArray()));
        }

        return true;
    }

    private static byte[] Statement(ReadOnlySpan<byte> label, Guid cellId, ReadOnlySpan<byte> lookupId, Guid membershipId, Guid subjectAccountId, ReadOnlySpan<byte> subjectPublicKey)
    {
        if (lookupId.Length != Limits.InviteLookupIdBytes || subjectPublicKey.Length != Limits.PublicKeyBytes)
        {
            throw new ArgumentException("The lookup id and the public key are 32 bytes each.");
        }

        byte[] bytes = new byte[label.Length + 16 + 32 + 16 + 16 + 32];
        Span<byte> span = bytes;
        label.CopyTo(span);
        span = span[label.Length..];
        _ = cellId.TryWriteBytes(span, bigEndian: true, out _);
        lookupId.CopyTo(span[16..]);
        _ = membershipId.TryWriteBytes(span[48..], bigEndian: true, out _);
        _ = subjectAccountId.TryWriteBytes(span[64..], bigEndian: true, out _);
        subjectPublicKey.CopyTo(span[80..]);
        return bytes;
    }
}
