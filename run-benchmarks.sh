#!/usr/bin/env bash
# Builds the benchmarks in Release and runs them once: throughput and latency of the relay against a
# bare SignalR hub and raw SQLite, on this machine, over loopback. Not part of ./run-tests.sh.
#
#   ./run-benchmarks.sh            # default: about 100 s
#   ./run-benchmarks.sh 5          # 5-second measurements instead of 10 (shorter run, noisier numbers)
#   ./run-benchmarks.sh 10 --only b,c --keep-data   # anything after the duration goes to the benchmark (--help lists it)
#
# Prints a table and writes bench/results/latest.json and bench/results/latest.svg.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

require_dotnet
require_libsodium

args=()
if [ "$#" -gt 0 ] && [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  args+=(--seconds "$1")
  shift
fi

dotnet build bench/Coordination.Benchmarks/Coordination.Benchmarks.csproj -c Release --nologo -v quiet
exec dotnet bench/Coordination.Benchmarks/bin/Release/net10.0/Coordination.Benchmarks.dll --output bench/results ${args[@]+"${args[@]}"} "$@"
