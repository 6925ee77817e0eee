using System.Text;
using System.Text.Json;
using Coordination.Client.Intake;
using Coordination.Crypto;
using Coordination.Fuzz.Tests.Infrastructure;
using Coordination.Protocol.Receipts;
using FsCheck;
using FsCheck.Fluent;

namespace Coordination.Fuzz.Tests.Parsers;

/// <summary>
/// The intake's formats as the intake team and the reporter read them (protocol section 11):
/// report JSON (written by anyone who has the intake's public key), sealed reports and replies,
/// the sealed intake key, and the flows document the relay serves. Anything arbitrary or changed
/// is refused with a reason, never an exception; what the formats' own writers produce reads back.
/// </summary>
public sealed class IntakeFormatProperties : IDisposable
{
    private static readonly string[] s_reportFields = ["v", "flow", "language", "answers", "receipt", "submittedOn", "what", "when", "consent"];

    private static IntakeReportContent Report { get; } = new(
        "detention-report", "ru",
        new Dictionary<string, string> { ["what"] = "Задержали двоих у метро", ["when"] = "2026-03-01", ["consent"] = "yes" },
        "abacus abdomen abdominal abide abiding ability ablaze able", new DateOnly(2026, 3, 2));

    private readonly X25519KeyPair _intakeKey = X25519KeyPair.Generate();

    /// <summary>Report JSON: random documents, changed valid reports (as JSON and as bytes), random bytes, and invalid UTF-8 or lone surrogates in strings and names.</summary>
    private static Gen<byte[]> ReportInputs { get; } = Gen.OneOf(
        JsonFuzz.Documents(s_reportFields).Select(j => j.Utf8),
        JsonFuzz.Mutations(ToObject(ValidReportJson)).Select(j => j.Utf8),
        Gens.Mutations(ValidReportJson).Select(m => m.Value),
        Gens.Bytes(0, 300).Select(b => b.Value),
        from bad in Gen.OneOf(Gens.Bytes(1, 6).Select(b => b.Value), Gen.Elements("\\ud800"u8.ToArray(), "\\udfff\\ud800"u8.ToArray(), "\\u0000"u8.ToArray()))
        from inName in Gen.Elements(false, true)
        select inName
            ? [.. "{\"v\":1,\"answers\":{\""u8.ToArray(), .. bad, .. "\":\"x\"}}"u8.ToArray()]
            : (byte[])[.. "{\"v\":1,\"flow\":\""u8.ToArray(), .. bad, .. "\",\"language\":\"en\",\"receipt\":\"r\",\"submittedOn\":\"2026-01-01\",\"answers\":{}}"u8.ToArray()]);

    private static byte[] ValidReportJson => Unpadded(IntakeFormat.EncodeReport(Report), IntakeFormat.ReportBlock);

    /// <summary>
    /// Anything a reporter could seal: decoded, or refused with a reason. Inputs with text JSON
    /// cannot turn into .NET strings are left to <see cref="DecodeReport_UntranscodableText_RefusedWithAReason"/>.
    /// </summary>
    [Fact]
    public void DecodeReport_ArbitraryJsonOrBytes_ContentOrAReason()
    {
        Fuzzer.Check(3000, Fuzzer.Cases(ReportInputs), json =>
        {
            if (!JsonFuzz.TranscodesCleanly(json))
            {
                return;
            }

            IntakeReportContent? report = IntakeFormat.DecodeReport(json, out string? failure);
            Assert.True(report is null == failure is not null, $"report {report}, failure {failure}");
        });
    }

