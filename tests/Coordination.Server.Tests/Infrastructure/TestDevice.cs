using Coordination.Client.Api;
using Coordination.Client.Identity;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Server.Tests.Infrastructure;

/// <summary>A real client device: real keys, real HTTP to the real port.</summary>
public sealed class TestDevice(DeviceIdentity identity, RelayApi api, RelayFactory factory) : IDisposable
{
    public DeviceIdentity Identity { get; } = identity;

    public RelayApi Api { get; } = api;

    public RelayFactory Factory { get; } = factory;

    public Guid AccountId => Identity.AccountId;

    public Guid DeviceId => Identity.DeviceId;

    /// <summary>
    /// An envelope whose ciphertext is <paramref name="text"/> encrypted with a fresh key and padded
    /// to the smallest bucket: what the server sees is indistinguishable from the real thing.
    /// </summary>
    public static SendEnvelope Envelope(Guid conversationId, string text, int? ttlSeconds = null, Guid? messageId = null)
    {
        using SecretKey key = SecretKey.Generate();
        byte[] nonce = SecureRandom.Nonce();
        byte[] sealedText = [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, System.Text.Encoding.UTF8.GetBytes(text))];
        int bucket = Limits.BucketFor(sealedText.Length + 1);
        byte[] padded = Padding.Pad(sealedText, bucket);
        return new SendEnvelope(conversationId, messageId ?? Guid.NewGuid(), padded[..bucket], ttlSeconds);
    }

    public void Dispose()
    {
        Identity.Dispose();
        Api.Dispose();
    }
}
