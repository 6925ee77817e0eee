using Coordination.Protocol;
using Coordination.Server.Persistence;

namespace Coordination.Server.Cells;

/// <summary>
/// Features that hold something for a membership (tasks) and must react, inside the same
/// transaction, when the membership's ceiling changes or the membership ends.
/// </summary>
public interface IMembershipObserver
{
    Task CeilingChangedAsync(CoordinationDbContext db, Membership membership, RiskLevel ceiling, CancellationToken ct);

    Task MembershipEndingAsync(CoordinationDbContext db, Membership membership, bool burned, CancellationToken ct);

    /// <summary>After the transaction committed: tell whoever must be told (never before the commit).</summary>
    Task PublishAsync(CancellationToken ct);
}