    /// <summary>
    /// A report is written by anyone who has the intake's public key, which is public. One whose
    /// JSON has invalid UTF-8 in a string, or an escaped lone surrogate (<c>"\ud800"</c>), is refused
    /// by <see cref="IntakeFormat.DecodeReport"/> with a reason (and so listed by
    /// <see cref="IntakeTeamClient.InboxAsync"/> with its failure), never thrown: one such report
    /// must not break the team's whole inbox.
    /// </summary>
    [Fact]
    public void DecodeReport_UntranscodableText_RefusedWithAReason()
    {
        Fuzzer.Check(3000, Fuzzer.Cases(ReportInputs), json =>
        {
            IntakeReportContent? report = IntakeFormat.DecodeReport(json, out string? failure);
            Assert.True(report is null == failure is not null, $"report {report}, failure {failure}");
        });
    }

    [Fact]
    public void EncodeThenDecode_AnyWellFormedText_RoundTrips()
    {
        Gen<IntakeReportContent> reports =
            from flow in WellFormed(40)
            from language in WellFormed(8)
            from keys in Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(WellFormed(20), n))
            from values in Gen.ArrayOf(WellFormed(500), 6)
            from receipt in WellFormed(120)
            from day in Gen.Choose(0, 3_000_000)
            select new IntakeReportContent(flow, language, Answers(keys, values), receipt, DateOnly.FromDayNumber(day));
        Fuzzer.Check(1000, Fuzzer.Cases(reports), report =>
        {
            byte[] padded = IntakeFormat.EncodeReport(report);
            Assert.Equal(0, padded.Length % IntakeFormat.ReportBlock);
            IntakeReportContent? decoded = IntakeFormat.DecodeReport(Unpadded(padded, IntakeFormat.ReportBlock), out string? failure);
            Assert.True(decoded is not null, failure);
            Assert.Equal(report.Flow, decoded.Flow);
            Assert.Equal(report.Language, decoded.Language);
            Assert.Equal(report.Receipt, decoded.Receipt);
            Assert.Equal(report.SubmittedOn, decoded.SubmittedOn);
            Assert.Equal(report.Answers.OrderBy(a => a.Key, StringComparer.Ordinal), decoded.Answers.OrderBy(a => a.Key, StringComparer.Ordinal));
        });
    }

    [Fact]
    public void OpenReport_ArbitraryOrMutatedSealedBox_RefusedWithAReason()
    {
        byte[] sealedReport = IntakeFormat.SealReport(Report, _intakeKey.PublicKey);
        Assert.NotNull(IntakeFormat.OpenReport(sealedReport, _intakeKey, out _));
        Gen<(byte[] Sealed, bool Clean)> inputs = Gen.OneOf(
            Gens.Bytes(0, 3000).Select(b => (b.Value, true)),
            Gens.Mutations(sealedReport).Select(m => (m.Value, true)),
            // Sealed to the right key, but not a padded report.
            from plaintext in Gens.Bytes(0, 2100)
            select (SealedBox.Seal(plaintext.Value, _intakeKey.PublicKey), !Padding.TryUnpad(plaintext.Value, IntakeFormat.ReportBlock, out int length) || JsonFuzz.TranscodesCleanly(plaintext.Value.AsSpan(0, length))),
            from json in JsonFuzz.Documents(s_reportFields)
            select (SealedBox.Seal(Padding.Pad(json.Utf8, IntakeFormat.ReportBlock), _intakeKey.PublicKey), JsonFuzz.TranscodesCleanly(json.Utf8)));
        Fuzzer.Check(1500, Fuzzer.Cases(inputs), c =>
        {
            // Reports whose text cannot become .NET strings: DecodeReport_UntranscodableText_RefusedWithAReason.
            if (!c.Clean)
            {
                return;
            }

            IntakeReportContent? report = IntakeFormat.OpenReport(c.Sealed, _intakeKey, out string? failure);
            Assert.True(report is null == failure is not null);
        });
    }

    [Fact]
    public void OpenReply_ArbitraryOrMutatedOrWrongKey_RefusedWithAReason()
    {
        Fuzzer.Check(2000, Fuzzer.Cases(ReplyInputs()), c =>
        {
            if (c.Clean)
            {
                AssertReplyOpensOrRefuses(c.Key, c.Sealed);
            }
        });
    }

    /// <summary>
    /// A reply is written by the intake team and read by the reporter's client (the CLI, the SDK).
    /// One whose JSON has invalid UTF-8 in a string or an escaped lone surrogate is refused by
    /// <see cref="IntakeFormat.OpenReply"/> with a reason, never thrown.
    /// </summary>
    [Fact]
    public void OpenReply_UntranscodableText_RefusedWithAReason()
    {
        Fuzzer.Check(2000, Fuzzer.Cases(ReplyInputs().Where(c => !c.Clean)), c => AssertReplyOpensOrRefuses(c.Key, c.Sealed));
    }

    [Fact]
    public void OpenIntakeKey_ArbitraryOrMutated_RefusedWithAReason()
    {
        byte[] cellKey = SecureRandom.Bytes(32);
        Guid cellId = Guid.NewGuid();
        byte[] sealedKey = IntakeFormat.SealIntakeKey(cellKey, cellId, _intakeKey);
        using (X25519KeyPair? opened = IntakeFormat.OpenIntakeKey(cellKey, cellId, _intakeKey.PublicKey.Bytes, sealedKey, out _))
        {
            Assert.NotNull(opened);
        }

        Gen<(byte[] PublicKey, byte[] Sealed)> inputs =
            from publicKey in Gen.Frequency((3, Gen.Constant(_intakeKey.PublicKey.ToArray())), (1, Gens.Bytes(0, 40).Select(b => b.Value)))
            from bytes in Gen.OneOf(Gens.Bytes(0, 100).Select(b => b.Value), Gens.Mutations(sealedKey).Select(m => m.Value))
            select (publicKey, bytes);
        Fuzzer.Check(1500, Fuzzer.Cases(inputs), c =>
        {
            using X25519KeyPair? pair = IntakeFormat.OpenIntakeKey(cellKey, cellId, c.PublicKey, c.Sealed, out string? failure);
            Assert.Null(pair);
            Assert.NotNull(failure);
        });
    }

    [Fact]
    public void FlowsDocument_Parse_ArbitraryJson_DocumentOrDocumentedException()
    {
        string[] fields = ["schemaVersion", "languages", "flows", "key", "title", "intro", "completion", "steps", "id", "question", "hint", "answer", "kind", "maxLength", "options", "value", "label", "default", "optional", "showIf", "step", "in", "en", "ru"];
        byte[] seed = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "seeds", "intake-flows.json"));
        System.Text.Json.Nodes.JsonObject valid = ToObject(seed);
        Gen<JsonText> documents = Gen.OneOf(JsonFuzz.Documents(fields), JsonFuzz.Mutations(valid));
        Fuzzer.Check(1500, Fuzzer.Cases(documents), text =>
        {
            JsonElement json;
            try
            {
                using JsonDocument parsed = JsonDocument.Parse(text.Text);
                json = parsed.RootElement.Clone();
            }
            catch (JsonException)
            {
                // What a relay could not have sent as a JSON body.
                return;
            }

            try
            {
                _ = IntakeFlowsDocument.Parse(json);
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException)
            {
            }
        });
    }

    /// <summary>
    /// A flows document the client accepted is then used to check a reporter's answers
    /// (<see cref="IntakeFlow.Check"/>, used by the CLI before anything is sent). A document from
    /// the relay with a <c>showIf</c> lacking its step or values, or an option without a value, is
    /// refused by <see cref="IntakeFlowsDocument.Parse"/>; whatever it accepts checks any answers
    /// without throwing.
    /// </summary>
    [Fact]
    public void FlowsDocument_Accepted_ChecksAnyAnswersWithoutThrowing()
    {
        byte[] seed = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "seeds", "intake-flows.json"));
        System.Text.Json.Nodes.JsonObject valid = ToObject(seed);
        Gen<(JsonText Document, Dictionary<string, string> Answers)> cases =
            from document in JsonFuzz.Mutations(valid)
            from keys in Gen.ArrayOf(Gen.Elements("what", "when", "where", "how-many", "who", "relation", "consent", "statement", "signature", "x"), 4)
            from values in Gen.ArrayOf(Gen.Elements("yes", "no", "one", "2026-03-01", "", "text"), 4)
            select (document, Answers(keys, values));
        Fuzzer.Check(3000, Fuzzer.Cases(cases), c =>
        {
            IntakeFlowsDocument document;
            try
            {
                using JsonDocument parsed = JsonDocument.Parse(c.Document.Text);
                document = IntakeFlowsDocument.Parse(parsed.RootElement.Clone());
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException)
            {
                return;
            }

            foreach (IntakeFlow flow in document.Flows)
            {
                _ = flow.Check(c.Answers);
            }
        });
    }

    public void Dispose() => _intakeKey.Dispose();

    private static Gen<(byte[] Key, byte[] Sealed, bool Clean)> ReplyInputs()
    {
        byte[] replyKey = ReceiptPhrase.ReplyKey(Report.Receipt);
        byte[] sealedReply = IntakeFormat.SealReply(replyKey, "Мы получили ваше сообщение.", new DateOnly(2026, 3, 3));
        Assert.NotNull(IntakeFormat.OpenReply(replyKey, sealedReply, out _));
        return
            from key in Gen.Frequency(
                (6, Gen.Constant(replyKey)),
                (2, Gens.ExactBytes(32)),
                (1, Gens.Bytes(0, 80).Select(b => b.Value)))
            from sealedBytes in Gen.OneOf(
                Gens.Bytes(0, 600).Select(b => (b.Value, true)),
                Gens.Mutations(sealedReply).Select(m => (m.Value, true)),
                from json in JsonFuzz.Documents(["v", "text", "sentOn"])
                select (Seal(replyKey, Padding.Pad(json.Utf8, IntakeFormat.ReplyBlock)), JsonFuzz.TranscodesCleanly(json.Utf8)),
                from plaintext in Gens.Bytes(0, 700)
                select (Seal(replyKey, plaintext.Value), !Padding.TryUnpad(plaintext.Value, IntakeFormat.ReplyBlock, out int length) || JsonFuzz.TranscodesCleanly(plaintext.Value.AsSpan(0, length))))
            select (key, sealedBytes.Item1, sealedBytes.Item2);
    }

    private static void AssertReplyOpensOrRefuses(byte[] key, byte[] sealedReply)
    {
        IntakeReplyContent? reply;
        string? failure;
        try
        {
            reply = IntakeFormat.OpenReply(key, sealedReply, out failure);
        }
        catch (ArgumentException) when (key.Length != XChaCha20Poly1305.KeySize)
        {
            // A key of the wrong length is the caller's mistake, and says so.
            return;
        }

        Assert.True(reply is null == failure is not null);
    }

    private static Gen<string> WellFormed(int maxLength) =>
        Gens.Strings(maxLength).Select(s => new string([.. s.Where(c => !char.IsSurrogate(c))]));

    private static Dictionary<string, string> Answers(string[] keys, string[] values)
    {
        Dictionary<string, string> answers = new(StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
        {
            answers[keys[i]] = values[i % values.Length];
        }

        return answers;
    }

    private static byte[] Unpadded(byte[] padded, int block) =>
        Padding.TryUnpad(padded, block, out int length) ? padded[..length] : throw new InvalidOperationException("Not padded.");

    private static byte[] Seal(byte[] key, byte[] plaintext)
    {
        using SecretKey secret = SecretKey.Import(key);
        byte[] nonce = SecureRandom.Nonce();
        return [.. nonce, .. XChaCha20Poly1305.Encrypt(secret, nonce, plaintext, Encoding.ASCII.GetBytes("coordination/v1/intake-reply"))];
    }

    private static System.Text.Json.Nodes.JsonObject ToObject(byte[] json) =>
        System.Text.Json.Nodes.JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();
}
