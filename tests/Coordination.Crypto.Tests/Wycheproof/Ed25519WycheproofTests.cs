using System.Globalization;
using Xunit.Abstractions;

namespace Coordination.Crypto.Tests.Wycheproof;

// Wycheproof ed25519_test.json against Ed25519PublicKey.FromBytes(pk).Verify(msg, sig) (libsodium
// crypto_sign_ed25519_verify_detached), through the public API only.
//
// Expected outcome per case:
//   valid      Verify returns true.
//   invalid    Verify returns false (wrong-length signatures included: Verify returns false for
//              them rather than throwing; non-canonical S, small-order or non-canonical R and
//              modified R are refused by libsodium 1.0.18).
//   acceptable the file has none; one appearing fails the test until a policy is written down here.
public class Ed25519WycheproofTests
{
    private const string FileName = "ed25519_test.json";
    private const int MinimumCases = 150;

    private readonly ITestOutputHelper _output;

    public Ed25519WycheproofTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void Ed25519_WycheproofVectors_AllValidVerifyAndInvalidRejected()
    {
        WycheproofFile<EddsaTestGroup> file = WycheproofVectors.Load<EddsaTestGroup>(FileName);
        Assert.Equal("EDDSA", file.Algorithm);

        List<string> failures = [];
        int read = 0;
        int validVerified = 0;
        int invalidRejected = 0;

        foreach (EddsaTestGroup group in file.TestGroups)
        {
            Assert.Equal("EddsaVerify", group.Type);
            Assert.Equal("edwards25519", group.PublicKey.Curve);
            Ed25519PublicKey publicKey = Ed25519PublicKey.FromBytes(WycheproofVectors.Bytes(group.PublicKey.Pk));
            foreach (EddsaTestCase testCase in group.Tests)
            {
                read++;
                bool? expected = testCase.Result switch
                {
                    WycheproofVectors.Valid => true,
                    WycheproofVectors.Invalid => false,
                    _ => null,
                };
                if (expected is null)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "no documented expected outcome for this result"));
                    continue;
                }

                bool verified;
                try
                {
                    verified = publicKey.Verify(WycheproofVectors.Bytes(testCase.Msg), WycheproofVectors.Bytes(testCase.Sig));
                }
                catch (Exception ex) when (ex is not SodiumUnavailableException)
                {
                    failures.Add(WycheproofVectors.Failure(testCase, "unexpected " + ex.GetType().Name + ": " + ex.Message));
                    continue;
                }

                if (verified != expected.Value)
                {
                    failures.Add(WycheproofVectors.Failure(
                        testCase,
                        string.Create(CultureInfo.InvariantCulture, $"Verify returned {verified}, expected {expected.Value} (pk {group.PublicKey.Pk}, {testCase.Sig.Length / 2}-byte signature)")));
                }
                else if (verified)
                {
                    validVerified++;
                }
                else
                {
                    invalidRejected++;
                }
            }
        }

        _output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{FileName}: {read} cases read (numberOfTests {file.NumberOfTests}); {validVerified} valid verified, {invalidRejected} invalid rejected."));

        Assert.True(failures.Count == 0, WycheproofVectors.Report("Ed25519", failures));
        Assert.Equal(file.NumberOfTests, read);
        Assert.True(read >= MinimumCases, string.Create(CultureInfo.InvariantCulture, $"Expected at least {MinimumCases} Ed25519 cases, read {read}."));
    }
}
