using System.Text;
using Coordination.Client.Intake;
using Coordination.Crypto;
using Coordination.Protocol.Receipts;

namespace Coordination.Server.Tests.IntakeClient;

/// <summary>
/// The intake's wire formats byte for byte, as the contract writes them: what the page, the relay's
/// bot and bridge paths and this SDK must all produce and accept.
/// </summary>
public sealed class IntakeFormatTests
{
    [Fact]
    public void A_report_is_the_contract_json_padded_to_1024_and_sealed_to_the_intake_key()
    {
        using X25519KeyPair intake = X25519KeyPair.Generate();
        string receipt = ReceiptPhrase.Generate();
        IntakeReportContent report = new("detention-report", "ru", new Dictionary<string, string>
        {
            ["what"] = "Задержали у метро \"Пушкинская\"\nдвоих",
            ["when"] = "2026-03-01",
            ["consent"] = "yes",
        }, receipt, new DateOnly(2026, 3, 2));

        byte[] sealedReport = IntakeFormat.SealReport(report, intake.PublicKey);
        Assert.Equal(0, (sealedReport.Length - SealedBox.Overhead) % IntakeFormat.ReportBlock);
        Assert.True(SealedBox.TryOpen(sealedReport, intake, out byte[]? padded));
        Assert.True(Padding.TryUnpad(padded, 1024, out int length));
        string expected = "{\"v\":1,\"flow\":\"detention-report\",\"language\":\"ru\",\"answers\":{\"what\":\"Задержали у метро \\\"Пушкинская\\\"\\nдвоих\","
            + "\"when\":\"2026-03-01\",\"consent\":\"yes\"},\"receipt\":\"" + receipt + "\",\"submittedOn\":\"2026-03-02\"}";
        Assert.Equal(expected, Encoding.UTF8.GetString(padded!, 0, length));

        IntakeReportContent? opened = IntakeFormat.OpenReport(sealedReport, intake, out string? failure);
        Assert.Null(failure);
        Assert.Equal(report.Answers, opened!.Answers);
        Assert.Equal((report.Flow, report.Language, report.Receipt, report.SubmittedOn), (opened.Flow, opened.Language, opened.Receipt, opened.SubmittedOn));
    }

    [Fact]
    public void A_report_that_does_not_open_or_parse_says_why()
    {
        using X25519KeyPair intake = X25519KeyPair.Generate();
        using X25519KeyPair other = X25519KeyPair.Generate();
        IntakeReportContent report = new("detention-report", "en", new Dictionary<string, string> { ["what"] = "x" }, ReceiptPhrase.Generate(), new DateOnly(2026, 1, 1));

        Assert.Null(IntakeFormat.OpenReport(IntakeFormat.SealReport(report, other.PublicKey), intake, out string? wrongKey));
        Assert.Contains("does not open", wrongKey, StringComparison.Ordinal);

        Assert.Null(IntakeFormat.OpenReport(SealedBox.Seal(Encoding.UTF8.GetBytes("{\"v\":1}"), intake.PublicKey), intake, out string? unpadded));
        Assert.Contains("padded", unpadded, StringComparison.Ordinal);

        foreach (string json in new[]
        {
            "not json",
            "{\"v\":2,\"flow\":\"f\",\"language\":\"en\",\"answers\":{},\"receipt\":\"r\",\"submittedOn\":\"2026-01-01\"}",
            "{\"v\":1,\"language\":\"en\",\"answers\":{},\"receipt\":\"r\",\"submittedOn\":\"2026-01-01\"}",
            "{\"v\":1,\"flow\":\"f\",\"language\":\"en\",\"answers\":{\"what\":3},\"receipt\":\"r\",\"submittedOn\":\"2026-01-01\"}",
            "{\"v\":1,\"flow\":\"f\",\"language\":\"en\",\"answers\":{},\"receipt\":\"r\",\"submittedOn\":\"01.01.2026\"}",
        })
        {
            Assert.Null(IntakeFormat.OpenReport(SealedBox.Seal(Padding.Pad(Encoding.UTF8.GetBytes(json), 1024), intake.PublicKey), intake, out string? failure));
            Assert.False(string.IsNullOrEmpty(failure), json);
        }
    }

    [Fact]
    public void A_reply_is_the_contract_json_padded_to_256_under_the_receipt_key()
    {
        string receipt = ReceiptPhrase.Generate();
        byte[] key = ReceiptPhrase.ReplyKey(receipt);
        byte[] sealedReply = IntakeFormat.SealReply(key, "Адвокат едет", new DateOnly(2026, 3, 3));
        Assert.Equal(0, (sealedReply.Length - 24 - 16) % 256);

        using SecretKey secret = SecretKey.Import(key);
        Assert.True(XChaCha20Poly1305.TryDecrypt(secret, sealedReply.AsSpan(0, 24), sealedReply.AsSpan(24), "coordination/v1/intake-reply"u8, out byte[]? padded));
        Assert.True(Padding.TryUnpad(padded, 256, out int length));
        Assert.Equal("{\"v\":1,\"text\":\"Адвокат едет\",\"sentOn\":\"2026-03-03\"}", Encoding.UTF8.GetString(padded!, 0, length));

        Assert.Equal(new IntakeReplyContent("Адвокат едет", new DateOnly(2026, 3, 3)), IntakeFormat.OpenReply(key, sealedReply, out string? none));
        Assert.Null(none);
        Assert.Null(IntakeFormat.OpenReply(ReceiptPhrase.ReplyKey(ReceiptPhrase.Generate()), sealedReply, out string? wrong));
        Assert.Contains("does not open", wrong, StringComparison.Ordinal);
    }

    [Fact]
    public void The_intake_private_key_is_sealed_under_the_cell_key_bound_to_the_cell_and_public_key()
    {
        byte[] cellKey = SecureRandom.Bytes(32);
        Guid cellId = Guid.NewGuid();
        using X25519KeyPair intake = X25519KeyPair.Generate();
        byte[] sealedKey = IntakeFormat.SealIntakeKey(cellKey, cellId, intake);
        Assert.Equal(24 + 32 + 16, sealedKey.Length);

        byte[] ad = [.. "coordination/v1/intake-key"u8.ToArray(), .. cellId.ToByteArray(bigEndian: true), .. intake.PublicKey.Bytes];
        using SecretKey secret = SecretKey.Import(cellKey);
        Assert.True(XChaCha20Poly1305.TryDecrypt(secret, sealedKey.AsSpan(0, 24), sealedKey.AsSpan(24), ad, out byte[]? privateKey));
        byte[] expected = new byte[32];
        intake.ExportPrivateKey(expected);
        Assert.Equal(expected, privateKey);

        using X25519KeyPair? opened = IntakeFormat.OpenIntakeKey(cellKey, cellId, intake.PublicKey.Bytes, sealedKey, out string? failure);
        Assert.Null(failure);
        Assert.Equal(intake.PublicKey, opened!.PublicKey);

        using X25519KeyPair other = X25519KeyPair.Generate();
        Assert.Null(IntakeFormat.OpenIntakeKey(cellKey, Guid.NewGuid(), intake.PublicKey.Bytes, sealedKey, out string? otherCell));
        Assert.NotNull(otherCell);
        Assert.Null(IntakeFormat.OpenIntakeKey(cellKey, cellId, other.PublicKey.Bytes, sealedKey, out string? otherKey));
        Assert.NotNull(otherKey);
        Assert.Null(IntakeFormat.OpenIntakeKey(SecureRandom.Bytes(32), cellId, intake.PublicKey.Bytes, sealedKey, out string? wrongCellKey));
        Assert.NotNull(wrongCellKey);
    }
}
