"""With PostgreSQL + Redis, the real Celery worker's main process and Celery beat write the heartbeats
that /_health/ reports."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _parent_and_cmdline(pid: int) -> tuple[int, str]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return int(stat.rsplit(")", 1)[1].split()[1]), cmdline


def test_celery_worker_and_beat_write_heartbeats(live_stack):
    health = live_stack.api("/_health/")  # a 503 would raise
    assert health["worker"] == "ok" and health["scheduler"] == "ok" and health["status"] == "ok"
    first = dict(live_stack.sql("SELECT role, beat_at FROM core_heartbeat WHERE host = %s", (_host(),)))
    rows = live_stack.sql("SELECT role, pid FROM core_heartbeat")
    for role, pid in rows:
        parent, cmdline = _parent_and_cmdline(pid)
        # The processes `serve` started itself (not a pool child, which could live on a hung parent).
        assert parent == live_stack.process.pid, (role, cmdline)
        assert ("beat" if role == "scheduler" else " worker") in cmdline

    def both_beat_again():
        later = dict(live_stack.sql("SELECT role, beat_at FROM core_heartbeat WHERE host = %s", (_host(),)))
        return all(later[role] > first[role] for role in ("worker", "scheduler"))

    # Every HEARTBEAT_SECONDS (5 s); a role that stopped beating fails after 15 s.
    live_stack.wait_for(both_beat_again, 15, "a newer heartbeat of the worker and the scheduler")


def _host() -> str:
    import socket

    return socket.gethostname()
