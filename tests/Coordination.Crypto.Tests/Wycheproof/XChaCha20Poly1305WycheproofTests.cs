using System.Globalization;
using Xunit.Abstractions;

namespace Coordination.Crypto.Tests.Wycheproof;

// Wycheproof xchacha20_poly1305_test.json against XChaCha20Poly1305 (libsodium
// crypto_aead_xchacha20poly1305_ietf_*), through the public API only.
//
// Expected outcome per case:
//   valid      Encrypt(key, iv, msg, aad) == ct || tag, and TryDecrypt(ct || tag) returns true with msg.
//   invalid    must be rejected, and the test asserts HOW:
//              - iv not 24 bytes (flag InvalidNonceSize): TryDecrypt throws ArgumentException with
//                ParamName "nonce" (and so does Encrypt); the wrapper checks the nonce before libsodium.
//              - anything else (ModifiedTag): TryDecrypt returns false with a null plaintext.
//   acceptable the file has none; one appearing fails the test until a policy is written down here.
public class XChaCha20Poly1305WycheproofTests
{
    private const string FileName = "xchacha20_poly1305_test.json";
    private const int MinimumCases = 300;
    private const string InvalidNonceSize = "InvalidNonceSize";

    private readonly ITestOutputHelper _output;

    public XChaCha20Poly1305WycheproofTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private enum Rejection
    {
        None,
        DecryptReturnedFalse,
        NonceArgumentException,
    }

