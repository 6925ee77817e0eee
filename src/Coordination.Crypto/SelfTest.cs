using static Coordination.Crypto.Interop.Libsodium;

namespace Coordination.Crypto;

/// <summary>
/// Checks that the loaded library agrees with the sizes compiled into this binding and that one
/// primitive gives a known answer, so a mismatched or broken libsodium stops the process at start.
/// </summary>
internal static class SelfTest
{
    /// <summary>BLAKE2b-512("abc"), RFC 7693 appendix A.</summary>
    private static ReadOnlySpan<byte> Blake2b512Abc =>
    [
        0xBA, 0x80, 0xA5, 0x3F, 0x98, 0x1C, 0x4D, 0x0D, 0x6A, 0x27, 0x97, 0xB6, 0x9F, 0x12, 0xF6, 0xE9,
        0x4C, 0x21, 0x2F, 0x14, 0x68, 0x5A, 0xC4, 0xB7, 0x4B, 0x12, 0xBB, 0x6F, 0xDB, 0xFF, 0xA2, 0xD1,
        0x7D, 0x87, 0xC5, 0x39, 0x2A, 0xAB, 0x79, 0x2D, 0xC2, 0x52, 0xD5, 0xDE, 0x45, 0x33, 0xCC, 0x95,
        0x18, 0xD3, 0x8A, 0xA8, 0xDB, 0xF1, 0x92, 0x5A, 0xB9, 0x23, 0x86, 0xED, 0xD4, 0x00, 0x99, 0x23,
    ];

    internal static void Run()
    {
        Expect(crypto_sign_ed25519_bytes(), crypto_sign_ed25519_BYTES, nameof(crypto_sign_ed25519_bytes));
        Expect(crypto_sign_ed25519_seedbytes(), crypto_sign_ed25519_SEEDBYTES, nameof(crypto_sign_ed25519_seedbytes));
        Expect(crypto_sign_ed25519_publickeybytes(), crypto_sign_ed25519_PUBLICKEYBYTES, nameof(crypto_sign_ed25519_publickeybytes));
        Expect(crypto_sign_ed25519_secretkeybytes(), crypto_sign_ed25519_SECRETKEYBYTES, nameof(crypto_sign_ed25519_secretkeybytes));
        Expect(crypto_scalarmult_curve25519_bytes(), crypto_scalarmult_curve25519_BYTES, nameof(crypto_scalarmult_curve25519_bytes));
        Expect(crypto_scalarmult_curve25519_scalarbytes(), crypto_scalarmult_curve25519_SCALARBYTES, nameof(crypto_scalarmult_curve25519_scalarbytes));
        Expect(crypto_box_publickeybytes(), crypto_box_PUBLICKEYBYTES, nameof(crypto_box_publickeybytes));
        Expect(crypto_box_secretkeybytes(), crypto_box_SECRETKEYBYTES, nameof(crypto_box_secretkeybytes));
        Expect(crypto_box_noncebytes(), crypto_box_NONCEBYTES, nameof(crypto_box_noncebytes));
        Expect(crypto_box_macbytes(), crypto_box_MACBYTES, nameof(crypto_box_macbytes));
        Expect(crypto_box_sealbytes(), crypto_box_SEALBYTES, nameof(crypto_box_sealbytes));
        Expect(crypto_kx_sessionkeybytes(), crypto_kx_SESSIONKEYBYTES, nameof(crypto_kx_sessionkeybytes));
        Expect(crypto_aead_xchacha20poly1305_ietf_keybytes(), crypto_aead_xchacha20poly1305_ietf_KEYBYTES, nameof(crypto_aead_xchacha20poly1305_ietf_keybytes));
        Expect(crypto_aead_xchacha20poly1305_ietf_npubbytes(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, nameof(crypto_aead_xchacha20poly1305_ietf_npubbytes));
        Expect(crypto_aead_xchacha20poly1305_ietf_abytes(), crypto_aead_xchacha20poly1305_ietf_ABYTES, nameof(crypto_aead_xchacha20poly1305_ietf_abytes));
        Expect(crypto_generichash_bytes_max(), crypto_generichash_BYTES_MAX, nameof(crypto_generichash_bytes_max));
        Expect(crypto_generichash_keybytes_max(), crypto_generichash_KEYBYTES_MAX, nameof(crypto_generichash_keybytes_max));
        Expect(crypto_kdf_contextbytes(), crypto_kdf_CONTEXTBYTES, nameof(crypto_kdf_contextbytes));
        Expect(crypto_kdf_keybytes(), crypto_kdf_KEYBYTES, nameof(crypto_kdf_keybytes));
        Expect(crypto_pwhash_saltbytes(), crypto_pwhash_SALTBYTES, nameof(crypto_pwhash_saltbytes));
        if (crypto_pwhash_alg_argon2id13() != crypto_pwhash_ALG_ARGON2ID13)
        {
            throw new SodiumUnavailableException("Self-test failed: crypto_pwhash_alg_argon2id13 does not match this binding.");
        }

        Span<byte> digest = stackalloc byte[64];
        _ = crypto_generichash(digest, 64, "abc"u8, 3, 0, 0);
        if (!digest.SequenceEqual(Blake2b512Abc))
        {
            throw new SodiumUnavailableException("Self-test failed: BLAKE2b-512(\"abc\") does not match RFC 7693.");
        }
    }

    private static void Expect(nuint actual, int expected, string function)
    {
        if (actual != (nuint)expected)
        {
            throw new SodiumUnavailableException($"Self-test failed: {function}() returned {actual}, this binding expects {expected}.");
        }
    }
}
