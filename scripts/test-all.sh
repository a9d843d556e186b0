#!/usr/bin/env bash
# CI's test run (`make test` after the static checks): the installed wheel, the database suite on the
# embedded default, and the whole suite on PostgreSQL + Redis, in three lanes side by side (each run
# has its own database, Redis key prefix and DATA_DIR, see scripts/test.sh and test-embedded.sh):
#   1. the PostgreSQL + Redis suite without tests/e2e (busy on the CPU all along);
#   2. the end-to-end tests on PostgreSQL + Redis (mostly waiting on live stacks), then the
#      embedded-default suite;
#   3. the unattended test (minutes of an idle server under light load), then the wheel check.
# Lane 1's output is shown as it comes; the other lanes' at the end, then every summary line again.
# Arguments go to both PostgreSQL + Redis runs (lanes 1 and 2).
set -uo pipefail
cd "$(dirname "$0")/.."

logs=$(mktemp -d /tmp/lighttrace-test-all.XXXXXX)
trap 'rm -rf "$logs"' EXIT

(
  status=0
  ./scripts/test.sh -q tests/e2e/test_unattended.py || status=1
  ./scripts/check-wheel.sh || status=1
  exit "$status"
) >"$logs/lane3" 2>&1 &
lane3=$!
(
  status=0
  ./scripts/test.sh tests/e2e --ignore=tests/e2e/test_unattended.py "$@" || status=1
  ./scripts/test-embedded.sh -q || status=1
  exit "$status"
) >"$logs/lane2" 2>&1 &
lane2=$!

status=0
./scripts/test.sh --ignore=tests/e2e "$@" 2>&1 | tee "$logs/lane1"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
wait "$lane2" || status=1
wait "$lane3" || status=1

echo "--- end-to-end tests on PostgreSQL + Redis, then the embedded-default suite (ran beside) ---"
cat "$logs/lane2"
echo "--- tests/e2e/test_unattended.py, then the wheel check (ran beside) ---"
cat "$logs/lane3"
echo "--- summaries: PostgreSQL + Redis without e2e; e2e; embedded default; unattended ---"
# pytest's summary lines ("N passed ... in S s" or "... failed ..."), in the order of the lanes.
grep -hE '^=*.* (passed|failed|error|errors|no tests ran)\b.* in [0-9.]+s' "$logs/lane1" "$logs/lane2" "$logs/lane3"
[ "$status" = 0 ] && echo "test-all: every lane passed" || echo "test-all: FAILED (see above)"
exit "$status"
