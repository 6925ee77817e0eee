using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Coordination.Browser.Tests.Infrastructure;
using Coordination.Crypto;
using Coordination.Protocol;
using Coordination.Protocol.Receipts;
using Xunit.Abstractions;

namespace Coordination.Browser.Tests;

/// <summary>
/// A flood on the anonymous intake, on loopback: thousands of challenge requests and garbage or
/// unsolved submissions in parallel. The proof-of-work and the limits hold (every flood request is
/// refused with 400 or 429, never a 5xx), and a reporter who does the work still gets in during
/// the flood.
/// </summary>
public sealed class IntakeFloodTests(ITestOutputHelper output)
{
    private const int Difficulty = 16;
    private const int FloodRequests = 2000;
    private const int Parallelism = 32;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    [Fact(Timeout = 300_000)]
    public async Task Flood_IsRefused_WhileASolvedReportGetsIn()
    {
        using RelayFactory relay = new();
        await using IntakeTeam team = await IntakeTeam.OpenAsync(relay, Difficulty);
        Guid intakeId = team.IntakeId;
        using HttpClient http = relay.CreateRealClient();
        string challenges = $"api/v1/intakes/{intakeId}/challenges";
        string reports = $"api/v1/intakes/{intakeId}/reports";

        // The reporter asks for a challenge before the flood starts, and solves it while it runs.
        PowChallenge legitimate = await ChallengeAsync(http, challenges) ?? throw new InvalidOperationException("No challenge before the flood.");
        Task<ulong> solving = Task.Run(() => ProofOfWork.Solve(legitimate.Nonce, legitimate.Difficulty));
        string receipt = ReceiptPhrase.Generate();
        string canary = "flood " + Guid.NewGuid().ToString("N");
        byte[] sealedReport = SealReport(team, canary, receipt);

        ConcurrentDictionary<string, ConcurrentBag<int>> statuses = new();
        int done = 0;
        TaskCompletionSource halfway = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<HttpStatusCode> reporter = Task.Run(async () =>
        {
            await halfway.Task;
            ulong counter = await solving;
            using HttpResponseMessage response = await http.PostAsJsonAsync(reports, new SealedReportRequest(new PowSolution(legitimate.ChallengeId, counter), sealedReport, ReceiptPhrase.LookupSecret(receipt)), s_json);
            return response.StatusCode;
        });

        using CancellationTokenSource bound = new(TimeSpan.FromMinutes(3));
        System.Diagnostics.Stopwatch floodTime = System.Diagnostics.Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, FloodRequests), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = bound.Token }, async (i, ct) =>
        {
            (string kind, int status) = (i % 4) switch
            {
                // Challenges, as fast as the relay hands them out.
                0 or 1 => ("challenge", await StatusAsync(http, HttpMethod.Post, challenges, null, ct)),

                // A real challenge, not solved.
                2 => await UnsolvedAsync(http, challenges, reports, ct),

                // A well-formed report naming a challenge that was never issued.
                _ when i / 4 % 2 == 0 => ("unknown challenge", await StatusAsync(http, HttpMethod.Post, reports, Garbage(Guid.NewGuid(), 0), ct)),

                // Malformed bodies: no proof of work, a report of the wrong size, not JSON at all.
                _ => (i / 8 % 3) switch
                {
                    0 => ("malformed", await StatusAsync(http, HttpMethod.Post, reports, new { sealedReport = SecureRandom.Bytes(1024 + SealedBox.Overhead), receiptLookupSecret = SecureRandom.Bytes(32) }, ct)),
                    1 => ("malformed", await StatusAsync(http, HttpMethod.Post, reports, Garbage(Guid.NewGuid(), 1, sealedLength: 1000), ct)),
                    _ => ("malformed", await RawStatusAsync(http, reports, "{\"pow\":", ct)),
                },
            };
            statuses.GetOrAdd(kind, _ => []).Add(status);
            if (Interlocked.Increment(ref done) == FloodRequests / 2)
            {
                halfway.SetResult();
            }
        });

        floodTime.Stop();
        output.WriteLine($"{FloodRequests} flood requests ({Parallelism} at a time) in {floodTime.Elapsed.TotalSeconds:F1} s");
        halfway.TrySetResult();
        Assert.Equal(HttpStatusCode.Created, await reporter.WaitAsync(TimeSpan.FromMinutes(1)));

        // Every flood submission was refused, none with a server error; challenges were handed out
        // (they cost the relay nothing until solved).
        List<int> all = [.. statuses.Values.SelectMany(s => s)];
        Assert.True(all.Count >= FloodRequests, $"{all.Count} flood requests answered");
        Assert.DoesNotContain(all, s => s >= 500);
        foreach ((string kind, ConcurrentBag<int> codes) in statuses)
        {
            string summary = string.Join(", ", codes.GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
            output.WriteLine($"{kind}: {summary}");
            if (kind == "challenge")
            {
                Assert.All(codes, c => Assert.True(c is 200 or 429, $"challenge: {summary}"));
            }
            else
            {
                Assert.All(codes, c => Assert.True(c is 400 or 429, $"{kind}: {summary}"));
            }
        }

        // Challenges cost the relay nothing to hand out, so the flood locks no one out: a reporter right after it gets one.
        using (HttpResponseMessage after = await http.PostAsync(new Uri(challenges, UriKind.Relative), null))
        {
            output.WriteLine($"a challenge asked for right after the flood: {(int)after.StatusCode}");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        // A solved challenge is single-use: the same submission again is refused.
        using (HttpResponseMessage replay = await http.PostAsJsonAsync(
            reports, new SealedReportRequest(new PowSolution(legitimate.ChallengeId, await solving), sealedReport, ReceiptPhrase.LookupSecret(receipt)), s_json))
        {
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        }

        // Exactly one report got in, the reporter's, and the team reads it.
        InboxReport only = Assert.Single(await team.InboxAsync());
        using JsonDocument opened = team.Open(only.SealedReport);
        Assert.Equal(canary, opened.RootElement.GetProperty("answers").GetProperty("what").GetString());
        Assert.Equal(receipt, opened.RootElement.GetProperty("receipt").GetString());
    }

    private static async Task<PowChallenge?> ChallengeAsync(HttpClient http, string path)
    {
        using HttpResponseMessage response = await http.PostAsync(new Uri(path, UriKind.Relative), null);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<PowChallenge>(s_json) : null;
    }

    private static async Task<(string Kind, int Status)> UnsolvedAsync(HttpClient http, string challenges, string reports, CancellationToken ct)
    {
        using HttpResponseMessage issued = await http.PostAsync(new Uri(challenges, UriKind.Relative), null, ct);
        if (issued.StatusCode != HttpStatusCode.OK)
        {
            return ("challenge", (int)issued.StatusCode);
        }

        PowChallenge challenge = (await issued.Content.ReadFromJsonAsync<PowChallenge>(s_json, ct))!;
        ulong counter = 0;
        while (ProofOfWork.IsSolved(challenge.Nonce, counter, challenge.Difficulty))
        {
            counter++;
        }

        return ("unsolved", await StatusAsync(http, HttpMethod.Post, reports, Garbage(challenge.ChallengeId, counter), ct));
    }

    private static SealedReportRequest Garbage(Guid challengeId, ulong counter, int sealedLength = 1024 + SealedBox.Overhead) =>
        new(new PowSolution(challengeId, counter), SecureRandom.Bytes(sealedLength), SecureRandom.Bytes(32));

    private static async Task<int> StatusAsync(HttpClient http, HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using HttpRequestMessage request = new(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: s_json);
        }

        using HttpResponseMessage response = await http.SendAsync(request, ct);
        return (int)response.StatusCode;
    }

    private static async Task<int> RawStatusAsync(HttpClient http, string path, string body, CancellationToken ct)
    {
        using StringContent content = new(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await http.PostAsync(new Uri(path, UriKind.Relative), content, ct);
        return (int)response.StatusCode;
    }

    /// <summary>A detention report as any client seals it (protocol section 11).</summary>
    private static byte[] SealReport(IntakeTeam team, string what, string receipt)
    {
        string today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["v"] = 1,
            ["flow"] = "detention-report",
            ["language"] = "en",
            ["answers"] = new Dictionary<string, string> { ["what"] = what, ["when"] = today, ["where"] = "a town", ["consent"] = "yes" },
            ["receipt"] = receipt,
            ["submittedOn"] = today,
        });
        return SealedBox.Seal(Padding.Pad(json, IntakeTeam.ReportBlock), team.IntakeKey.PublicKey);
    }
}
