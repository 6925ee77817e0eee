using System.Text;
using Coordination.Client.Api;
using Coordination.Client.Cells;
using Coordination.Client.Hub;
using Coordination.Client.Identity;
using Coordination.Crypto;
using Coordination.Protocol;

namespace Coordination.Client.Messaging;

/// <summary>Why an envelope could not be read. Every failure is reported, never dropped silently.</summary>
public sealed record DecryptionFailure(Guid ConversationId, long Seq, Guid MessageId, string Reason);

/// <summary>
/// End-to-end messaging for one device: encrypts and signs what it sends (pairwise for direct
/// conversations, sender keys for groups), decrypts and verifies what arrives, keeps it in the
/// encrypted local store, and only then acknowledges it, so a restart resumes where it stopped.
/// </summary>
public sealed class MessagingClient : IAsyncDisposable
{
    private readonly DeviceIdentity _identity;
    private readonly RelayApi _api;
    private readonly LocalMessageStore _store;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _processing = new(1, 1);
    private readonly Dictionary<Guid, ConversationInfo> _conversations = [];
    private readonly Dictionary<Guid, Dictionary<Guid, RecipientDevice>> _devices = [];
    private readonly GroupKeys _groupKeys;
    private ReconnectingHub? _hub;
    private int _hubConnections;

    public MessagingClient(DeviceIdentity identity, RelayApi api, LocalMessageStore store, TimeProvider? clock = null)
    {
        _identity = identity;
        _api = api;
        _store = store;
        _clock = clock ?? TimeProvider.System;
        _groupKeys = GroupKeys.Import(store.LoadState());
    }

    /// <summary>A message was decrypted, verified and stored.</summary>
    public event Action<StoredMessage>? MessageReceived;

    /// <summary>An envelope could not be decrypted or verified; it is recorded and acknowledged.</summary>
    public event Action<DecryptionFailure>? DecryptionFailed;

    /// <summary>The live connection is gone for good (the device was revoked, or reconnecting failed for another lasting reason).</summary>
    public event Action<Exception>? ConnectionLost;

    public LocalMessageStore Store => _store;

    /// <summary>
    /// Who may be in a cell or group conversation (the verified membership log). Without it, the
    /// relay's list of devices is trusted as long as each device is signed by its account key.
    /// </summary>
    public IConversationTrust? Trust { get; set; }

    public bool IsLive => _hub?.IsConnected == true;

    /// <summary>Logs in (if needed), connects the hub, and catches up with everything pending.</summary>
    public async Task ConnectAsync(CancellationToken ct)
    {
        await EnsureLoggedInAsync(ct);
        _hub = new ReconnectingHub(
            new Uri(_api.Http.BaseAddress!, RelayHubContract.Path),
            async token =>
            {
                // The first connection uses the session this client already has (one session per
                // client on the relay); a reconnect logs in afresh, so a revoked device stops there.
                if (Interlocked.Exchange(ref _hubConnections, 1) == 0 && _api.Token is { } current)
                {
                    return current;
                }

                return (await _api.LoginAsync(_identity, token)).Token;
            },
            connection =>
            {
                connection.On<EnvelopeDelivery>(nameof(IRelayClient.ReceiveEnvelope), envelope => ProcessLiveAsync(envelope));
                connection.On<ConversationInfo>(nameof(IRelayClient.ConversationAdded), info =>
                {
                    lock (_conversations)
                    {
                        _conversations[info.ConversationId] = info;
                    }

                    return Task.CompletedTask;
                });
            });
        _hub.Reconnected += () => SyncAsync(CancellationToken.None);
        _hub.GaveUp += reason => ConnectionLost?.Invoke(reason);
        await _hub.StartAsync(ct);
        await SyncAsync(ct);
    }

    /// <summary>A conversation id this account takes part in, or an account id to talk to directly.</summary>
    public async Task<Guid> ResolveConversationAsync(string target, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        if (!Guid.TryParse(target, out Guid id))
        {
            throw new ArgumentException("Give a conversation id or a member's account id.", nameof(target));
        }

        await EnsureLoggedInAsync(ct);
        await RefreshConversationsAsync(ct);
        lock (_conversations)
        {
            if (_conversations.ContainsKey(id))
            {
                return id;
            }
        }

        ConversationInfo direct = await _api.OpenDirectConversationAsync(id, ct);
        lock (_conversations)
        {
            _conversations[direct.ConversationId] = direct;
        }

        return direct.ConversationId;
    }

    /// <summary>Encrypts, signs and sends a text; returns once the relay stored it durably.</summary>
    public Task<SendResult> SendTextAsync(Guid conversationId, string text, CancellationToken ct) => SendTextAsync(conversationId, text, null, ct);

