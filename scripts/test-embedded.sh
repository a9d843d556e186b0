#!/usr/bin/env bash
# The database suite on the embedded default: SQLite in a fresh DATA_DIR, no Redis. Tests marked
# `redis` need the Redis server and those marked `postgresql` PostgreSQL itself: they are left out; the pure suites (tests/protocol, tests/grouping)
# and the live stacks (tests/e2e) do not depend on the database and run once, in scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

unset DATABASE_URL REDIS_URL
# In memory where the machine has a tmpfs: the same SQLite file and WAL, without waiting on the disk.
export DATA_DIR="$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )/lighttrace-test-embedded.XXXXXX")"
trap 'rm -rf "$DATA_DIR"' EXIT
.venv/bin/python -m pytest -m "not redis and not postgresql" --ignore=tests/e2e --ignore=tests/protocol --ignore=tests/grouping "$@"
