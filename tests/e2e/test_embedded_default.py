"""`make run` on the embedded default (SQLite, no Redis server): bootstrap output, ingest, shutdown."""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.e2e.stack import ROOT, LiveStack, base_env, free_port, manage
from tests.e2e.test_python_sdk import run_app

pytestmark = pytest.mark.e2e


def _read_until_dsn(process: subprocess.Popen, timeout: float = 120) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
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
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    leftovers = subprocess.run(
        ["pgrep", "-g", str(process.pid)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], "processes survived SIGTERM to the group"


def _wait_default(stack: LiveStack) -> list[dict]:
    return stack.wait_for(
        lambda: stack.api("/api/0/projects/default/default/issues/") or None, timeout=90, what="an issue"
    )
