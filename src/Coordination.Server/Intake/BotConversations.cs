using System.Collections.Concurrent;
using Coordination.Protocol;

namespace Coordination.Server.Intake;

/// <summary>
/// Bot conversations, in memory only: one per reporter, asked step by step in the reporter's
/// language. A conversation idle for <see cref="IntakeLimits.ConversationIdleTimeout"/> is
/// forgotten with everything typed into it; so is one that ends (sealed, or consent refused).
/// The number held at once is bounded (<see cref="IntakeOptions.MaxConversations"/>).
/// </summary>
public sealed class BotConversations(TimeProvider clock, IntakeOptions options)
{
    private readonly ConcurrentDictionary<Guid, BotConversation> _conversations = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>A new conversation, or null when too many are open.</summary>
    public BotConversation? Start(Guid intakeId, IntakeFlow flow, string language, int retentionDays)
    {
        if (Count >= options.MaxConversations)
        {
            PurgeIdle();
            if (Count >= options.MaxConversations)
            {
                return null;
            }
        }

        BotConversation conversation = new(Guid.NewGuid(), intakeId, flow, language, retentionDays, clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (!_conversations.TryAdd(conversation.Id, conversation))
        {
            return null;
        }

        Interlocked.Increment(ref _count);
        return conversation;
    }

    /// <summary>The open conversation with this id at this intake, or null (unknown, ended or idle too long).</summary>
    public BotConversation? Find(Guid intakeId, Guid conversationId)
    {
        if (!_conversations.TryGetValue(conversationId, out BotConversation? conversation) || conversation.IntakeId != intakeId)
        {
            return null;
        }

        if (IsIdle(conversation, clock.GetUtcNow().ToUnixTimeMilliseconds()))
        {
            End(conversation);
            return null;
        }

        return conversation;
    }

    /// <summary>Forgets the conversation and what was typed into it.</summary>
    public void End(BotConversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        if (_conversations.TryRemove(new KeyValuePair<Guid, BotConversation>(conversation.Id, conversation)))
        {
            Interlocked.Decrement(ref _count);
        }

        conversation.Discard();
    }

    /// <summary>Forgets every conversation idle too long; returns how many went.</summary>
    public int PurgeIdle()
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        int purged = 0;
        foreach (BotConversation conversation in _conversations.Values)
        {
            if (IsIdle(conversation, now))
            {
                End(conversation);
                purged++;
            }
        }

        return purged;
    }

