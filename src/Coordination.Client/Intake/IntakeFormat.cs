using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Coordination.Client.Profiles;
using Coordination.Crypto;

namespace Coordination.Client.Intake;

/// <summary>
/// What a reporter sent, as the intake team reads it after opening the sealed box: the flow, the
/// language the reporter chose, the answers by step id, the receipt phrase (the team seals replies
/// under the key derived from it) and the day it was submitted.
/// </summary>
public sealed record IntakeReportContent(string Flow, string Language, IReadOnlyDictionary<string, string> Answers, string Receipt, DateOnly SubmittedOn);

/// <summary>A reply of the intake team as the reporter reads it.</summary>
public sealed record IntakeReplyContent(string Text, DateOnly SentOn);

/// <summary>
/// The intake's wire formats (protocol section 11), shared by this SDK, the relay's bot and bridge
/// paths and the web intake page:
/// <list type="bullet">
/// <item>A report: UTF-8 JSON <c>{"v":1,"flow","language","answers":{stepId: value},"receipt","submittedOn":"yyyy-MM-dd"}</c>,
/// padded (sodium_pad) to a multiple of 1,024 bytes, then <c>crypto_box_seal</c> to the intake's public key.</item>
/// <item>A reply: UTF-8 JSON <c>{"v":1,"text","sentOn":"yyyy-MM-dd"}</c>, padded to a multiple of 256, sealed as
/// nonce(24) || XChaCha20-Poly1305(ReceiptPhrase.ReplyKey(receipt), ad = "coordination/v1/intake-reply").</item>
/// <item>The intake's private key under the cell key: nonce(24) || XChaCha20-Poly1305(cellKey, the 32-byte
/// X25519 private key, ad = "coordination/v1/intake-key" || cellId (16 bytes, big-endian) || publicKey (32)).</item>
/// </list>
/// </summary>
public static class IntakeFormat
{
    public const int Version = 1;

    /// <summary>Reports are padded to a multiple of this many bytes before sealing.</summary>
    public const int ReportBlock = 1024;

    /// <summary>Replies are padded to a multiple of this many bytes before sealing.</summary>
    public const int ReplyBlock = 256;

    private const string DateFormat = "yyyy-MM-dd";

    private static readonly byte[] s_replyAd = Encoding.ASCII.GetBytes("coordination/v1/intake-reply");
    private static readonly byte[] s_keyAdLabel = Encoding.ASCII.GetBytes("coordination/v1/intake-key");

