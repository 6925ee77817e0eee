using System.CommandLine;
using Coordination.Cli.Commands;

namespace Coordination.Cli;

/// <summary>A group of commands under one name (<c>identity</c>, <c>device</c>, <c>send</c> and <c>read</c>, ...).</summary>
public interface ICommandGroup
{
    /// <summary>Builds the group's command(s); actions run through <paramref name="context"/>.</summary>
    IEnumerable<Command> Build(CliContext context);
}

/// <summary>
/// Assembles the <c>coord</c> command tree: the global options plus every registered
/// <see cref="ICommandGroup"/>. New command groups are added with <see cref="Add"/>, or to
/// <see cref="CreateDefault"/>.
/// </summary>
public sealed class RootCommandBuilder
{
    private readonly List<ICommandGroup> _groups = [];

    /// <summary>The commands <c>coord</c> ships with.</summary>
    public static RootCommandBuilder CreateDefault() => new RootCommandBuilder()
        .Add(new IdentityCommands())
        .Add(new DeviceCommands())
        .Add(new MessagingCommands())
        .Add(new CellCommands())
        .Add(new GroupCommands())
        .Add(new EventCommands())
        .Add(new TaskCommands())
        .Add(new IntakeCommands());

    public RootCommandBuilder Add(ICommandGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        _groups.Add(group);
        return this;
    }

    public RootCommand Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RootCommand root = new("coord: the Coordination client. End-to-end encrypted; the relay sees only ciphertext.");
        foreach (Option option in context.Globals.All)
        {
            root.Options.Add(option);
        }

        foreach (ICommandGroup group in _groups)
        {
            foreach (Command command in group.Build(context))
            {
                root.Subcommands.Add(command);
            }
        }

        return root;
    }
}
