"""`make run` on the embedded default (SQLite, no Redis server): bootstrap output, ingest, shutdown."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.e2e.stack import ROOT, LiveStack, base_env, free_port, manage, migrate
from tests.e2e.test_python_sdk import run_app

pytestmark = pytest.mark.e2e


def _read_until_dsn(process: subprocess.Popen, timeout: float = 120) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line.rstrip())
        if line.startswith("DSN of"):
            return lines
    raise AssertionError("make run printed no DSN:\n" + "\n".join(lines))


def test_make_run_embedded_default(tmp_path):
    port = free_port()
    env = base_env(tmp_path / "data", port)
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        output = _read_until_dsn(process)
        assert any(line.startswith(f"LightTrace is at http://127.0.0.1:{port}/login/") for line in output)
        assert any(re.match(r"Admin user: admin\s+password: \S+", line) for line in output)
        dsn = output[-1].split(": ", 1)[1]
        stack = LiveStack(
            url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "smoke")
        )
        stack.wait_for(stack._healthy, timeout=60, what="/_health/")
        health = stack.api("/_health/")
        assert health["database"] == "ok" and health["queue"] == "ok"
        run_app(dsn, "unhandled", "u-1", expect_failure=True)
        (issue,) = _wait_default(stack)
        assert issue["title"].startswith("KeyError") and issue["count"] == "1"
        assert (tmp_path / "data" / "lighttrace.sqlite3").exists()
        _send_uncompressed_secret(stack.url, dsn)
        stack.wait_for(lambda: len(_wait_default(stack)) == 2 or None, timeout=60, what="the second issue")
        # Nothing under DATA_DIR (database, WAL, queue files) may still hold the unscrubbed value.
        leaks = stack.wait_for(
            lambda: not _files_containing(tmp_path / "data", SECRET), 20, "no leftover secret"
        )
        assert leaks
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    # -s (session), not -g: each process of the tree runs in a process group of its own.
    leftovers = subprocess.run(
        ["pgrep", "-s", str(process.pid)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], "processes survived SIGTERM to the group"


SECRET = b"hunter2-embedded-secret"


def _send_uncompressed_secret(base_url: str, dsn: str) -> None:
    key = dsn.split("//", 1)[1].split("@", 1)[0]
    project_id = dsn.rsplit("/", 1)[1]
    event = {"message": "embedded secret test", "extra": {"password": SECRET.decode()}}
    body = b'{}\n{"type":"event"}\n' + json.dumps(event).encode()
    request = urllib.request.Request(
        f"{base_url}/api/{project_id}/envelope/?sentry_key={key}&sentry_version=7", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _files_containing(root, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _wait_default(stack: LiveStack) -> list[dict]:
    return stack.wait_for(
        lambda: stack.api("/api/0/projects/default/default/issues/") or None, timeout=90, what="an issue"
    )


def _post_event(base_url: str, dsn: str, message: str) -> int:
    key = dsn.split("//", 1)[1].split("@", 1)[0]
    project_id = dsn.rsplit("/", 1)[1]
    body = b'{}\n{"type":"event"}\n' + json.dumps({"message": message, "level": "error"}).encode()
    request = urllib.request.Request(
        f"{base_url}/api/{project_id}/envelope/?sentry_key={key}&sentry_version=7", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_what_was_answered_200_while_no_worker_ran_is_stored_at_the_next_start(tmp_path):
    """SIGINT stops the whole tree and leaves the ingest buffer as it was: envelopes answered 200 by a
    web process with no worker behind it are processed once LightTrace starts again."""
    port = free_port()
    env = base_env(tmp_path / "data", port)
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    migrate(env)
    stack = LiveStack(
        url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "restart")
    )
    dsn = stack.create_project("restart")
    web_only = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--only", "web"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        stack.wait_for(lambda: _answers(stack.url + "/login/"), timeout=60, what="the web process")
        statuses = [_post_event(stack.url, dsn, f"waiting {n}") for n in range(5)]
        assert statuses == [200] * 5
        os.killpg(web_only.pid, signal.SIGINT)
        web_only.wait(timeout=10)
    finally:
        if web_only.poll() is None:
            os.killpg(web_only.pid, signal.SIGKILL)
    assert subprocess.run(["pgrep", "-s", str(web_only.pid)], capture_output=True).stdout == b""
    stack.start()
    try:
        issues = stack.wait_for_count("restart", 5, timeout=60)
        assert sum(int(i["count"]) for i in issues) == 5  # one issue: the numbers are parameterized
    finally:
        stack.stop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
