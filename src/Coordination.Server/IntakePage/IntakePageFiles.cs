using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Coordination.Protocol.Receipts;

namespace Coordination.Server.IntakePage;

/// <summary>
/// Where the web intake page's files are on disk: the committed page (<c>index.html</c>,
/// <c>intake.js</c>, <c>intake.css</c>, <c>page-texts.json</c>, <c>icon.svg</c>) and libsodium-wrappers' browser
/// build, which <c>npm ci</c> puts in <c>node_modules</c> beside them (nothing from npm is
/// committed). The folder is the configured <c>IntakePage:WebDirectory</c>, else
/// <c>IntakePage/web</c> under the server's project directory, found from the content root or by
/// walking up from the binary.
/// </summary>
public sealed partial class IntakePageFiles
{
    /// <summary>The command that installs libsodium-wrappers, from the repository root.</summary>
    public const string InstallCommand = "(cd src/Coordination.Server/IntakePage/web && npm ci --no-audit --no-fund)";

    private const string ProjectRelative = "IntakePage/web";

    /// <summary>Asset name under /intake/assets/ to its path under the web folder and its media type.</summary>
    private static readonly Dictionary<string, (string Path, string ContentType, bool FromNpm)> s_assets = new(StringComparer.Ordinal)
    {
        ["intake.js"] = ("intake.js", "text/javascript; charset=utf-8", false),
        ["intake.css"] = ("intake.css", "text/css; charset=utf-8", false),
        ["page-texts.json"] = ("page-texts.json", "application/json; charset=utf-8", false),
        ["icon.svg"] = ("icon.svg", "image/svg+xml", false),
        // The UMD builds load in a browser without a bundler: libsodium.js defines window.libsodium
        // (its WebAssembly embedded, compiled under the CSP's 'wasm-unsafe-eval'), then
        // libsodium-wrappers.js defines window.sodium. The standard build has every function the page uses.
        ["libsodium.js"] = ("node_modules/libsodium/dist/modules/libsodium.js", "text/javascript; charset=utf-8", true),
        ["libsodium-wrappers.js"] = ("node_modules/libsodium-wrappers/dist/modules/libsodium-wrappers.js", "text/javascript; charset=utf-8", true),
    };

    private readonly ConcurrentDictionary<string, (DateTime Written, long Length, string Integrity)> _integrity = new(StringComparer.Ordinal);

    /// <summary>The receipt word list as the page downloads it: the relay's own list, one word per line.</summary>
    public static byte[] WordList { get; } = Encoding.UTF8.GetBytes(string.Join('\n', ReceiptPhrase.WordList) + "\n");

    private static string WordListIntegrity { get; } = "sha384-" + Convert.ToBase64String(SHA384.HashData(WordList));

    public IntakePageFiles(IConfiguration configuration, IWebHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        string? configured = configuration["IntakePage:WebDirectory"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            WebDirectory = Path.GetFullPath(configured);
            return;
        }

        List<string> candidates =
        [
            Path.Combine(environment.ContentRootPath, ProjectRelative),
            Path.Combine(environment.ContentRootPath, "src", "Coordination.Server", ProjectRelative),
        ];
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            candidates.Add(Path.Combine(dir.FullName, ProjectRelative));
            candidates.Add(Path.Combine(dir.FullName, "src", "Coordination.Server", ProjectRelative));
        }

        // A folder with libsodium-wrappers installed first; else one with the page alone (it answers 503 until npm ci runs).
        WebDirectory = Path.GetFullPath(
            candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "intake.js")) && File.Exists(Path.Combine(c, s_assets["libsodium-wrappers.js"].Path)))
            ?? candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "intake.js")))
            ?? candidates[0]);
    }

    public string WebDirectory { get; }

    public string PagePath => Path.Combine(WebDirectory, "index.html");

    /// <summary>Why the page cannot be served, with the command that fixes it; null when it can.</summary>
    public string? Missing()
    {
        if (!File.Exists(PagePath) || s_assets.Values.Any(a => !a.FromNpm && !File.Exists(Path.Combine(WebDirectory, a.Path))))
        {
            return $"The web intake page's files are not in {WebDirectory}. Set IntakePage:WebDirectory to the folder src/Coordination.Server/IntakePage/web of the source tree.";
        }

        return s_assets.Values.Any(a => a.FromNpm && !File.Exists(Path.Combine(WebDirectory, a.Path)))
            ? $"The web intake page needs libsodium-wrappers, which is installed from npm and is missing from {Path.Combine(WebDirectory, "node_modules")}. Run: {InstallCommand} (./run-server.sh does this)."
            : null;
    }

    /// <summary>
    /// The page's HTML with every <c>@sri(asset)</c> placeholder replaced by the asset's SHA-384
    /// (Subresource Integrity): the browser refuses a script or stylesheet that differs, so the
    /// HTML's own hash stands for everything the page runs. The HTML is the same for every intake.
    /// </summary>
    public byte[] RenderPage()
    {
        string template = File.ReadAllText(PagePath, Encoding.UTF8);
        string html = Placeholder().Replace(
            template,
            m => m.Groups[1].Value == "words.txt" ? WordListIntegrity : Asset(m.Groups[1].Value) is { } asset ? Integrity(asset.Path) : m.Value);
        return Encoding.UTF8.GetBytes(html);
    }

    /// <summary><c>sha384-</c> and the base64 SHA-384 of a file, recomputed when the file changes.</summary>
    public string Integrity(string path)
    {
        FileInfo file = new(path);
        if (_integrity.TryGetValue(path, out (DateTime Written, long Length, string Integrity) known) && known.Written == file.LastWriteTimeUtc && known.Length == file.Length)
        {
            return known.Integrity;
        }

        using FileStream stream = file.OpenRead();
        string integrity = "sha384-" + Convert.ToBase64String(SHA384.HashData(stream));
        _integrity[path] = (file.LastWriteTimeUtc, file.Length, integrity);
        return integrity;
    }

    /// <summary>The file and media type of an asset; null for a name that is not one.</summary>
    public (string Path, string ContentType, bool FromNpm)? Asset(string name) =>
        s_assets.TryGetValue(name, out (string Path, string ContentType, bool FromNpm) asset)
            ? (Path.Combine(WebDirectory, asset.Path), asset.ContentType, asset.FromNpm)
            : null;

    [GeneratedRegex(@"@sri\(([a-z0-9.-]+)\)", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
