using System.Runtime.CompilerServices;

// The record framing is unit-tested on byte arrays.
[assembly: InternalsVisibleTo("Coordination.Client.Tests")]
