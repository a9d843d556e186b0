"""The real sentry-sdk (Python) against a live LightTrace with a real worker."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_app.py"


def run_app(dsn: str, *args: str, expect_failure: bool = False) -> None:
    done = subprocess.run([sys.executable, str(APP), dsn, *args], capture_output=True, text=True, timeout=300)
    assert (done.returncode != 0) == expect_failure, done.stderr[-2000:]


def _frames(event: dict, index: int = -1) -> list[dict]:
    (exc,) = [e for e in event["entries"] if e["type"] == "exception"]
    return exc["data"]["values"][index]["stacktrace"]["frames"]


def test_unhandled_exception(live_stack):
    dsn = live_stack.create_project("py-unhandled")
    run_app(dsn, "unhandled", "u-1", expect_failure=True)
    run_app(dsn, "unhandled", "u-2", expect_failure=True)
    (issue,) = live_stack.wait_for_count("py-unhandled", 2)
    assert issue["title"].startswith("KeyError") and issue["count"] == "2" and issue["userCount"] == 2
    assert issue["culprit"].endswith("in load_cart")
    # The worker kept each user's id on its affected-user row: the issue search and the user values find it.
    (found,) = live_stack.issues("py-unhandled", "user.id:u-2")
    assert found["id"] == issue["id"]
    assert live_stack.issues("py-unhandled", "user.id:u-3") == []
    users = live_stack.api(f"/api/0/issues/{issue['id']}/tags/user/values/")
    assert sorted(u["identifier"] for u in users) == ["u-1", "u-2"]
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    frame = _frames(event)[-1]
    assert (frame["function"], frame["inApp"]) == ("load_cart", True)
    assert any("raise KeyError" in line for _, line in frame["context"])
    mechanism = [e for e in event["entries"] if e["type"] == "exception"][0]["data"]["values"][-1][
        "mechanism"
    ]
    assert mechanism["handled"] is False
    assert {"key": "release", "value": "shop@1.0.0"} in event["tags"]


def test_chained_exception(live_stack):
    dsn = live_stack.create_project("py-chained")
    run_app(dsn, "chained")
    (issue,) = live_stack.wait_for_count("py-chained", 1)
    assert issue["title"] == "RuntimeError: checkout failed"
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    (exc,) = [e for e in event["entries"] if e["type"] == "exception"]
    assert [v["type"] for v in exc["data"]["values"]] == ["KeyError", "RuntimeError"]


def test_logged_message_groups_by_template(live_stack):
    dsn = live_stack.create_project("py-logging")
    run_app(dsn, "logged_message", "4711")
    run_app(dsn, "logged_message", "4712")
    (issue,) = live_stack.wait_for_count("py-logging", 2)
    assert issue["count"] == "2" and "Payment failed for user" in issue["title"]


def test_a_thousand_identical_events_make_one_issue(live_stack):
    dsn = live_stack.create_project("py-many")
    run_app(dsn, "many", "1000")
    (issue,) = live_stack.wait_for_count("py-many", 1000, timeout=120)
    assert issue["count"] == "1000"
    events = live_stack.api(f"/api/0/issues/{issue['id']}/events/?limit=100")
    assert len(events) == 100
