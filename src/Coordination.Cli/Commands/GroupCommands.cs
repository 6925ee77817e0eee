using System.CommandLine;

namespace Coordination.Cli.Commands;

/// <summary>
/// <c>coord group create | list | join | leave | invite | show | members</c>: GRAS groups, open
/// discussion groups (a reading club, a film screening) that may end on a date, after which the
/// relay deletes them with their messages. They share the cells' signed membership log, and so
/// their commands (built by <see cref="CellCommands"/>).
/// </summary>
public sealed class GroupCommands : ICommandGroup
{
    public IEnumerable<Command> Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        CellKind group = CellKind.Group;
        yield return CellCommands.Parent("group", "GRAS groups: discussion groups across cells that may end on a date, with the same signed membership as cells.",
            CellCommands.Create(context, group), CellCommands.List(context, group), CellCommands.Join(context, group), CellCommands.Leave(context, group),
            CellCommands.Invite(context, group), CellCommands.Show(context, group), CellCommands.Members(context, group));
    }
}