    /// <summary>As <see cref="SendTextAsync(Guid, string, CancellationToken)"/>, deleted by the relay after <paramref name="ttlSeconds"/> if still undelivered.</summary>
    public async Task<SendResult> SendTextAsync(Guid conversationId, string text, int? ttlSeconds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(text);
        await EnsureLoggedInAsync(ct);
        Guid messageId = Guid.NewGuid();
        long sentAt = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        InnerMessage inner = InnerMessage.Create(_identity, conversationId, messageId, ContentType.Text, Encoding.UTF8.GetBytes(text), sentAt);
        for (int attempt = 0; ; attempt++)
        {
            ConversationInfo conversation = await ConversationAsync(conversationId, ct);
            byte[] plaintext;
            if (conversation.Kind == ConversationKind.Direct)
            {
                List<RecipientKey> recipients = await RecipientsAsync(conversationId, ct);
                if (recipients.Count == 0)
                {
                    throw new InvalidOperationException("No device in this conversation can receive a message.");
                }

                plaintext = PairwiseEnvelope.Seal(conversationId, messageId, inner.Encode(), recipients);
            }
            else
            {
                SenderChain chain = await OwnChainAsync(conversation, ct);
                plaintext = GroupEnvelope.Seal(conversationId, messageId, (uint)conversation.Epoch, inner.Encode(), chain);
                _store.SaveState(_groupKeys.Export());
            }

            SendResult result;
            try
            {
                result = await SendEnvelopeAsync(new SendEnvelope(conversationId, messageId, plaintext, ttlSeconds), ct);
            }
            catch (Exception ex) when (attempt == 0 && conversation.Kind != ConversationKind.Direct && IsStaleEpoch(ex))
            {
                // Membership changed since this device last looked: re-key for the new epoch and send again.
                await RefreshConversationsAsync(ct);
                continue;
            }

            // Into the history only once the relay holds it: a failed send leaves no phantom message.
            _store.Add(new StoredMessage(conversationId, result.Seq, messageId, _identity.AccountId, _identity.DeviceId, sentAt, text, Outgoing: true, Failure: null));
            return result;
        }
    }

