"""The real @sentry/node (tests/e2e/js, installed by scripts/install-test-deps.sh) against a live
LightTrace with a real worker: uncaught exceptions and unhandled rejections of a Node process."""

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
JS = Path(__file__).parent / "js"
APP = JS / "node_app.js"


@pytest.fixture(scope="module")
def node():
    binary = shutil.which("node")
    if binary is None or not (JS / "node_modules" / "@sentry" / "node").is_dir():
        pytest.fail("needs node and tests/e2e/js/node_modules: run scripts/install-test-deps.sh")
    return binary


def run_app(node: str, dsn: str, *args: str, expect_failure: bool = False) -> subprocess.CompletedProcess:
    done = subprocess.run([node, str(APP), dsn, *args], cwd=JS, capture_output=True, text=True, timeout=120)
    assert (done.returncode != 0) == expect_failure, (
        done.returncode,
        done.stdout[-2000:],
        done.stderr[-2000:],
    )
    return done


def _exception(event: dict) -> dict:
    (exc,) = [e for e in event["entries"] if e["type"] == "exception"]
    return exc["data"]["values"][-1]


def test_uncaught_exception_kills_the_process_and_is_reported(live_stack, node):
    dsn = live_stack.create_project("node-uncaught", "node")
    done = run_app(node, dsn, "uncaught", "17", expect_failure=True)
    assert "order 17 has no items" in done.stderr
    (issue,) = live_stack.wait_for_count("node-uncaught", 1)
    assert issue["title"].startswith("TypeError") and issue["count"] == "1"
    assert "order 17 has no items" in issue["title"]
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    exc = _exception(event)
    assert exc["type"] == "TypeError"
    assert exc["mechanism"]["handled"] is False
    assert "onuncaughtexception" in exc["mechanism"]["type"].lower()
    frame = exc["stacktrace"]["frames"][-1]
    assert (frame["function"], frame["inApp"]) == ("processOrder", True)
    assert frame["filename"].endswith("node_app.js")
    assert any("throw new TypeError" in line for _, line in frame["context"]), frame["context"]
    assert {"key": "release", "value": "shop-node@1.0.0"} in event["tags"]
    assert {"key": "environment", "value": "e2e"} in event["tags"]


def test_unhandled_rejection_is_reported(live_stack, node):
    dsn = live_stack.create_project("node-rejection", "node")
    run_app(node, dsn, "rejection", "4242")
    (issue,) = live_stack.wait_for_count("node-rejection", 1)
    assert issue["title"].startswith("Error") and "card 4242 was declined" in issue["title"]
    assert issue["count"] == "1"
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    exc = _exception(event)
    assert exc["mechanism"]["handled"] is False
    assert "onunhandledrejection" in exc["mechanism"]["type"].lower()
    functions = [f["function"] for f in exc["stacktrace"]["frames"]]
    assert functions[-1] == "chargeCard", functions
    assert exc["stacktrace"]["frames"][-1]["inApp"] is True


def test_the_same_crash_in_two_runs_is_one_issue(live_stack, node):
    dsn = live_stack.create_project("node-twice", "node")
    run_app(node, dsn, "uncaught", "1", expect_failure=True)
    run_app(node, dsn, "uncaught", "2", expect_failure=True)
    (issue,) = live_stack.wait_for_count("node-twice", 2)
    assert issue["count"] == "2" and issue["title"].startswith("TypeError")
