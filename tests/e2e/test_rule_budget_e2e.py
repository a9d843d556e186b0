"""One tenant's grouping rules cannot stall another tenant's events on the real worker.

The embedded default's runner drains the buffer in one thread, so an event that pins it delays every
organization. Here an owner has saved 64 KiB of allowed but slow fingerprint rules (about 40 s of
CPU per event of random a/b text without the budget); three such events arrive, then a second
organization's real sentry-sdk events. Those must be stored, grouped by their own rule, within
seconds; the slow project's events are stored too, and its rules are suspended."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from tests.e2e.stack import LiveStack, base_env, free_port, manage, migrate
from tests.grouping.test_rule_budget import slow_rules

pytestmark = pytest.mark.e2e

APP = """
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1])


class DatabaseUnavailable(Exception):
    pass


def connect():
    raise DatabaseUnavailable("db down")


def query():
    raise DatabaseUnavailable("db down")


for step in (connect, query):
    try:
        step()
    except DatabaseUnavailable:
        sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=30)
"""


def _post_raw(base_url: str, dsn: str, event: dict) -> int:
    key = dsn.split("//", 1)[1].split("@", 1)[0]
    project_id = dsn.rsplit("/", 1)[1]
    body = b'{}\n{"type":"event"}\n' + json.dumps(event).encode()
    request = urllib.request.Request(
        f"{base_url}/api/{project_id}/envelope/?sentry_key={key}&sentry_version=7", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _count(stack: LiveStack, org: str, slug: str) -> int:
    return sum(int(i["count"]) for i in stack.issues(slug, org=org))


def test_slow_rules_of_one_tenant_do_not_delay_another(tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    env = base_env(data_dir, port)
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    migrate(env)
    stack = LiveStack(
        url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "budget")
    )
    slow_dsn = stack.create_project("slow", org="tenant-a")
    other_dsn = stack.create_project("other", org="tenant-b")
    with sqlite3.connect(data_dir / "lighttrace.sqlite3") as db:
        rules = slow_rules('message:"{glob}" -> hang{n}')
        db.execute("UPDATE projects_project SET fingerprint_rules = ? WHERE slug = 'slow'", (rules,))
        db.execute(
            "UPDATE projects_project SET fingerprint_rules = ? WHERE slug = 'other'",
            ("error.type:DatabaseUnavailable -> system-down",),
        )
    stack.start()
    try:
        rng = random.Random(14)
        for _ in range(3):
            message = "".join(rng.choice("ab") for _ in range(8192))
            assert _post_raw(stack.url, slow_dsn, {"message": message, "level": "error"}) == 200
        app = tmp_path / "app.py"
        app.write_text(textwrap.dedent(APP))
        sent = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(app), other_dsn], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        stack.wait_for(lambda: _count(stack, "tenant-b", "other") == 2, 60, "the other tenant's events")
        waited = time.monotonic() - sent
        stack.wait_for(lambda: _count(stack, "tenant-a", "slow") == 3, 60, "the slow tenant's events")
        (issue,) = stack.issues("other", org="tenant-b")  # one issue: its rule still applies
        print(f"the other tenant's 2 events were stored {waited:.1f} s after the SDK started sending")
        # Without the budget the runner would still be on the first slow event (about 40 s each).
        assert waited < 20, waited
        with sqlite3.connect(data_dir / "lighttrace.sqlite3") as db:
            (flag,) = db.execute(
                "SELECT rules_suspended_event_id FROM projects_project WHERE slug = 'slow'"
            ).fetchone()
        assert len(flag) == 32
    finally:
        stack.stop()
