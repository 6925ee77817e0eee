#!/usr/bin/env bash
# Sets up and runs every test. The last line is the totals: "N passed, N failed[, N skipped]".
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

require_dotnet
require_libsodium
require_node_modules
require_intake_page_modules
require_chromium

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

set +e
scripts/test-totals.sh "$results"
totals_status=$?
set -e
if [ "$status" -ne 0 ] || [ "$totals_status" -ne 0 ]; then
  exit 1
fi
