namespace Coordination.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args) => CoordCli.InvokeAsync(args);
}