    [Fact]
    public void XChaCha20Poly1305_WycheproofVectors_AllValidPassAndInvalidRejected()
    {
        WycheproofFile<AeadTestGroup> file = WycheproofVectors.Load<AeadTestGroup>(FileName);
        Assert.Equal("XCHACHA20-POLY1305", file.Algorithm);

        List<string> failures = [];
        int read = 0;
        int validPassed = 0;
        int rejectedByTag = 0;
        int rejectedByNonceLength = 0;

        foreach (AeadTestGroup group in file.TestGroups)
        {
            Assert.Equal("AeadTest", group.Type);
            foreach (AeadTestCase testCase in group.Tests)
            {
                read++;
                try
                {
                    switch (testCase.Result)
                    {
                        case WycheproofVectors.Valid:
                            if (CheckValid(testCase, failures))
                            {
                                validPassed++;
                            }

                            break;
                        case WycheproofVectors.Invalid:
                            switch (CheckInvalid(testCase, failures))
                            {
                                case Rejection.DecryptReturnedFalse:
                                    rejectedByTag++;
                                    break;
                                case Rejection.NonceArgumentException:
                                    rejectedByNonceLength++;
                                    break;
                                case Rejection.None:
                                    break;
                            }

                            break;
                        default:
                            failures.Add(WycheproofVectors.Failure(testCase, "no documented expected outcome for this result"));
                            break;
                    }
                }
                catch (Exception ex) when (ex is not SodiumUnavailableException)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "unexpected " + ex.GetType().Name + ": " + ex.Message));
                }
            }
        }

        _output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{FileName}: {read} cases read (numberOfTests {file.NumberOfTests}); {validPassed} valid passed, {rejectedByTag} invalid rejected by TryDecrypt, {rejectedByNonceLength} invalid rejected by nonce length (ArgumentException)."));

        Assert.True(failures.Count == 0, WycheproofVectors.Report("XChaCha20-Poly1305", failures));
        Assert.Equal(file.NumberOfTests, read);
        Assert.True(read >= MinimumCases, string.Create(CultureInfo.InvariantCulture, $"Expected at least {MinimumCases} XChaCha20-Poly1305 cases, read {read}."));
    }

    private static bool CheckValid(AeadTestCase testCase, List<string> failures)
    {
        byte[] nonce = WycheproofVectors.Bytes(testCase.Iv);
        byte[] aad = WycheproofVectors.Bytes(testCase.Aad);
        byte[] message = WycheproofVectors.Bytes(testCase.Msg);
        byte[] expected = [.. WycheproofVectors.Bytes(testCase.Ct), .. WycheproofVectors.Bytes(testCase.Tag)];
        using SecretKey key = SecretKey.Import(WycheproofVectors.Bytes(testCase.Key));

        bool passed = true;
        byte[] ciphertext = XChaCha20Poly1305.Encrypt(key, nonce, message, aad);
        if (!ciphertext.AsSpan().SequenceEqual(expected))
        {
            failures.Add(WycheproofVectors.Failure(testCase, "Encrypt gave " + WycheproofVectors.Hex(ciphertext) + ", expected ct||tag " + WycheproofVectors.Hex(expected)));
            passed = false;
        }

        if (!XChaCha20Poly1305.TryDecrypt(key, nonce, expected, aad, out byte[]? plaintext))
        {
            failures.Add(WycheproofVectors.Failure(testCase, "TryDecrypt refused the valid ct||tag"));
            passed = false;
        }
        else if (plaintext is null || !plaintext.AsSpan().SequenceEqual(message))
        {
            failures.Add(WycheproofVectors.Failure(testCase, "TryDecrypt returned " + (plaintext is null ? "null" : WycheproofVectors.Hex(plaintext)) + ", expected msg " + WycheproofVectors.Hex(message)));
            passed = false;
        }

        return passed;
    }

    private static Rejection CheckInvalid(AeadTestCase testCase, List<string> failures)
    {
        byte[] nonce = WycheproofVectors.Bytes(testCase.Iv);
        byte[] aad = WycheproofVectors.Bytes(testCase.Aad);
        byte[] message = WycheproofVectors.Bytes(testCase.Msg);
        byte[] ciphertext = [.. WycheproofVectors.Bytes(testCase.Ct), .. WycheproofVectors.Bytes(testCase.Tag)];
        using SecretKey key = SecretKey.Import(WycheproofVectors.Bytes(testCase.Key));

        bool flaggedNonceSize = testCase.HasFlag(InvalidNonceSize);
        if (flaggedNonceSize != (nonce.Length != XChaCha20Poly1305.NonceSize))
        {
            failures.Add(WycheproofVectors.Failure(testCase, string.Create(CultureInfo.InvariantCulture, $"policy mismatch: iv is {nonce.Length} bytes but the {InvalidNonceSize} flag is {(flaggedNonceSize ? "set" : "absent")}")));
            return Rejection.None;
        }

        Rejection expected = flaggedNonceSize ? Rejection.NonceArgumentException : Rejection.DecryptReturnedFalse;
        Rejection actual;
        try
        {
            bool opened = XChaCha20Poly1305.TryDecrypt(key, nonce, ciphertext, aad, out byte[]? plaintext);
            if (opened)
            {
                failures.Add(WycheproofVectors.Failure(testCase, "TryDecrypt accepted an invalid ciphertext and returned " + (plaintext is null ? "null" : WycheproofVectors.Hex(plaintext))));
                return Rejection.None;
            }

            if (plaintext is not null)
            {
                failures.Add(WycheproofVectors.Failure(testCase, "TryDecrypt returned false but a non-null plaintext"));
                return Rejection.None;
            }

            actual = Rejection.DecryptReturnedFalse;
        }
        catch (ArgumentException ex) when (ex.ParamName == "nonce")
        {
            actual = Rejection.NonceArgumentException;
        }

        if (actual != expected)
        {
            failures.Add(WycheproofVectors.Failure(testCase, "rejected by " + actual + ", expected rejection by " + expected + string.Create(CultureInfo.InvariantCulture, $" (iv is {nonce.Length} bytes)")));
            return Rejection.None;
        }

        if (expected == Rejection.NonceArgumentException)
        {
            try
            {
                _ = XChaCha20Poly1305.Encrypt(key, nonce, message, aad);
                failures.Add(WycheproofVectors.Failure(testCase, string.Create(CultureInfo.InvariantCulture, $"Encrypt accepted a {nonce.Length}-byte nonce")));
                return Rejection.None;
            }
            catch (ArgumentException ex) when (ex.ParamName == "nonce")
            {
                // Expected: the same nonce is refused for encryption too.
            }
        }

        return actual;
    }
}
