using System.Security.Cryptography;
using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>A pair of 32-byte session keys from <see cref="KeyExchange"/>: one to receive, one to send.</summary>
public sealed class SessionKeys : IDisposable
{
    internal SessionKeys(SecretKey receive, SecretKey transmit)
    {
        Receive = receive;
        Transmit = transmit;
    }

    /// <summary>Decrypts what the peer sends.</summary>
    public SecretKey Receive { get; }

    /// <summary>Encrypts what this side sends.</summary>
    public SecretKey Transmit { get; }

    public void Dispose()
    {
        Receive.Dispose();
        Transmit.Dispose();
    }
}

/// <summary>
/// libsodium <c>crypto_kx</c>: both sides derive the same two session keys,
/// BLAKE2b-512(X25519(sk, peer_pk) || client_pk || server_pk) split in halves. The client's transmit
/// key is the server's receive key and the other way round.
/// </summary>
public static class KeyExchange
{
    public const int SessionKeySize = crypto_kx_SESSIONKEYBYTES;

    /// <summary>Session keys for the client side; throws if the server key is of low order.</summary>
    public static SessionKeys ClientSessionKeys(X25519KeyPair client, X25519PublicKey server)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(server);
        SecretKey rx = SecretKey.Allocate(SessionKeySize);
        SecretKey tx = SecretKey.Allocate(SessionKeySize);
        if (crypto_kx_client_session_keys(rx.Memory, tx.Memory, client.PublicKey.Bytes, client.PrivateKey, server.Bytes) != 0)
        {
            rx.Dispose();
            tx.Dispose();
            throw new CryptographicException("The server public key is not acceptable for key exchange (low order).");
        }

        return new SessionKeys(rx, tx);
    }

    /// <summary>Session keys for the server side; throws if the client key is of low order.</summary>
    public static SessionKeys ServerSessionKeys(X25519KeyPair server, X25519PublicKey client)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(client);
        SecretKey rx = SecretKey.Allocate(SessionKeySize);
        SecretKey tx = SecretKey.Allocate(SessionKeySize);
        if (crypto_kx_server_session_keys(rx.Memory, tx.Memory, server.PublicKey.Bytes, server.PrivateKey, client.Bytes) != 0)
        {
            rx.Dispose();
            tx.Dispose();
            throw new CryptographicException("The client public key is not acceptable for key exchange (low order).");
        }

        return new SessionKeys(rx, tx);
    }
}
