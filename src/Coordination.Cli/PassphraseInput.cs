using System.Security.Cryptography;
using System.Text;
using Spectre.Console;

namespace Coordination.Cli;

/// <summary>Reads a passphrase from a file: its first line, without the line ending.</summary>
internal static class PassphraseFile
{
    public static async Task<char[]> ReadAsync(string path, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot read the passphrase file {path}: {ex.Message}");
        }

        try
        {
            int end = bytes.AsSpan().IndexOfAny((byte)'\n', (byte)'\r');
            ReadOnlySpan<byte> line = end < 0 ? bytes : bytes.AsSpan(0, end);
            if (line.IsEmpty)
            {
                throw new CliException($"The passphrase file {path} is empty.");
            }

            char[] passphrase = new char[Encoding.UTF8.GetCharCount(line)];
            Encoding.UTF8.GetChars(line, passphrase);
            return passphrase;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}

/// <summary>Asks for a passphrase on the terminal without echoing it.</summary>
internal static class PassphrasePrompt
{
    public static async Task<char[]> AskAsync(IAnsiConsole console, string profileDirectory, bool confirm, CancellationToken ct)
    {
        // Spectre returns a string, which cannot be wiped; it is dropped as soon as it is copied.
        string label = Markup.Escape(profileDirectory);
        string first = await new TextPrompt<string>(confirm ? $"New passphrase for {label}:" : $"Passphrase for {label}:")
            .Secret(null)
            .ShowAsync(console, ct)
            .ConfigureAwait(false);
        if (confirm)
        {
            string second = await new TextPrompt<string>("Repeat the passphrase:").Secret(null).ShowAsync(console, ct).ConfigureAwait(false);
            if (!string.Equals(first, second, StringComparison.Ordinal))
            {
                throw new CliException("The passphrases do not match.");
            }
        }

        return first.ToCharArray();
    }
}
