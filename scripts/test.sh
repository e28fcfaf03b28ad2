#!/usr/bin/env bash
# Runs every Go test with -race on both stores, then prints a short summary.
# With CI=true a skipped test fails the run: in CI nothing may skip.
set -uo pipefail
cd "$(dirname "$0")/.."

export YANIT_TEST_DATABASE_URL="${YANIT_TEST_DATABASE_URL:-postgres://yanit@127.0.0.1:5432/yanit_test?sslmode=disable}"
# The public benchmark datasets live outside the repository (never copied in):
# beside the checkout in development, in the workplace's shared folder otherwise.
if [ -z "${YANIT_DATASETS:-}" ]; then
  for d in "$PWD/../shared/datasets" /work/shared/datasets; do
    if [ -d "$d" ]; then export YANIT_DATASETS=$(cd "$d" && pwd); break; fi
  done
fi
echo "test: datasets: ${YANIT_DATASETS:-not found (dataset tests skip, or fail under CI=true)}"
log=$(mktemp -t yanit-test.XXXXXX)
trap 'rm -f "$log"' EXIT
start=$(date +%s)

echo "test: go vet ./..."
go vet ./... || { echo "test: FAILED: go vet"; exit 1; }

echo "test: go test -race -count=1 ./... (log: $log)"
go test -race -count=1 -timeout 20m -v ./... >"$log" 2>&1
status=$?

# Package results, failures in full, then counts.
grep -E '^(ok|FAIL|---|panic:|\?)' "$log" | grep -vE '^(--- PASS|--- SKIP)' | grep -vE '^\?.*no test files' || true
if [ $status -ne 0 ]; then
  echo; echo "test: failing output:"
  grep -nE -B2 -A20 '^\s*--- FAIL|^panic:|\[build failed\]|^FAIL\s' "$log" | head -400
fi
pass=$(grep -cE '^\s*--- PASS' "$log")
fail=$(grep -cE '^\s*--- FAIL' "$log")
skip=$(grep -cE '^\s*--- SKIP' "$log")
echo
echo "test: conformance suite (store/storetest) per store:"
for store in sqlite postgres; do
  ok=$(grep -cE "^\s*--- PASS: TestConformance/$store/" "$log")
  bad=$(grep -cE "^\s*--- FAIL: TestConformance/$store/" "$log")
  echo "  $store: $ok subtests passed, $bad failed"
done
if [ "$skip" -gt 0 ]; then
  echo; echo "test: skipped:"; grep -E -A1 '^\s*--- SKIP' "$log" | head -40
fi
echo
echo "test: $pass passed, $fail failed, $skip skipped in $(( $(date +%s) - start ))s"
if [ $status -ne 0 ]; then echo "test: FAILED"; exit $status; fi
if [ "${CI:-}" = "true" ] && [ "$skip" -gt 0 ]; then
  echo "test: FAILED: $skip tests skipped; in CI nothing may skip"; exit 1
fi
echo "test: OK"
