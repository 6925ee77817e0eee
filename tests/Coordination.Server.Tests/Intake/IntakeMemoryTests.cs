using Coordination.Protocol;
using Coordination.Server.Intake;

namespace Coordination.Server.Tests.Intake;

/// <summary>What the intake holds in memory is bounded, expires, and is used once.</summary>
public sealed class IntakeMemoryTests
{
    private static readonly IntakeFlows s_flows = IntakeFlows.Load(Path.Combine(AppContext.BaseDirectory, "seeds", "intake-flows.json"));

    [Fact]
    public void Challenges_are_kept_by_nobody_until_solved_then_single_use_bound_to_their_intake_and_expire()
    {
        ShiftableClock clock = new();
        IntakeOptions options = new() { MaxChallenges = 2, Pepper = Convert.ToBase64String(new byte[32]) };
        using ReceiptLookup secrets = new(options, new Coordination.Server.Persistence.StorageOptions());
        PowChallenges challenges = new(clock, options, secrets);
        Guid intake = Guid.NewGuid();
        PowChallenge first = challenges.Issue(intake, 8);
        PowChallenge second = challenges.Issue(intake, 8);
        PowChallenge third = challenges.Issue(intake, 8);
        Assert.Equal(0, challenges.Count);

        ulong solution = Coordination.Protocol.Receipts.ProofOfWork.Solve(first.Nonce, 8);
        Assert.NotNull(Redeem(challenges, Guid.NewGuid(), new PowSolution(first.ChallengeId, solution)));
        Assert.Null(Redeem(challenges, intake, new PowSolution(first.ChallengeId, solution)));
        Assert.NotNull(Redeem(challenges, intake, new PowSolution(first.ChallengeId, solution)));
        Assert.Equal(1, challenges.Count);

        // A made-up id (any difficulty and expiry it claims) has no nonce the relay would make.
        Assert.NotNull(Redeem(challenges, intake, new PowSolution(Guid.NewGuid(), 0)));

        // Solved challenges are remembered up to the bound; expired ones make room again.
        Assert.Null(Redeem(challenges, intake, new PowSolution(second.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(second.Nonce, 8))));
        Assert.NotNull(Redeem(challenges, intake, new PowSolution(third.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(third.Nonce, 8))));
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(2, challenges.PurgeExpired());
        PowChallenge fresh = challenges.Issue(intake, 8);
        Assert.Null(Redeem(challenges, intake, new PowSolution(fresh.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(fresh.Nonce, 8))));
        Assert.NotNull(Redeem(challenges, intake, new PowSolution(third.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(third.Nonce, 8))));
    }

    [Fact]
    public void The_memory_of_solved_challenges_is_per_intake()
    {
        ShiftableClock clock = new();
        IntakeOptions options = new() { MaxChallenges = 1, Pepper = Convert.ToBase64String(new byte[32]) };
        using ReceiptLookup secrets = new(options, new Coordination.Server.Persistence.StorageOptions());
        PowChallenges challenges = new(clock, options, secrets);
        Guid busy = Guid.NewGuid();
        Guid quiet = Guid.NewGuid();
        PowChallenge first = challenges.Issue(busy, 8);
        PowChallenge second = challenges.Issue(busy, 8);
        PowChallenge elsewhere = challenges.Issue(quiet, 8);
        Assert.Null(Redeem(challenges, busy, new PowSolution(first.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(first.Nonce, 8))));
        Assert.NotNull(Redeem(challenges, busy, new PowSolution(second.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(second.Nonce, 8))));
        Assert.Null(Redeem(challenges, quiet, new PowSolution(elsewhere.ChallengeId, Coordination.Protocol.Receipts.ProofOfWork.Solve(elsewhere.Nonce, 8))));
    }

    /// <summary>Verify, then spend: what the endpoints do around the intake's rate limit.</summary>
    private static string? Redeem(PowChallenges challenges, Guid intake, PowSolution solution) =>
        challenges.Verify(intake, solution, out PowTicket ticket) ?? challenges.Spend(intake, ticket);

    [Fact]
    public void Conversations_are_bounded_and_an_idle_one_is_forgotten_with_its_answers()
    {
        ShiftableClock clock = new();
        BotConversations conversations = new(clock, new IntakeOptions { MaxConversations = 1 });
        Guid intake = Guid.NewGuid();
        IntakeFlow flow = s_flows.Flows["rally-statement"];
        BotConversation open = conversations.Start(intake, flow, "en", 30)!;
        Assert.Null(conversations.Start(intake, flow, "en", 30));
        Assert.Equal(BotStepKind.Ask, conversations.Answer(open, "Words").Kind);
        Assert.Null(conversations.Find(Guid.NewGuid(), open.Id));

        clock.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(1, conversations.PurgeIdle());
        Assert.Null(conversations.Find(intake, open.Id));
        Assert.Equal(BotStepKind.Gone, conversations.Answer(open, "anonymous").Kind);
        Assert.NotNull(conversations.Start(intake, flow, "en", 30));
    }

    [Fact]
    public void Bridge_answers_are_checked_in_flow_order_and_skipped_steps_are_left_out()
    {
        IntakeFlow flow = s_flows.Flows["detention-report"];
        DateOnly today = new(2026, 11, 21);
        (List<KeyValuePair<string, string>>? answers, bool refused, string? error) = ReportAssembly.Validate(flow,
            new Dictionary<string, string> { ["consent"] = "да", ["where"] = " Tver ", ["when"] = "20.11.2026", ["what"] = "x", ["who"] = "  " }, "ru", today);
        Assert.Null(error);
        Assert.False(refused);
        Assert.Equal(["what", "when", "where", "consent"], answers!.Select(a => a.Key));
        Assert.Equal(["x", "2026-11-20", "Tver", "yes"], answers!.Select(a => a.Value));

        Assert.True(ReportAssembly.Validate(flow, new Dictionary<string, string> { ["what"] = "x", ["when"] = "2026-11-21", ["where"] = "y", ["consent"] = "NO" }, "en", today).Refused);
        Assert.Contains("future", ReportAssembly.Validate(flow, new Dictionary<string, string> { ["what"] = "x", ["when"] = "2026-11-23", ["where"] = "y", ["consent"] = "yes" }, "en", today).Error, StringComparison.Ordinal);

        // maxLength counts characters (Unicode scalar values), not UTF-16 units: 300 emoji fit "where".
        string emoji = string.Concat(Enumerable.Repeat("\U0001F600", 300));
        Assert.Null(ReportAssembly.Validate(flow, new Dictionary<string, string> { ["what"] = "x", ["when"] = "2026-11-21", ["where"] = emoji, ["consent"] = "yes" }, "en", today).Error);
        Assert.NotNull(ReportAssembly.Validate(flow, new Dictionary<string, string> { ["what"] = "x", ["when"] = "2026-11-21", ["where"] = emoji + "!", ["consent"] = "yes" }, "en", today).Error);
    }
}
