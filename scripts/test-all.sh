#!/usr/bin/env bash
# CI's test run (`make test` after the static checks): the installed wheel, the database suite on the
# embedded default, then the whole suite on PostgreSQL + Redis. The unattended test spends minutes
# waiting on an idle server, so it runs beside the rest instead of after it; its output is printed at
# the end, followed by the whole suite's summary line again.
set -uo pipefail
cd "$(dirname "$0")/.."

unattended_log=$(mktemp /tmp/lighttrace-unattended.XXXXXX)
main_log=$(mktemp /tmp/lighttrace-suite.XXXXXX)
trap 'rm -f "$unattended_log" "$main_log"' EXIT
./scripts/test.sh -q tests/e2e/test_unattended.py >"$unattended_log" 2>&1 &
unattended_pid=$!

status=0
./scripts/check-wheel.sh || status=1
./scripts/test-embedded.sh -q || status=1
./scripts/test.sh --ignore=tests/e2e/test_unattended.py "$@" 2>&1 | tee "$main_log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

wait "$unattended_pid" || status=1
echo "--- tests/e2e/test_unattended.py (ran beside the rest) ---"
cat "$unattended_log"
echo "--- the whole suite ---"
tail -n 1 "$main_log"
exit "$status"