    /// <summary>
    /// Records <paramref name="answer"/> to the current question and moves on: the next question,
    /// the answers when the consent was given, a refusal (everything discarded), or why the
    /// answer is not valid (the question stays).
    /// </summary>
    public BotStep Answer(BotConversation conversation, string? answer)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        DateTimeOffset now = clock.GetUtcNow();
        lock (conversation.Gate)
        {
            if (conversation.Ended)
            {
                return BotStep.Gone;
            }

            conversation.LastActive = now.ToUnixTimeMilliseconds();
            IntakeStep step = conversation.Flow.Steps[conversation.StepIndex];
            (string? value, string? error) = ReportAssembly.Accept(step, answer, conversation.Language, DateOnly.FromDateTime(now.UtcDateTime));
            if (error is not null)
            {
                return BotStep.Invalid(error);
            }

            if (step.Kind == AnswerKind.Consent && value == ReportAssembly.No)
            {
                End(conversation);
                return BotStep.Refused;
            }

            if (value is not null)
            {
                conversation.Answers[step.Id] = value;
                conversation.Ordered.Add(new KeyValuePair<string, string>(step.Id, value));
            }

            if (!conversation.MoveToNextShown())
            {
                // The last question (the consent) was answered: hand the answers over and forget
                // the conversation, so no second answer can seal it again.
                List<KeyValuePair<string, string>> answers = [.. conversation.Ordered];
                End(conversation);
                return BotStep.Completed(answers);
            }

            return BotStep.Ask;
        }
    }

    /// <summary>The bot's turn for the conversation's current question (with the flow's intro on the first).</summary>
    public static BotTurn Question(BotConversation conversation, bool first)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        string language = conversation.Language;
        IntakeStep step = conversation.Flow.Steps[conversation.StepIndex];
        string days = conversation.RetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<ChoiceOption>? choices = step.Kind switch
        {
            AnswerKind.Choice => [.. step.Options.Select(o => new ChoiceOption(o.Value, IntakeFlows.In(o.Label, language)))],
            AnswerKind.Consent => [new ChoiceOption(ReportAssembly.Yes, ReportAssembly.ConsentLabels(language).Yes), new ChoiceOption(ReportAssembly.No, ReportAssembly.ConsentLabels(language).No)],
            _ => null,
        };
        return new BotTurn(
            conversation.Id,
            step.Id,
            IntakeFlows.In(step.Question, language).Replace(IntakeFlows.RetentionPlaceholder, days, StringComparison.Ordinal),
            step.Hint is null ? null : IntakeFlows.In(step.Hint, language).Replace(IntakeFlows.RetentionPlaceholder, days, StringComparison.Ordinal),
            step.KindName,
            step.Optional,
            choices,
            Done: false,
            Message: first ? IntakeFlows.In(conversation.Flow.Intro, language).Replace(IntakeFlows.RetentionPlaceholder, days, StringComparison.Ordinal) : null,
            Receipt: null,
            ExpiresAt: null);
    }

    private static bool IsIdle(BotConversation conversation, long now) =>
        now - Volatile.Read(ref conversation.LastActive) >= (long)IntakeLimits.ConversationIdleTimeout.TotalMilliseconds;
}

/// <summary>One conversation's state. Only <see cref="BotConversations"/> changes it, under <see cref="Gate"/>.</summary>
public sealed class BotConversation
{
    internal long LastActive;

    internal BotConversation(Guid id, Guid intakeId, IntakeFlow flow, string language, int retentionDays, long now)
    {
        Id = id;
        IntakeId = intakeId;
        Flow = flow;
        Language = language;
        RetentionDays = retentionDays;
        LastActive = now;
        StepIndex = -1;
        if (!MoveToNextShown())
        {
            throw new InvalidOperationException($"Flow {flow.Key} asks nothing.");
        }
    }

    public Guid Id { get; }

    public Guid IntakeId { get; }

    public IntakeFlow Flow { get; }

    public string Language { get; }

    public int RetentionDays { get; }

    internal Lock Gate { get; } = new();

    internal int StepIndex { get; private set; }

    internal bool Ended { get; private set; }

    internal Dictionary<string, string> Answers { get; } = new(StringComparer.Ordinal);

    internal List<KeyValuePair<string, string>> Ordered { get; } = [];

    /// <summary>Moves to the next step whose showIf holds; false when there is none.</summary>
    internal bool MoveToNextShown()
    {
        for (int next = StepIndex + 1; next < Flow.Steps.Count; next++)
        {
            if (Flow.Steps[next].IsShown(Answers))
            {
                StepIndex = next;
                return true;
            }
        }

        return false;
    }

    internal void Discard()
    {
        lock (Gate)
        {
            Ended = true;
            Answers.Clear();
            Ordered.Clear();
        }
    }
}

/// <summary>What an answer led to.</summary>
public sealed record BotStep(BotStepKind Kind, string? Error, IReadOnlyList<KeyValuePair<string, string>>? Answers)
{
    public static BotStep Ask { get; } = new(BotStepKind.Ask, null, null);

    public static BotStep Refused { get; } = new(BotStepKind.Refused, null, null);

    public static BotStep Gone { get; } = new(BotStepKind.Gone, null, null);

    public static BotStep Invalid(string error) => new(BotStepKind.Invalid, error, null);

    public static BotStep Completed(IReadOnlyList<KeyValuePair<string, string>> answers) => new(BotStepKind.Completed, null, answers);
}

public enum BotStepKind
{
    Ask,
    Invalid,
    Refused,
    Completed,
    Gone,
}
