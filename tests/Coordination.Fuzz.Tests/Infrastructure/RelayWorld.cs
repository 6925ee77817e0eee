using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coordination.Fuzz.Tests.Infrastructure;

/// <summary>
/// An endpoint that takes a JSON body: where it is, who calls it (a session token, or none for the
/// anonymous ones), a valid body to change one field of, the fields its body has, and the tables it
/// writes (which must not change when it refuses a request).
/// </summary>
public sealed record BodyEndpoint(string Name, HttpMethod Method, string Path, string? Token, Func<Task<JsonObject>> Valid, IReadOnlyList<string> Tables)
{
    /// <summary>Ids of things that exist on the relay, for the random bodies to hit now and then.</summary>
    public IReadOnlyList<Guid> KnownIds { get; init; } = [];

    public override string ToString() => $"{Method} {Path}";
}

/// <summary>What the relay answered.</summary>
public sealed record Answer(int Status, string? MediaType, string Body)
{
    public override string ToString() => $"{Status} {MediaType}: {(Body.Length > 600 ? Body[..600] + "..." : Body)}";
}

/// <summary>
/// One relay (a real server on a real port with a real SQLite file) per test class, with the
/// people and things its endpoints need, and the checks every fuzzed request must pass.
/// </summary>
public abstract class RelayWorld : IAsyncLifetime
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly List<Person> _people = [];
    private readonly Dictionary<string, BodyEndpoint> _endpoints = new(StringComparer.Ordinal);

    public RelayFactory Relay { get; } = new FuzzRelayFactory();

    public HttpClient Http { get; private set; } = null!;

    public BodyEndpoint this[string name] => _endpoints[name];

    public async Task InitializeAsync()
    {
        Http = Relay.CreateRealClient();
        await BuildAsync();
    }

    public Task DisposeAsync()
    {
        foreach (Person person in _people)
        {
            person.Dispose();
        }

        Http?.Dispose();
        Relay.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A body for the JSON DTO <paramref name="value"/>, as the SDK writes it.</summary>
    public static JsonObject Body(object value) => JsonSerializer.SerializeToNode(value, value.GetType(), Json)!.AsObject();

    public async Task<Person> PersonAsync()
    {
        Person person = await Person.CreateAsync(Relay);
        _people.Add(person);
        return person;
    }

    public void Add(BodyEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoints.Add(endpoint.Name, endpoint);
    }

    public async Task<Answer> SendAsync(HttpMethod method, string path, string? token, byte[]? body, string contentType = "application/json")
    {
        using HttpRequestMessage request = new(method, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using HttpResponseMessage response = await Http.SendAsync(request).WaitAsync(TestTimeouts.Default);
        string text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default);
        return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
    }

    /// <summary>
    /// Sends a request and checks what every request must give: never a 5xx; a 4xx is an RFC 9457
    /// problem (<c>application/problem+json</c> with its status); and a refused request changes none
    /// of <paramref name="tables"/>. Returns the answer.
    /// </summary>
    public async Task<Answer> CheckAsync(HttpMethod method, string path, string? token, byte[]? body, IReadOnlyList<string> tables, string what, string contentType = "application/json")
    {
        string before = Snapshot(tables);
        Answer answer = await SendAsync(method, path, token, body, contentType);
        string request = $"{method} {path} ({contentType}) {what}";
        Assert.True(answer.Status < 500, $"server error for {request}: {answer}");
        if (answer.Status >= 400)
        {
            AssertProblem(answer, request);
            Assert.True(before == Snapshot(tables), $"a refused request changed [{string.Join(", ", tables)}] from ({before}) to ({Snapshot(tables)}): {request} -> {answer}");
        }

        return answer;
    }

    /// <summary>Row counts of <paramref name="tables"/>, in one query.</summary>
    public string Snapshot(IReadOnlyList<string> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.Count == 0)
        {
            return "";
        }

        object?[] row = Relay.Query("SELECT " + string.Join(", ", tables.Select(t => $"(SELECT COUNT(*) FROM {t})")))[0];
        return string.Join(",", row.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
    }

    /// <summary>What the server logged at Error or Critical, or as an unhandled exception, from line <paramref name="from"/> on.</summary>
    public List<string> ErrorsSince(int from) =>
        [.. Relay.Logs.Skip(from).Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)
            || l.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase))];

    /// <summary>Fails when the server logged an error since line <paramref name="from"/> (but the lines <paramref name="known"/> says are known).</summary>
    public void AssertNoErrorsSince(int from, Func<string, bool>? known = null)
    {
        List<string> errors = [.. ErrorsSince(from).Where(l => known is null || !known(l))];
        Assert.True(errors.Count == 0, $"the server logged {errors.Count} error(s):{Environment.NewLine}{string.Join(Environment.NewLine, errors.Take(5))}");
    }

    public static void AssertProblem(Answer answer, string request)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Assert.True(answer.MediaType == "application/problem+json", $"a {answer.Status} without problem details for {request}: {answer}");
        using JsonDocument problem = JsonDocument.Parse(answer.Body);
        Assert.True(problem.RootElement.TryGetProperty("status", out JsonElement status) && status.ValueKind == JsonValueKind.Number && status.GetInt32() == answer.Status,
            $"the problem's status is not {answer.Status} for {request}: {answer}");
    }

    protected abstract Task BuildAsync();
}

/// <summary>
/// The test relay with its sweeps an hour apart: nothing expires out of a table while a batch
/// runs (an accepted envelope may live one second), so every change to a table is a request's.
/// </summary>
public sealed class FuzzRelayFactory() : RelayFactory(new Dictionary<string, string?> { ["Relay:SweepInterval"] = "01:00:00" });
