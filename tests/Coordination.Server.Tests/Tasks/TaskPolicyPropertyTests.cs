using System.Globalization;
using System.Net;
using Coordination.Client.Api;
using Coordination.Client.Tasks;
using Coordination.Protocol;
using Coordination.Server.Tests.Infrastructure;

namespace Coordination.Server.Tests.Tasks;

/// <summary>
/// Random tasks, ceilings and tags, and random operations through every path that puts a task in
/// someone's hands (offer, accept, hand-over) or changes who may hold it (ceilings, tags), against
/// the real relay. After every step the database must hold no offered or accepted part above its
/// member's ceiling or without a required tag, and every operation the relay accepted must have
/// been allowed by the policy at that moment. The seed is in the failure message.
/// </summary>
public sealed class TaskPolicyPropertyTests(RelayFactory relay) : IClassFixture<RelayFactory>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string[] s_tagNames = ["in-country", "lawyer", "printing", "russian-speaking"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task No_path_ever_leaves_a_task_above_a_ceiling_or_without_a_tag(int seed)
    {
        Random random = new(seed);
        await using Network network = await Network.CreateAsync(relay);
        TaskClient organizer = Network.Tasks(network.Olga);
        (Guid Id, CellMember Member)[] members =
        [
            (network.AnnaMembership, network.Anna),
            (network.BorisMembership, network.Boris),
            (network.VeraMembership, network.Vera),
        ];
        Dictionary<Guid, (RiskLevel Ceiling, HashSet<string> Tags)> model = new()
        {
            [network.AnnaMembership] = (RiskLevel.Critical, ["public-name", "russian-speaking"]),
            [network.BorisMembership] = (RiskLevel.Low, ["in-country", "printing"]),
            [network.VeraMembership] = (RiskLevel.Low, ["in-country"]),
        };
        List<(Guid Id, RiskLevel Risk, string[] Needs)> tasks = [];
        for (int i = 0; i < 5; i++)
        {
            RiskLevel risk = (RiskLevel)random.Next(4);
            string[] needs = [.. s_tagNames.Where(_ => random.Next(3) == 0)];
            TaskView created = await organizer.CreateAsync(network.CellId, risk, $"task {i}", null, needs, 1 + random.Next(2), null, None).WaitAsync(TestTimeouts.Default);
            tasks.Add((created.TaskId, risk, needs));
        }

        bool Allowed(Guid membership, int task) =>
            model[membership].Ceiling >= tasks[task].Risk && tasks[task].Needs.All(model[membership].Tags.Contains);

        List<string> trace = [];
        int accepted = 0;
        int held = 0;
        for (int step = 0; step < 60; step++)
        {
            int task = random.Next(tasks.Count);
            (Guid id, CellMember member) = members[random.Next(members.Length)];
            int operation = random.Next(5);
            string what = $"step {step}: op {operation} task {task} ({tasks[task].Risk}, needs {string.Join('+', tasks[task].Needs)}) member {model[id].Ceiling}/{string.Join('+', model[id].Tags)}";
            trace.Add(what);
            try
            {
                switch (operation)
                {
                    case 0:
                        await organizer.OfferAsync(tasks[task].Id, id, None).WaitAsync(TestTimeouts.Default);
                        Assert.True(Allowed(id, task), $"seed {seed}: an offer the policy forbids was accepted at {what}");
                        accepted++;
                        break;
                    case 1:
                        await Network.Tasks(member).AcceptAsync(tasks[task].Id, None).WaitAsync(TestTimeouts.Default);
                        Assert.True(Allowed(id, task), $"seed {seed}: an accept the policy forbids was accepted at {what}");
                        accepted++;
                        break;
                    case 2:
                        (Guid toId, _) = members[random.Next(members.Length)];
                        await Network.Tasks(member).HandOverAsync(tasks[task].Id, toId, null, None).WaitAsync(TestTimeouts.Default);
                        Assert.True(Allowed(toId, task), $"seed {seed}: a hand-over the policy forbids was accepted at {what}");
                        accepted++;
                        break;
                    case 3:
                        RiskLevel ceiling = (RiskLevel)random.Next(4);
                        await network.Olga.Cells.SetCeilingAsync(network.CellId, id, ceiling, None).WaitAsync(TestTimeouts.Default);
                        model[id] = (ceiling, model[id].Tags);
                        break;
                    default:
                        HashSet<string> tags = [.. s_tagNames.Where(_ => random.Next(2) == 0)];
                        await organizer.SetTagsAsync(network.CellId, id, tags, None).WaitAsync(TestTimeouts.Default);
                        model[id] = (model[id].Ceiling, tags);
                        break;
                }
            }
            catch (RelayApiException ex) when (ex.Status is HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict or HttpStatusCode.BadRequest)
            {
                // Refused: allowed by the property; what matters is what was accepted and what is stored.
            }

            held += AssertNothingHeldAgainstThePolicy(seed, network.CellId, trace);
        }

        // The walk must have put tasks in someone's hands, or it tested nothing.
        Assert.True(accepted > 0 && held > 0, $"seed {seed}: nothing was ever accepted or held\n{string.Join('\n', trace)}");
    }

    /// <summary>Reads the relay's database: every offered or accepted part must satisfy the policy now; returns how many there are.</summary>
    private int AssertNothingHeldAgainstThePolicy(int seed, Guid cellId, List<string> trace)
    {
        List<object?[]> parts = relay.Query(
            """
            SELECT t.Risk, t.RequiredTags, m.Ceiling, m.Id
            FROM TaskAssignments a
            JOIN Tasks t ON t.Id = a.TaskId
            LEFT JOIN Memberships m ON m.Id = a.MembershipId
            WHERE a.State IN (1, 2) AND t.CellId = $0
            """,
            cellId);
        foreach (object?[] part in parts)
        {
            Assert.False(part[3] is null, $"seed {seed}: a part is held by a membership that no longer exists\n{string.Join('\n', trace)}");
            long risk = Convert.ToInt64(part[0], CultureInfo.InvariantCulture);
            byte[] required = (byte[])part[1]!;
            long ceiling = Convert.ToInt64(part[2], CultureInfo.InvariantCulture);
            Assert.True(ceiling >= risk, $"seed {seed}: a part of risk {risk} is held under ceiling {ceiling}\n{string.Join('\n', trace)}");
            HashSet<string> held = [.. relay.Query("SELECT Tag FROM MembershipTags WHERE MembershipId = $0", part[3]!).Select(r => Convert.ToHexString((byte[])r[0]!))];
            for (int i = 0; i < required.Length; i += 32)
            {
                Assert.True(held.Contains(Convert.ToHexString(required, i, 32)), $"seed {seed}: a part is held without a required tag\n{string.Join('\n', trace)}");
            }
        }

        return parts.Count;
    }
}
