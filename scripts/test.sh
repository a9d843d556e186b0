#!/usr/bin/env bash
# The whole suite against real PostgreSQL and Redis (127.0.0.1 unless DATABASE_URL / REDIS_URL say
# otherwise). scripts/test-embedded.sh runs the database suite again on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."

# $$ alone repeats across PID namespaces (containers) sharing one PostgreSQL and Redis: add randomness.
RUN_ID="r$RANDOM$RANDOM-$$"
if [ -z "${DATABASE_URL:-}" ]; then
  for user in postgres root; do
    if psql -h 127.0.0.1 -U "$user" -d postgres -Atc 'select 1' >/dev/null 2>&1; then
      # A name per run, so that two runs on one machine never share a test database.
      export DATABASE_URL="postgres://$user@127.0.0.1:5432/lighttrace_${RUN_ID//-/_}"
      break
    fi
  done
fi
: "${DATABASE_URL:?no PostgreSQL reachable on 127.0.0.1:5432 as postgres or root; set DATABASE_URL}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/15}"
# A run's key prefix must not begin with another run's (the session clean-up deletes by prefix).
export REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-lighttrace-test-$RUN_ID}"
export DATA_DIR="${TEST_DATA_DIR:-$(mktemp -d /tmp/lighttrace-test.XXXXXX)}"
exec .venv/bin/python -m pytest "$@"