    private static bool IsStaleEpoch(Exception ex) => ex switch
    {
        RelayApiException api => api.Status == System.Net.HttpStatusCode.Conflict && api.Detail?.Contains("epoch", StringComparison.Ordinal) == true,
        HubInvocationException hub => hub.Message.Contains("epoch", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>Fetches, processes and acknowledges everything pending; returns how many new messages were stored.</summary>
    public async Task<int> SyncAsync(CancellationToken ct)
    {
        await EnsureLoggedInAsync(ct);
        int stored = 0;
        while (true)
        {
            InboxPage page = await _api.FetchAsync(Limits.MaxFetchPageSize, ct);
            stored += await ProcessAsync(page.Envelopes, ct);
            if (!page.More || page.Envelopes.Count == 0)
            {
                return stored;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }

        _groupKeys.Dispose();
        _processing.Dispose();
    }

    private async Task EnsureLoggedInAsync(CancellationToken ct)
    {
        if (_api.Token is null || _api.TokenExpiresAt - 60_000 < _clock.GetUtcNow().ToUnixTimeMilliseconds())
        {
            await _api.LoginAsync(_identity, ct);
        }
    }

    private async Task ProcessLiveAsync(EnvelopeDelivery envelope)
    {
        try
        {
            await ProcessAsync([envelope], CancellationToken.None);
        }
        catch (Exception ex) when (ex is RelayApiException or HttpRequestException or HubClientException)
        {
            // Not acknowledged: it comes back with the next sync.
        }
    }

    /// <summary>Processes envelopes in order, stores them, then acknowledges the highest seq per conversation.</summary>
    private async Task<int> ProcessAsync(IReadOnlyList<EnvelopeDelivery> envelopes, CancellationToken ct)
    {
        await _processing.WaitAsync(ct);
        try
        {
            int stored = 0;
            Dictionary<Guid, long> acks = [];
            foreach (EnvelopeDelivery envelope in envelopes.OrderBy(e => e.Seq))
            {
                if (!_store.Contains(envelope.MessageId))
                {
                    StoredMessage message = await OpenAsync(envelope, ct);
                    if (message.Text is not null || message.Failure is not null)
                    {
                        if (_store.Add(message))
                        {
                            stored++;
                            if (message.Failure is null)
                            {
                                MessageReceived?.Invoke(message);
                            }
                        }
                    }
                }

                acks[envelope.ConversationId] = Math.Max(acks.GetValueOrDefault(envelope.ConversationId), envelope.Seq);
            }

            if (acks.Count > 0)
            {
                await _api.AckAsync([.. acks.Select(a => new Ack(a.Key, a.Value))], ct);
            }

            return stored;
        }
        finally
        {
            _processing.Release();
        }
    }

    /// <summary>Decrypts and verifies one envelope; a failure becomes a stored record with its reason.</summary>
    private async Task<StoredMessage> OpenAsync(EnvelopeDelivery envelope, CancellationToken ct)
    {
        string? reason;
        InnerMessage? inner = null;
        Guid? chainSender = null;
        ReadOnlyMemory<byte> plaintext = envelope.Ciphertext;
        if (!Limits.IsEnvelopeBucket(envelope.Ciphertext.Length))
        {
            reason = "the envelope is not a bucket size";
        }
        else if (plaintext.Length >= 2 && plaintext.Span[1] == PairwiseEnvelope.Type)
        {
            reason = PairwiseEnvelope.TryOpen(plaintext.Span, envelope.ConversationId, envelope.MessageId, _identity.AgreementKey, out byte[]? bytes)
                ? (InnerMessage.TryDecode(bytes, out inner) ? null : "the inner message is malformed")
                : "the envelope is not addressed to this device or was altered";
        }
        else if (GroupEnvelope.TryReadEpoch(plaintext.Span, out uint epoch))
        {
            ReceivingChains? chains = _groupKeys.Receiving(envelope.ConversationId, epoch);
            if (chains is null)
            {
                reason = $"no sender keys for epoch {epoch} of this conversation";
            }
            else if (GroupEnvelope.TryOpen(plaintext.Span, envelope.ConversationId, envelope.MessageId, chains, out byte[]? bytes, out Guid sender))
            {
                chainSender = sender;
                _store.SaveState(_groupKeys.Export());
                reason = InnerMessage.TryDecode(bytes, out inner) ? null : "the inner message is malformed";
            }
            else
            {
                reason = "no sender key opens this group message (unknown sender, replay or alteration)";
            }
        }
        else
        {
            reason = "unknown envelope type";
        }

        if (inner is not null)
        {
            reason = await VerifySenderAsync(envelope, inner, chainSender, ct);
        }

        if (reason is not null)
        {
            DecryptionFailure failure = new(envelope.ConversationId, envelope.Seq, envelope.MessageId, reason);
            DecryptionFailed?.Invoke(failure);
            return new StoredMessage(envelope.ConversationId, envelope.Seq, envelope.MessageId, Guid.Empty, Guid.Empty, 0, null, Outgoing: false, Failure: reason);
        }

        if (inner!.ContentType == ContentType.SenderKeyDistribution)
        {
            if (!SenderChain.TryParseDistribution(inner.Body, out Guid conversationId, out uint epoch, out SenderChain? chain) || conversationId != envelope.ConversationId)
            {
                chain?.Dispose();
                DecryptionFailed?.Invoke(new DecryptionFailure(envelope.ConversationId, envelope.Seq, envelope.MessageId, "a malformed sender key distribution"));
                return new StoredMessage(envelope.ConversationId, envelope.Seq, envelope.MessageId, inner.SenderAccountId, inner.SenderDeviceId, inner.SentAt, null, false, "a malformed sender key distribution");
            }

            _groupKeys.Install(conversationId, epoch, inner.SenderDeviceId, chain!);
            _store.SaveState(_groupKeys.Export());
            // Key material is not history: nothing to store, but the envelope is acknowledged.
            return new StoredMessage(envelope.ConversationId, envelope.Seq, envelope.MessageId, inner.SenderAccountId, inner.SenderDeviceId, inner.SentAt, null, false, null);
        }

        return new StoredMessage(envelope.ConversationId, envelope.Seq, envelope.MessageId, inner.SenderAccountId, inner.SenderDeviceId, inner.SentAt, inner.Text, Outgoing: inner.SenderDeviceId == _identity.DeviceId, Failure: null);
    }

    /// <summary>Null when the sender is a current, account-signed device of the conversation and its signature verifies.</summary>
    private async Task<string?> VerifySenderAsync(EnvelopeDelivery envelope, InnerMessage inner, Guid? chainSender, CancellationToken ct)
    {
        if (chainSender is { } sender && sender != inner.SenderDeviceId)
        {
            return "the message claims a different sender than the key that encrypted it";
        }

        RecipientDevice? device;
        try
        {
            device = await DeviceAsync(envelope.ConversationId, inner.SenderDeviceId, ct);
        }
        catch (MembershipTamperingException ex)
        {
            return $"the membership of this conversation cannot be verified: {ex.Message}";
        }

        if (device is null || device.AccountId != inner.SenderAccountId)
        {
            return "the sender is not a device of this conversation";
        }

        return inner.Verify(Ed25519PublicKey.FromBytes(device.Device.SigningPublicKey), envelope.ConversationId, envelope.MessageId)
            ? null
            : "the sender's signature does not verify";
    }

    private async Task<RecipientDevice?> DeviceAsync(Guid conversationId, Guid deviceId, CancellationToken ct)
    {
        if (_devices.TryGetValue(conversationId, out Dictionary<Guid, RecipientDevice>? known) && known.TryGetValue(deviceId, out RecipientDevice? device))
        {
            return device;
        }

        await RecipientsAsync(conversationId, ct);
        return _devices.TryGetValue(conversationId, out known) ? known.GetValueOrDefault(deviceId) : null;
    }

    /// <summary>
    /// Every active device of the conversation, this one included (so the slots do not reveal the
    /// sender), each checked against its account's signature: a device the relay added without the
    /// account key is refused.
    /// </summary>
    private async Task<List<RecipientKey>> RecipientsAsync(Guid conversationId, CancellationToken ct)
    {
        List<RecipientDevice> listed = await _api.ListRecipientDevicesAsync(conversationId, ct);
        IReadOnlyDictionary<Guid, byte[]>? trusted = Trust is null ? null : await Trust.TrustedAccountsAsync(await ConversationAsync(conversationId, ct), ct);
        Dictionary<Guid, RecipientDevice> verified = [];
        HashSet<Guid> untrusted = [];
        foreach (RecipientDevice candidate in listed)
        {
            if (trusted is not null && (!trusted.TryGetValue(candidate.AccountId, out byte[]? logKey) || !logKey.AsSpan().SequenceEqual(candidate.AccountPublicKey)))
            {
                if (untrusted.Add(candidate.AccountId))
                {
                    Trust!.ReportUntrusted(conversationId, candidate.AccountId);
                }

                continue;
            }

            DeviceInfo d = candidate.Device;
            byte[] statement = SignedStatements.Device(candidate.AccountPublicKey, d.SigningPublicKey, d.AgreementPublicKey);
            if (!d.Revoked && Ed25519PublicKey.FromBytes(candidate.AccountPublicKey).Verify(statement, d.AccountSignature))
            {
                verified[d.DeviceId] = candidate;
            }
        }

        _devices[conversationId] = verified;
        return [.. verified.Values
            .Select(r => new RecipientKey(r.Device.DeviceId, X25519PublicKey.FromBytes(r.Device.AgreementPublicKey)))];
    }

    private async Task<SenderChain> OwnChainAsync(ConversationInfo conversation, CancellationToken ct)
    {
        uint epoch = (uint)conversation.Epoch;
        SenderChain? chain = _groupKeys.Own(conversation.ConversationId, epoch);
        if (chain is not null)
        {
            return chain;
        }

        chain = _groupKeys.CreateOwn(conversation.ConversationId, epoch);
        Guid messageId = Guid.NewGuid();
        InnerMessage distribution = InnerMessage.Create(_identity, conversation.ConversationId, messageId, ContentType.SenderKeyDistribution,
            chain.Distribution(conversation.ConversationId, epoch), _clock.GetUtcNow().ToUnixTimeMilliseconds());
        List<RecipientKey> recipients = [.. (await RecipientsAsync(conversation.ConversationId, ct)).Where(r => r.DeviceId != _identity.DeviceId)];
        if (recipients.Count > 0)
        {
            byte[] sealedDistribution = PairwiseEnvelope.Seal(conversation.ConversationId, messageId, distribution.Encode(), recipients);
            await SendEnvelopeAsync(new SendEnvelope(conversation.ConversationId, messageId, sealedDistribution), ct);
        }

        _store.Add(new StoredMessage(conversation.ConversationId, 0, messageId, _identity.AccountId, _identity.DeviceId, 0, null, Outgoing: true, Failure: null));
        _store.SaveState(_groupKeys.Export());
        return chain;
    }

    private async Task<SendResult> SendEnvelopeAsync(SendEnvelope envelope, CancellationToken ct)
    {
        if (_hub?.IsConnected == true)
        {
            try
            {
                return await _hub.InvokeAsync<SendResult>(nameof(IRelayHub.Send), [envelope], ct);
            }
            catch (HubConnectionClosedException)
            {
                // The same message id through REST is idempotent.
            }
        }

        return await _api.SendAsync(envelope, ct);
    }

    private async Task<ConversationInfo> ConversationAsync(Guid conversationId, CancellationToken ct)
    {
        lock (_conversations)
        {
            if (_conversations.TryGetValue(conversationId, out ConversationInfo? known))
            {
                return known;
            }
        }

        await RefreshConversationsAsync(ct);
        lock (_conversations)
        {
            return _conversations.TryGetValue(conversationId, out ConversationInfo? info)
                ? info
                : throw new ArgumentException("This account takes no part in that conversation.", nameof(conversationId));
        }
    }

    private async Task RefreshConversationsAsync(CancellationToken ct)
    {
        List<ConversationInfo> all = await _api.ListConversationsAsync(ct);
        lock (_conversations)
        {
            foreach (ConversationInfo info in all)
            {
                _conversations[info.ConversationId] = info;
            }
        }
    }
}
