using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Coordination.Client.Api;
using Coordination.Client.Hub;
using Coordination.Protocol;
using Coordination.Server.Intake;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Operations;

/// <summary>A relay with metrics enabled behind a bearer secret.</summary>
public sealed class MetricsRelay : RelayFactory
{
    public const string Token = "metrics-test-token-0123456789abcdef0123456789";

    public MetricsRelay()
        : base(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Token"] = Token })
    {
    }
}

/// <summary>GET /metrics: Prometheus text, counters that move, hidden without the secret, and no identifiers.</summary>
public sealed partial class MetricsTests : IClassFixture<MetricsRelay>
{
    private static readonly HashSet<string> s_allowedLabels = new(StringComparer.Ordinal) { "transport", "kind", "result", "status", "le" };

    private readonly MetricsRelay _relay;

    public MetricsTests(MetricsRelay relay)
    {
        _relay = relay;
    }

    [Fact]
    public async Task Sends_acks_and_refusals_move_the_counters_and_no_identifier_appears()
    {
        using TestDevice alice = await _relay.NewAccountAsync();
        using TestDevice bob = await _relay.NewAccountAsync();
        Guid conversation = (await alice.Api.OpenDirectConversationAsync(bob.AccountId).WaitAsync(TestTimeouts.Default)).ConversationId;
        await using HubConnection aliceHub = await ConnectAsync(alice);
        await using HubConnection bobHub = await ConnectAsync(bob);
        Channel<EnvelopeDelivery> bobReceived = Channel.CreateUnbounded<EnvelopeDelivery>();
        bobHub.On<EnvelopeDelivery>(nameof(IRelayClient.ReceiveEnvelope), envelope => bobReceived.Writer.WriteAsync(envelope).AsTask());
        Dictionary<string, double> before = Parse(await ScrapeAsync());

        // Three sends over REST (one of them retried), two over the hub, one refused on each transport.
        SendEnvelope first = TestDevice.Envelope(conversation, "one");
        await alice.Api.SendAsync(first).WaitAsync(TestTimeouts.Default);
        await alice.Api.SendAsync(first).WaitAsync(TestTimeouts.Default);
        await alice.Api.SendAsync(TestDevice.Envelope(conversation, "two")).WaitAsync(TestTimeouts.Default);
        SendResult last = await alice.Api.SendAsync(TestDevice.Envelope(conversation, "three")).WaitAsync(TestTimeouts.Default);
        for (int i = 0; i < 2; i++)
        {
            await aliceHub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [TestDevice.Envelope(conversation, $"hub {i}")], CancellationToken.None).WaitAsync(TestTimeouts.Default);
        }

        SendEnvelope wrongSize = TestDevice.Envelope(conversation, "x") with { Ciphertext = new byte[100] };
        RelayApiException refused = await Assert.ThrowsAsync<RelayApiException>(() => alice.Api.SendAsync(wrongSize).WaitAsync(TestTimeouts.Default));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        await Assert.ThrowsAsync<HubInvocationException>(() =>
            aliceHub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [wrongSize], CancellationToken.None).WaitAsync(TestTimeouts.Default));

