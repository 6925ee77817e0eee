#!/usr/bin/env bash
# Sums the counters of every .trx file under $1 and prints "N passed, N failed[, N skipped]".
# Exits 1 when a test failed, when no test ran, or when no result file was written.
set -euo pipefail
dir="${1:?usage: test-totals.sh RESULTS_DIR}"

total=0 passed=0 failed=0 files=0
while IFS= read -r -d '' trx; do
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
  attr() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  t="$(attr total)"; p="$(attr passed)"; f="$(attr failed)"
  e="$(attr error)"; to="$(attr timeout)"; ab="$(attr aborted)"
  total=$((total + ${t:-0}))
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${to:-0} + ${ab:-0}))
done < <(find "$dir" -name '*.trx' -print0)

skipped=$((total - passed - failed))
ok=1
[ "$files" -gt 0 ] || { echo "error: no test results were written" >&2; ok=0; }
[ "$total" -gt 0 ] || { echo "error: no test ran" >&2; ok=0; }
[ "$failed" -eq 0 ] || ok=0

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$ok" = "1" ]
