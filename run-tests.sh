#!/usr/bin/env bash
# Sets up and runs every test. The last line is the totals: "N passed, N failed[, N skipped]".
#
# Two passes: every test project with SQLite, then the integration projects again against a
# throwaway PostgreSQL instance (scripts/postgres-instance.sh: Debian's postgresql, installed with
# apt-get when missing, its own data directory in a temporary directory, 127.0.0.1 only, stopped
# and removed at the end whatever happens). The totals count both passes.
#
# COORDINATION_TEST_PROVIDERS: "sqlite,postgres" (the default) runs both passes; "sqlite" skips
# the PostgreSQL pass.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

providers="${COORDINATION_TEST_PROVIDERS:-sqlite,postgres}"
case "$providers" in
  sqlite) run_postgres=0 ;;
  sqlite,postgres | postgres,sqlite) run_postgres=1 ;;
  *) die "COORDINATION_TEST_PROVIDERS must be \"sqlite,postgres\" (the default) or \"sqlite\" (got \"$providers\")." ;;
esac

# The projects that run a second time against PostgreSQL.
postgres_test_projects=(
  tests/Coordination.Server.Tests/Coordination.Server.Tests.csproj
)

require_dotnet
require_libsodium
require_node_modules
require_intake_page_modules
require_chromium
if [ "$run_postgres" = "1" ]; then
  require_postgres
fi

results="$PWD/.test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build Coordination.sln -c Release --nologo -v quiet

set +e
dotnet test Coordination.sln -c Release --no-build --nologo \
  --results-directory "$results" \
  --logger "trx" \
  --logger "console;verbosity=normal" \
  -- RunConfiguration.TestSessionTimeout=3600000
status=$?
set -e

postgres_instance="$PWD/scripts/postgres-instance.sh"
postgres_dir=""
stop_postgres() {
  if [ -n "$postgres_dir" ]; then
    "$postgres_instance" stop "$postgres_dir" || true
    postgres_dir=""
  fi
}

postgres_status=0
if [ "$run_postgres" = "1" ]; then
  # Stop the instance on every way out: the end of the pass, a failure, Ctrl-C.
  trap stop_postgres EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP

  if postgres_env="$("$postgres_instance" start)"; then
    eval "$postgres_env"
    postgres_dir="$COORDINATION_TEST_POSTGRES_DIR"
    mkdir -p "$results/postgres"
    for project in "${postgres_test_projects[@]}"; do
      echo "Running $project against PostgreSQL (127.0.0.1:$COORDINATION_TEST_POSTGRES_PORT)..." >&2
      set +e
      dotnet test "$project" -c Release --no-build --nologo \
        --results-directory "$results/postgres" \
        --logger "trx" \
        --logger "console;verbosity=normal" \
        -- RunConfiguration.TestSessionTimeout=3600000
      project_status=$?
      set -e
      [ "$project_status" -eq 0 ] || postgres_status=1
    done
  else
    echo "error: the PostgreSQL test instance did not start; the PostgreSQL pass did not run." >&2
    postgres_status=1
  fi
  # Stopped here rather than in the trap, so that the totals stay the last line.
  stop_postgres
fi

set +e
scripts/test-totals.sh "$results"
totals_status=$?
set -e
if [ "$status" -ne 0 ] || [ "$postgres_status" -ne 0 ] || [ "$totals_status" -ne 0 ]; then
  exit 1
fi