        for (int i = 0; i < 5; i++)
        {
            await bobReceived.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);
        }

        await bob.Api.AckAsync([new Ack(conversation, last.Seq)]).WaitAsync(TestTimeouts.Default);

        string text = await WaitForAsync(m => Delta(before, m, "coordination_live_deliveries_total") >= 5);
        Dictionary<string, double> after = Parse(text);

        Assert.Equal(3, Delta(before, after, "coordination_relay_sends_total{result=\"stored\",transport=\"rest\"}"));
        Assert.Equal(1, Delta(before, after, "coordination_relay_sends_total{result=\"duplicate\",transport=\"rest\"}"));
        Assert.Equal(2, Delta(before, after, "coordination_relay_sends_total{result=\"stored\",transport=\"hub\"}"));
        Assert.Equal(1, Delta(before, after, "coordination_relay_send_refusals_total{kind=\"envelope_size\",transport=\"rest\"}"));
        Assert.Equal(1, Delta(before, after, "coordination_relay_send_refusals_total{kind=\"envelope_size\",transport=\"hub\"}"));
        Assert.Equal(1, Delta(before, after, "coordination_relay_acks_total"));
        Assert.Equal(6, Delta(before, after, "coordination_relay_send_ack_latency_seconds_count"));
        Assert.Equal(6, Delta(before, after, "coordination_relay_send_ack_latency_seconds_bucket{le=\"+Inf\"}"));
        Assert.True(Delta(before, after, "coordination_relay_send_ack_latency_seconds_sum") > 0);
        Assert.Equal(5, Delta(before, after, "coordination_live_deliveries_total"));
        Assert.Equal(1, Delta(before, after, "coordination_http_problem_responses_total{status=\"400\"}"));
        Assert.True(Delta(before, after, "coordination_relay_batch_size_count") >= 1);
        Assert.True(Delta(before, after, "coordination_relay_commit_duration_seconds_count") >= 1);
        Assert.Equal(2, after["coordination_hub_connections"]);
        Assert.True(after.ContainsKey("coordination_relay_queue_depth"));
        Assert.True(after.ContainsKey("coordination_live_queue_depth"));
        Assert.Equal(0, after["coordination_relay_batch_retries_total"]);

        // Nothing that identifies anyone, in any spelling, and not the secret either.
        foreach (Guid id in new[] { alice.AccountId, alice.DeviceId, bob.AccountId, bob.DeviceId, conversation, first.MessageId })
        {
            foreach (string format in new[] { "D", "N" })
            {
                Assert.DoesNotContain(id.ToString(format, CultureInfo.InvariantCulture), text, StringComparison.OrdinalIgnoreCase);
            }
        }

        Assert.DoesNotContain(MetricsRelay.Token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(alice.Api.Token!, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_text_is_valid_exposition_format_0_0_4()
    {
        using HttpClient http = _relay.CreateRealClient();
        using HttpRequestMessage request = new(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MetricsRelay.Token);

        HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
        string text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        Assert.EndsWith("\n", text, StringComparison.Ordinal);

        Dictionary<string, string> types = new(StringComparer.Ordinal);
        foreach (string line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                Assert.Matches(HelpLine(), line);
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                Match type = TypeLine().Match(line);
                Assert.True(type.Success, line);
                Assert.True(types.TryAdd(type.Groups["name"].Value, type.Groups["type"].Value), "TYPE given twice: " + line);
                continue;
            }

            Match sample = SampleLine().Match(line);
            Assert.True(sample.Success, line);
            string name = sample.Groups["name"].Value;
            string family = types.ContainsKey(name) ? name : Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(types.ContainsKey(family), "no TYPE before " + line);
            foreach (Capture label in sample.Groups["label"].Captures)
            {
                Assert.Contains(label.Value, s_allowedLabels);
            }
        }

        // Known label sets show from the start, at zero or more.
        Assert.Contains("coordination_relay_send_refusals_total{kind=\"stale_epoch\",transport=\"hub\"} ", text, StringComparison.Ordinal);
        Assert.Contains("coordination_relay_sends_total{result=\"stored\",transport=\"rest\"} ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\ncoordination_relay_sends_total ", text, StringComparison.Ordinal);

        Assert.Equal("counter", types["coordination_relay_sends_total"]);
        Assert.Equal("histogram", types["coordination_relay_send_ack_latency_seconds"]);
        Assert.Equal("histogram", types["coordination_relay_batch_size"]);
        Assert.Equal("gauge", types["coordination_hub_connections"]);
        Assert.Equal("gauge", types["coordination_relay_queue_depth"]);

        // Histogram buckets are cumulative and end in +Inf, which equals the count.
        Dictionary<string, double> values = Parse(text);
        double previous = 0;
        foreach (string bound in new[] { "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf" })
        {
            double bucket = values[$"coordination_relay_send_ack_latency_seconds_bucket{{le=\"{bound}\"}}"];
            Assert.True(bucket >= previous, bound);
            previous = bucket;
        }

        Assert.Equal(previous, values["coordination_relay_send_ack_latency_seconds_count"]);
    }

    [Fact]
    public async Task A_refused_proof_of_work_is_counted()
    {
        Dictionary<string, double> before = Parse(await ScrapeAsync());
        using HttpClient http = _relay.CreateRealClient();
        SealedReportRequest request = new(null!, new byte[IntakeLimits.MinSealedReportBytes], new byte[IntakeLimits.LookupSecretBytes]);

        HttpResponseMessage response = await http.PostAsJsonAsync(new Uri($"/api/v1/intakes/{Guid.NewGuid()}/reports", UriKind.Relative), request).WaitAsync(TestTimeouts.Default);
        Dictionary<string, double> after = Parse(await ScrapeAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, Delta(before, after, "coordination_intake_pow_refusals_total"));
        Assert.Equal(0, Delta(before, after, "coordination_intake_reports_accepted_total"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-wrong-token-wrong-token-wrong")]
    [InlineData(MetricsRelay.Token + "x")]
    public async Task Without_the_secret_the_endpoint_answers_like_an_unknown_path(string? token)
    {
        using HttpClient http = _relay.CreateRealClient();
        using HttpRequestMessage request = new(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
        HttpResponseMessage unknown = await http.GetAsync(new Uri("/no-such-path", UriKind.Relative)).WaitAsync(TestTimeouts.Default);
        string body = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(unknown.StatusCode, response.StatusCode);
        Assert.Equal(unknown.Content.Headers.ContentType?.MediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("coordination_", body, StringComparison.Ordinal);
    }

    private async Task<string> ScrapeAsync()
    {
        using HttpClient http = _relay.CreateRealClient();
        using HttpRequestMessage request = new(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MetricsRelay.Token);
        HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Default);
    }

    private async Task<string> WaitForAsync(Func<Dictionary<string, double>, bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            string text = await ScrapeAsync();
            if (condition(Parse(text)) || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(20);
        }
    }

    private Task<HubConnection> ConnectAsync(TestDevice device) =>
        HubConnection.ConnectAsync(new Uri(_relay.ServerAddress, RelayHubContract.Path), device.Api.Token, null, CancellationToken.None).WaitAsync(TestTimeouts.Default);

    /// <summary>Sample lines by series (name and labels exactly as written) to value.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        Dictionary<string, double> values = new(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            int space = line.LastIndexOf(' ');
            string value = line[(space + 1)..];
            values[line[..space]] = value == "+Inf" ? double.PositiveInfinity : double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return values;
    }

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    [GeneratedRegex("^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$")]
    private static partial Regex HelpLine();

    [GeneratedRegex("^# TYPE (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<type>counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<label>[a-zA-Z_][a-zA-Z0-9_]*)="(\\.|[^"\\])*"(,(?<label>[a-zA-Z_][a-zA-Z0-9_]*)="(\\.|[^"\\])*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|\+Inf|-Inf|NaN)$""")]
    private static partial Regex SampleLine();
}

/// <summary>Metrics are off unless configured, and on only with a usable secret.</summary>
public sealed class MetricsConfigurationTests
{
    [Fact]
    public async Task By_default_there_is_no_metrics_endpoint()
    {
        using RelayFactory relay = new();
        using HttpClient http = relay.CreateRealClient();
        using HttpRequestMessage request = new(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MetricsRelay.Token);

        HttpResponseMessage response = await http.SendAsync(request).WaitAsync(TestTimeouts.Default);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too-short")]
    public void Enabled_without_a_usable_secret_stops_the_start(string? token)
    {
        using ConfiguredRelay relay = new(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Token"] = token });
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => relay.ServerAddress);
        Assert.Contains("Metrics:Token", error.Message, StringComparison.Ordinal);
    }

    private sealed class ConfiguredRelay(Dictionary<string, string?> settings) : RelayFactory(settings);
}
