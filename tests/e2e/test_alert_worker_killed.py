"""A Celery alert worker killed (SIGKILL) in the middle of sending a mail loses no alert and doubles
none: PostgreSQL + Redis, `manage.py serve` (its supervisor restarts the worker), the real Python SDK,
and a real SMTP server (aiosmtpd) that holds the first DATA unanswered so the kill lands mid-send."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.alert_servers import SmtpServer
from tests.e2e.alert_stack import alert_stack
from tests.e2e.test_python_sdk import run_app

pytestmark = pytest.mark.e2e
LEASE_SECONDS = 8


def alert_worker_pids(session_id: int) -> list[int]:
    """The stack's alert worker (`celery worker --queues alerts`), found in /proc by its session."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"alerts@%h" in argv and os.getsid(int(entry.name)) == session_id:
                found.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return found


def test_a_worker_killed_mid_send_loses_and_doubles_no_alert(tmp_path):
    extra = {"ALERT_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS)}
    with SmtpServer() as smtp, alert_stack("postgres", tmp_path / "data", smtp.port, extra) as (stack, dsn):
        smtp.sink.hold_first = True
        run_app(dsn, "unhandled", "u-1", expect_failure=True)  # a new issue: the default rule mails 2
        assert smtp.sink.holding.wait(60), stack.tail_log()
        (pid,) = alert_worker_pids(stack.process.pid)
        os.kill(pid, signal.SIGKILL)  # the worker is inside the SMTP conversation, waiting for DATA's answer
        killed_at = time.monotonic()
        smtp.sink.release.set()  # nobody is listening on that connection any more

        stack.wait_for(lambda: len(smtp.sink.messages) >= 2, 90, "both mails after the restart")
        waited = time.monotonic() - killed_at
        time.sleep(LEASE_SECONDS + 6)  # another lease and two delivery rounds: nothing more arrives
        assert sorted(str(m["To"]) for m in smtp.sink.messages) == ["alice@example.com", "bob@example.com"]
        rows = stack.sql("SELECT status, attempts FROM alerts_notification ORDER BY attempts")
        # The one cut off was sent again once its lease ran out (attempt 2); the other once.
        assert rows == [("sent", 1), ("sent", 2)]
        assert waited >= LEASE_SECONDS - 1
        assert alert_worker_pids(stack.process.pid) not in ([], [pid])  # the supervisor restarted it
        assert "restarting alerts" in stack.tail_log(200)
