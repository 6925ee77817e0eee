#!/usr/bin/env bash
# Builds the benchmarks in Release and runs them once: throughput and latency of the relay against a
# bare SignalR hub and raw SQLite, on this machine, over loopback; and the relay's fan-out across two
# nodes sharing PostgreSQL, against one node on SQLite; 20 cells at once, a store-and-forward drain, intake
# reports, racing task assignments and idle connections, each against its own baseline (bench/README.md).
# Not part of ./run-tests.sh.
#
#   ./run-benchmarks.sh            # default: about two minutes
#   ./run-benchmarks.sh 5          # 5-second measurements instead of 10 (shorter run, noisier numbers)
#   ./run-benchmarks.sh 10 --only b,c --keep-data   # anything after the duration goes to the benchmark (--help lists it)
#
# Prints a table and writes bench/results/latest.json and bench/results/latest.svg.
#
# Scenario (d) (selected by default, or by --only with d) needs PostgreSQL: this script starts a
# throwaway instance (scripts/postgres-instance.sh; Debian's postgresql, installed with apt-get when
# missing), the benchmark creates a fresh database in it, and the instance is stopped and removed on
# every way out. When PostgreSQL cannot be had, (d) is skipped and the rest runs. To use a server of
# your own instead, set COORDINATION_BENCH_POSTGRES to an Npgsql connection string to its maintenance
# database with a role that may CREATE DATABASE; nothing is then started or stopped.
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

# Does this run include (d)? Every scenario runs unless --only (the last one given) leaves d out.
wants_postgres=1
previous=""
for arg in "$@"; do
  if [ "$previous" = "--only" ]; then
    case ",${arg// /}," in
      *,d,*) wants_postgres=1 ;;
      *) wants_postgres=0 ;;
    esac
  fi
  case "$arg" in
    -h | --help) wants_postgres=0 ;;
  esac
  previous="$arg"
done

dotnet build bench/Coordination.Benchmarks/Coordination.Benchmarks.csproj -c Release --nologo -v quiet

# Scenario (i) holds thousands of idle connections: raise the open-file limit as far as allowed
# (the benchmark caps the connections it opens at what the limit leaves room for, and says so).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The instance this script started (and only that one) is stopped on every way out.
postgres_instance="$PWD/scripts/postgres-instance.sh"
postgres_dir=""
stop_postgres() {
  if [ -n "$postgres_dir" ]; then
    "$postgres_instance" stop "$postgres_dir" || true
    postgres_dir=""
  fi
}

if [ "$wants_postgres" = "1" ]; then
  if [ -n "${COORDINATION_BENCH_POSTGRES:-}" ]; then
    echo "Scenario (d) runs on the PostgreSQL server named by COORDINATION_BENCH_POSTGRES." >&2
  else
    trap stop_postgres EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    echo "Starting a throwaway PostgreSQL instance for scenario (d)..." >&2
    # In a subshell: start stops the script it runs in when PostgreSQL is missing and cannot be installed.
    if postgres_env="$("$postgres_instance" start)"; then
      postgres_dir="$(eval "$postgres_env" && printf '%s' "$COORDINATION_TEST_POSTGRES_DIR")"
      COORDINATION_BENCH_POSTGRES="$(eval "$postgres_env" && printf '%s' "$COORDINATION_TEST_POSTGRES")"
      export COORDINATION_BENCH_POSTGRES
    else
      echo "warning: PostgreSQL is not available here (see above): scenario (d), two relay nodes on PostgreSQL, is skipped." >&2
    fi
  fi
fi

set +e
dotnet bench/Coordination.Benchmarks/bin/Release/net10.0/Coordination.Benchmarks.dll --output bench/results ${args[@]+"${args[@]}"} "$@"
status=$?
set -e
stop_postgres
exit "$status"