    // The same bytes a browser's JSON.stringify writes for non-ASCII text (no \u escapes), so a
    // report in Russian is not six bytes a letter. The JSON is never embedded in HTML.
    private static readonly JsonWriterOptions s_writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The report's JSON, padded, ready to be sealed.</summary>
    public static byte[] EncodeReport(IntakeReportContent report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using ZeroingBufferWriter buffer = new();
        using (Utf8JsonWriter json = new(buffer, s_writer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteString("flow", report.Flow);
            json.WriteString("language", report.Language);
            json.WriteStartObject("answers");
            foreach ((string step, string value) in report.Answers)
            {
                json.WriteString(step, value);
            }

            json.WriteEndObject();
            json.WriteString("receipt", report.Receipt);
            json.WriteString("submittedOn", report.SubmittedOn.ToString(DateFormat, CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        return PadWritten(buffer, ReportBlock);
    }

    /// <summary>Pads and seals a report to the intake's public key (crypto_box_seal).</summary>
    public static byte[] SealReport(IntakeReportContent report, X25519PublicKey intakeKey)
    {
        ArgumentNullException.ThrowIfNull(intakeKey);
        byte[] padded = EncodeReport(report);
        try
        {
            return SealedBox.Seal(padded, intakeKey);
        }
        finally
        {
            Array.Clear(padded);
        }
    }

    /// <summary>
    /// Opens a sealed report with the intake's key pair. On failure, <paramref name="failure"/> says
    /// which step failed (the box, the padding or the JSON) and the report is null.
    /// </summary>
    public static IntakeReportContent? OpenReport(ReadOnlySpan<byte> sealedReport, X25519KeyPair intakeKey, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(intakeKey);
        if (!SealedBox.TryOpen(sealedReport, intakeKey, out byte[]? padded))
        {
            failure = "the sealed report does not open with the intake's key: it was sealed to another key, or altered";
            return null;
        }

        try
        {
            if (!Padding.TryUnpad(padded, ReportBlock, out int length))
            {
                failure = $"the report opened but is not padded to a multiple of {ReportBlock} bytes";
                return null;
            }

            return DecodeReport(padded.AsSpan(0, length), out failure);
        }
        finally
        {
            Array.Clear(padded!);
        }
    }

    /// <summary>Parses a report's (unpadded) JSON, strictly: every field the format names, with the right type.</summary>
    public static IntakeReportContent? DecodeReport(ReadOnlySpan<byte> json, out string? failure)
    {
        try
        {
            Utf8JsonReader reader = new(json);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                failure = "the report is not a JSON object";
                return null;
            }

            if (!root.TryGetProperty("v", out JsonElement v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int version) || version != Version)
            {
                failure = $"the report is not version {Version} of the format";
                return null;
            }

            string? flow = String(root, "flow");
            string? language = String(root, "language");
            string? receipt = String(root, "receipt");
            string? submitted = String(root, "submittedOn");
            if (flow is null || language is null || receipt is null || submitted is null)
            {
                failure = "the report lacks one of flow, language, receipt and submittedOn (or one is not a string)";
                return null;
            }

            if (!DateOnly.TryParseExact(submitted, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly submittedOn))
            {
                failure = $"the report's submittedOn is not a yyyy-MM-dd date: '{submitted}'";
                return null;
            }

            if (!root.TryGetProperty("answers", out JsonElement answersElement) || answersElement.ValueKind != JsonValueKind.Object)
            {
                failure = "the report has no answers object";
                return null;
            }

            Dictionary<string, string> answers = new(StringComparer.Ordinal);
            foreach (JsonProperty answer in answersElement.EnumerateObject())
            {
                if (answer.Value.ValueKind != JsonValueKind.String)
                {
                    failure = $"the report's answer to '{answer.Name}' is not a string";
                    return null;
                }

                answers[answer.Name] = answer.Value.GetString()!;
            }

            failure = null;
            return new IntakeReportContent(flow, language, answers, receipt, submittedOn);
        }
        catch (JsonException ex)
        {
            failure = $"the report is not valid JSON ({ex.Message})";
            return null;
        }
        catch (InvalidOperationException)
        {
            // Text that is not valid UTF-8 (or a lone surrogate): anyone may send a report, so one
            // like this is refused with a reason and the rest of the inbox stays readable.
            failure = "the report holds text that is not valid UTF-8";
            return null;
        }
    }

    /// <summary>Seals a reply under the key derived from the report's receipt.</summary>
    public static byte[] SealReply(byte[] replyKey, string text, DateOnly sentOn)
    {
        ArgumentNullException.ThrowIfNull(replyKey);
        ArgumentNullException.ThrowIfNull(text);
        using ZeroingBufferWriter buffer = new();
        using (Utf8JsonWriter json = new(buffer, s_writer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteString("text", text);
            json.WriteString("sentOn", sentOn.ToString(DateFormat, CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        byte[] padded = PadWritten(buffer, ReplyBlock);
        try
        {
            using SecretKey key = SecretKey.Import(replyKey);
            byte[] nonce = SecureRandom.Nonce();
            return [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, padded, s_replyAd)];
        }
        finally
        {
            Array.Clear(padded);
        }
    }

    /// <summary>Opens a reply with the key derived from the receipt; null with the reason on any failure.</summary>
    public static IntakeReplyContent? OpenReply(byte[] replyKey, ReadOnlySpan<byte> sealedReply, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(replyKey);
        if (sealedReply.Length < XChaCha20Poly1305.NonceSize + XChaCha20Poly1305.TagSize)
        {
            failure = "the sealed reply is too short to be one";
            return null;
        }

        using SecretKey key = SecretKey.Import(replyKey);
        if (!XChaCha20Poly1305.TryDecrypt(key, sealedReply[..XChaCha20Poly1305.NonceSize], sealedReply[XChaCha20Poly1305.NonceSize..], s_replyAd, out byte[]? padded))
        {
            failure = "the reply does not open with the key of this receipt: it was sealed under another key, or altered";
            return null;
        }

        try
        {
            if (!Padding.TryUnpad(padded, ReplyBlock, out int length))
            {
                failure = $"the reply opened but is not padded to a multiple of {ReplyBlock} bytes";
                return null;
            }

            Utf8JsonReader reader = new(padded.AsSpan(0, length));
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out JsonElement v) || v.ValueKind != JsonValueKind.Number
                || !v.TryGetInt32(out int version) || version != Version)
            {
                failure = $"the reply is not version {Version} of the format";
                return null;
            }

            string? text = String(root, "text");
            string? sent = String(root, "sentOn");
            if (text is null || sent is null || !DateOnly.TryParseExact(sent, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly sentOn))
            {
                failure = "the reply lacks its text or a yyyy-MM-dd sentOn";
                return null;
            }

            failure = null;
            return new IntakeReplyContent(text, sentOn);
        }
        catch (JsonException ex)
        {
            failure = $"the reply is not valid JSON ({ex.Message})";
            return null;
        }
        catch (InvalidOperationException)
        {
            failure = "the reply holds text that is not valid UTF-8";
            return null;
        }
        finally
        {
            Array.Clear(padded!);
        }
    }

    /// <summary>Seals an intake's private key under the cell key, bound to the cell and the public key.</summary>
    public static byte[] SealIntakeKey(byte[] cellKey, Guid cellId, X25519KeyPair intakeKey)
    {
        ArgumentNullException.ThrowIfNull(cellKey);
        ArgumentNullException.ThrowIfNull(intakeKey);
        byte[] privateKey = new byte[X25519KeyPair.PrivateKeySize];
        try
        {
            intakeKey.ExportPrivateKey(privateKey);
            using SecretKey key = SecretKey.Import(cellKey);
            byte[] nonce = SecureRandom.Nonce();
            return [.. nonce, .. XChaCha20Poly1305.Encrypt(key, nonce, privateKey, IntakeKeyAd(cellId, intakeKey.PublicKey.Bytes))];
        }
        finally
        {
            Array.Clear(privateKey);
        }
    }

    /// <summary>
    /// Opens an intake's private key with the cell key; null with the reason if it does not open, or
    /// opens to a key whose public half is not <paramref name="publicKey"/>. The caller disposes the pair.
    /// </summary>
    public static X25519KeyPair? OpenIntakeKey(byte[] cellKey, Guid cellId, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> sealedPrivateKey, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(cellKey);
        if (publicKey.Length != X25519PublicKey.Size || sealedPrivateKey.Length != XChaCha20Poly1305.NonceSize + X25519KeyPair.PrivateKeySize + XChaCha20Poly1305.TagSize)
        {
            failure = "the intake's keys have the wrong sizes";
            return null;
        }

        using SecretKey key = SecretKey.Import(cellKey);
        if (!XChaCha20Poly1305.TryDecrypt(key, sealedPrivateKey[..XChaCha20Poly1305.NonceSize], sealedPrivateKey[XChaCha20Poly1305.NonceSize..],
            IntakeKeyAd(cellId, publicKey), out byte[]? privateKey))
        {
            failure = "the intake's private key does not open with this device's key of the cell: it was sealed under another key, for another cell or public key, or altered";
            return null;
        }

        try
        {
            X25519KeyPair pair = X25519KeyPair.FromPrivateKey(privateKey);
            if (!pair.PublicKey.Bytes.SequenceEqual(publicKey))
            {
                pair.Dispose();
                failure = "the intake's private key does not belong to its public key";
                return null;
            }

            failure = null;
            return pair;
        }
        finally
        {
            Array.Clear(privateKey!);
        }
    }

    private static byte[] IntakeKeyAd(Guid cellId, ReadOnlySpan<byte> publicKey) => [.. s_keyAdLabel, .. cellId.ToByteArray(bigEndian: true), .. publicKey];

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] PadWritten(ZeroingBufferWriter buffer, int block) => Padding.Pad(buffer.WrittenSpan, block);
}
