using System.Globalization;
using Xunit.Abstractions;

namespace Coordination.Crypto.Tests.Wycheproof;

// Wycheproof x25519_test.json against X25519KeyPair.FromPrivateKey + TryAgree (libsodium
// crypto_scalarmult_curve25519), through the public API only; the shared secret is read back with
// SecretKey.Export.
//
// Expected outcome per case (checked against libsodium 1.0.18):
//   valid      TryAgree returns true and the shared secret equals `shared`.
//   acceptable depends on the flags:
//              - ZeroSharedSecret (the low-order public keys; every LowOrderPublic case has this flag
//                and `shared` is all zeros): REFUSED. TryAgree returns false and a null key, because
//                libsodium 1.0.18 rejects known low-order points and any all-zero result
//                (RFC 7748 section 6.1 check). The test also checks that `shared` is all zeros.
//              - every other acceptable case (Twist, NonCanonicalPublic, EdgeCaseMultiplication,
//                EdgeCaseShared, SpecialPublicKey, SmallPublicKey without ZeroSharedSecret, Ktv):
//                ACCEPTED. TryAgree returns true with exactly `shared` (libsodium masks the top bit
//                and reduces non-canonical u-coordinates, as RFC 7748 section 5 says).
//   invalid    the file has none; one appearing (or any other result) fails the test until a
//              policy is written down here and in README.md.
public class X25519WycheproofTests
{
    private const string FileName = "x25519_test.json";
    private const int MinimumCases = 500;
    private const string ZeroSharedSecret = "ZeroSharedSecret";

    private readonly ITestOutputHelper _output;

    public X25519WycheproofTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void X25519_WycheproofVectors_AllValidPassAndAcceptableMatchLibsodiumPolicy()
    {
        WycheproofFile<XdhTestGroup> file = WycheproofVectors.Load<XdhTestGroup>(FileName);
        Assert.Equal("XDH", file.Algorithm);

        List<string> failures = [];
        int read = 0;
        int validAgreed = 0;
        int acceptableAgreed = 0;
        int acceptableRefused = 0;

        foreach (XdhTestGroup group in file.TestGroups)
        {
            Assert.Equal("XdhComp", group.Type);
            Assert.Equal("curve25519", group.Curve);
            foreach (XdhTestCase testCase in group.Tests)
            {
                read++;
                bool? expectAgreement = testCase.Result switch
                {
                    WycheproofVectors.Valid => true,
                    WycheproofVectors.Acceptable => !testCase.HasFlag(ZeroSharedSecret),
                    _ => null,
                };
                if (expectAgreement is null)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "no documented expected outcome for this result"));
                    continue;
                }

                try
                {
                    if (!Check(testCase, expectAgreement.Value, failures))
                    {
                        continue;
                    }
                }
                catch (Exception ex) when (ex is not SodiumUnavailableException)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "unexpected " + ex.GetType().Name + ": " + ex.Message));
                    continue;
                }

                if (testCase.Result == WycheproofVectors.Valid)
                {
                    validAgreed++;
                }
                else if (expectAgreement.Value)
                {
                    acceptableAgreed++;
                }
                else
                {
                    acceptableRefused++;
                }
            }
        }

        _output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{FileName}: {read} cases read (numberOfTests {file.NumberOfTests}); {validAgreed} valid agreed, {acceptableAgreed} acceptable agreed with the expected secret, {acceptableRefused} acceptable (ZeroSharedSecret) refused."));

        Assert.True(failures.Count == 0, WycheproofVectors.Report("X25519", failures));
        Assert.Equal(file.NumberOfTests, read);
        Assert.True(read >= MinimumCases, string.Create(CultureInfo.InvariantCulture, $"Expected at least {MinimumCases} X25519 cases, read {read}."));
    }

    /// <summary>Runs one case; adds a failure and returns false if the outcome is not the expected one.</summary>
    private static bool Check(XdhTestCase testCase, bool expectAgreement, List<string> failures)
    {
        byte[] expectedShared = WycheproofVectors.Bytes(testCase.Shared);
        using X25519KeyPair keys = X25519KeyPair.FromPrivateKey(WycheproofVectors.Bytes(testCase.Private));
        X25519PublicKey peer = X25519PublicKey.FromBytes(WycheproofVectors.Bytes(testCase.Public));

        bool agreed = keys.TryAgree(peer, out SecretKey? shared);
        using (shared)
        {
            if (!expectAgreement)
            {
                if (expectedShared.AsSpan().ContainsAnyExcept((byte)0))
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "policy mismatch: flagged " + ZeroSharedSecret + " but `shared` is not all zeros"));
                    return false;
                }

                if (agreed)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "TryAgree accepted a low-order public key (expected false) and gave " + HexOf(shared)));
                    return false;
                }

                if (shared is not null)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "TryAgree returned false but a non-null key"));
                    return false;
                }

                return true;
            }

            if (!agreed || shared is null)
            {
                failures.Add(WycheproofVectors.Failure(testCase, "TryAgree refused (expected shared " + testCase.Shared + ")"));
                return false;
            }

            string actual = HexOf(shared);
            if (!string.Equals(actual, WycheproofVectors.Hex(expectedShared), StringComparison.Ordinal))
            {
                failures.Add(WycheproofVectors.Failure(testCase, "shared secret " + actual + ", expected " + testCase.Shared));
                return false;
            }

            return true;
        }
    }

    private static string HexOf(SecretKey? key)
    {
        if (key is null)
        {
            return "null";
        }

        byte[] copy = new byte[key.Length];
        key.Export(copy);
        return WycheproofVectors.Hex(copy);
    }
}
