using Coordination.Protocol;

namespace Coordination.Server.Tests.Auth;

/// <summary>The origin a login signature is bound to: one spelling per server, however a client writes its URL.</summary>
public sealed class OriginTests
{
    [Theory]
    [InlineData("https://Relay.Example/", "https://relay.example")]
    [InlineData("https://relay.example:443/api/v1/", "https://relay.example")]
    [InlineData("http://127.0.0.1:5080/", "http://127.0.0.1:5080")]
    [InlineData("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai")]
    [InlineData("https://XN--E1AFMKFD.XN--P1AI", "https://xn--e1afmkfd.xn--p1ai")]
    [InlineData("http://[::1]:8080/", "http://[::1]:8080")]
    [InlineData("http://abcdefghijklmnop.onion/", "http://abcdefghijklmnop.onion")]
    public void Origins_normalize_to_one_ascii_spelling(string written, string normalized) =>
        Assert.Equal(normalized, SignedStatements.NormalizeOrigin(written));

    [Fact]
    public void A_unicode_host_and_its_punycode_sign_the_same_statement()
    {
        byte[] nonce = new byte[32];
        Guid challenge = Guid.NewGuid();
        Assert.Equal(
            SignedStatements.Login("https://пример.рф", challenge, nonce),
            SignedStatements.Login("https://xn--e1afmkfd.xn--p1ai/", challenge, nonce));
    }

    [Theory]
    [InlineData("relay.example")]
    [InlineData("/relative/path")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://relay.example")]
    public void Relative_origins_are_refused(string written) =>
        Assert.Throws<ArgumentException>(() => SignedStatements.NormalizeOrigin(written));
}
