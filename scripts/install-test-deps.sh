#!/usr/bin/env bash
# What the test suite needs beyond Python packages: the real JS SDKs (npm) and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    command -v npm >/dev/null 2>&1 || apt-get install -y -qq nodejs npm >/dev/null
    command -v chromium >/dev/null 2>&1 || apt-get install -y -qq chromium >/dev/null
  else
    echo "install-test-deps: need npm and chromium (apt-get install nodejs npm chromium)" >&2
  fi
fi

if [ -f tests/e2e/js/package.json ]; then
  stamp=tests/e2e/js/node_modules/.installed
  if [ ! -f "$stamp" ] || [ tests/e2e/js/package.json -nt "$stamp" ]; then
    (cd tests/e2e/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed)
  fi
fi
