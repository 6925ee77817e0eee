namespace Coordination.Crypto.Tests.Wycheproof;

public class WycheproofLoaderTests
{
    [Fact]
    public void Load_MissingVectorFile_ThrowsSoTheTestFails()
    {
        FileNotFoundException error = Assert.Throws<FileNotFoundException>(() => WycheproofVectors.Load<AeadTestGroup>("no_such_vectors_test.json"));

        Assert.Contains("no_such_vectors_test.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("never skip", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xchacha20_poly1305_test.json")]
    [InlineData("x25519_test.json")]
    [InlineData("ed25519_test.json")]
    public void VectorFiles_CopiedToOutput_ArePresentWithLicence(string fileName)
    {
        Assert.True(File.Exists(WycheproofVectors.PathOf(fileName)), fileName + " is not in the test output directory.");
        Assert.True(File.Exists(WycheproofVectors.PathOf("LICENSE")), "vectors/LICENSE is not in the test output directory.");
        Assert.True(File.Exists(WycheproofVectors.PathOf("NOTICE")), "vectors/NOTICE is not in the test output directory.");
    }
}
