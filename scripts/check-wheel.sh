#!/usr/bin/env bash
# CI: what a user installs is what runs. Builds the wheel from the checkout's files, installs it into
# a fresh venv outside the checkout and, from an empty folder that is not the repository, runs
# `lighttrace check`, `migrate` and a short `serve` on the embedded default: /_health/, the login
# page, the admin CSS and the favicon must answer, SIGTERM must stop every process, and nothing may
# be written outside DATA_DIR.
# A package, template or data file left out of the wheel fails here.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
work="$(mktemp -d /tmp/lighttrace-wheel.XXXXXX)"
serve_pid=""
tree=""  # serve and every process under it, seen while it ran
cleanup() {
  if [ -n "$serve_pid" ]; then kill -KILL -- "-$serve_pid" $tree 2>/dev/null || true; fi
  rm -rf "$work"
}
descendants() { local child; for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done; }
trap cleanup EXIT
fail() { echo "check-wheel: FAILED: $*" >&2; [ -f "$work/serve.log" ] && tail -n 40 "$work/serve.log" >&2; exit 1; }

# The files a clean clone has (tracked, plus new files not ignored), so no build/ or .venv leaks in.
mkdir "$work/src" "$work/run" "$work/data"
git -C "$repo" ls-files -z --cached --others --exclude-standard \
  | (cd "$repo" && xargs -0 tar -cf - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$work/src"
"$repo/.venv/bin/pip" wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/src" >/dev/null
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$work"/dist/lighttrace-*.whl

cd "$work/run"  # an empty folder: nothing may be imported from (or written to) the checkout
unset DATABASE_URL REDIS_URL PYTHONPATH DJANGO_SETTINGS_MODULE
export DATA_DIR="$work/data" HOST=127.0.0.1
PORT="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PORT LIGHTTRACE_URL="http://127.0.0.1:$PORT"
lighttrace="$work/venv/bin/lighttrace"

where="$("$work/venv/bin/python" -c 'import config; print(config.__file__)')"
case "$where" in "$work/venv/"*) ;; *) fail "config imported from $where, not from the installed wheel" ;; esac

"$lighttrace" check --fail-level WARNING
"$lighttrace" migrate --noinput >/dev/null

setsid "$lighttrace" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
url="http://127.0.0.1:$PORT"
for _ in $(seq 60); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/_health/")" = 200 ] && break
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited before /_health/ answered"
  sleep 1
done
curl -sf "$url/_health/" >/dev/null || fail "/_health/ did not answer 200 within 60 s"
curl -sf "$url/login/" | grep -q '<form' || fail "the login page did not render (templates missing?)"
# Static files come from the installed packages through whitenoise, as in the Docker image.
curl -sf "$url/static/admin/css/base.css" | grep -q 'body' || fail "the admin's CSS is not served"
curl -sf "$url/favicon.ico" -L | grep -q '<svg' || fail "the favicon is not served (package data missing?)"
tree="$serve_pid $(descendants "$serve_pid" | tr '\n' ' ')"

kill -TERM "$serve_pid"
for _ in $(seq 15); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 1; done
kill -0 "$serve_pid" 2>/dev/null && fail "serve still running 15 s after SIGTERM"
wait "$serve_pid" || true
left="$(pgrep -g "$serve_pid"; for pid in $tree; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done; true)"
[ -z "$left" ] || fail "processes left after SIGTERM to serve: $left"
curl -s -o /dev/null "$url/_health/" && fail "port $PORT still answers after SIGTERM"
written="$(ls -A "$work/run")"
[ -z "$written" ] || fail "files written outside DATA_DIR, in the working folder: $written"
echo "check-wheel: $(basename "$work"/dist/*.whl) installed outside the checkout: check, migrate, serve (health, login page, static files, SIGTERM) ok"
