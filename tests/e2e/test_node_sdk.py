"""The real @sentry/node (tests/e2e/js, installed by scripts/install-test-deps.sh) against a live
LightTrace with a real worker: uncaught exceptions and unhandled rejections of a Node process."""

import os
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


class NodeApp:
    """Runs node_app.js with the SDK's debug log on, and keeps what it printed for failure messages."""

    def __init__(self, node: str, live_stack):
        self.node, self.live_stack = node, live_stack
        self.output: list[str] = []

    def run(self, dsn: str, *args: str, expect_failure: bool = False) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [self.node, str(APP), dsn, *args], cwd=JS, capture_output=True, text=True, timeout=120,
            env={**os.environ, "SENTRY_DEBUG": "1"},
        )  # fmt: skip
        self.output.append(
            f"$ node_app.js {' '.join(args)} -> {done.returncode}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        assert (done.returncode != 0) == expect_failure, self.output[-1]
        return done

    def wait_for_count(self, slug: str, total: int) -> list[dict]:
        try:
            return self.live_stack.wait_for_count(slug, total)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- node output ---\n" + "\n".join(self.output)) from None


@pytest.fixture
def app(node, live_stack):
    return NodeApp(node, live_stack)


def _exception(event: dict) -> dict:
    (exc,) = [e for e in event["entries"] if e["type"] == "exception"]
    return exc["data"]["values"][-1]


def test_uncaught_exception_kills_the_process_and_is_reported(live_stack, app):
    dsn = live_stack.create_project("node-uncaught", "node")
    done = app.run(dsn, "uncaught", "17", expect_failure=True)
    assert "order 17 has no items" in done.stderr
    (issue,) = app.wait_for_count("node-uncaught", 1)
    assert issue["title"].startswith("TypeError") and "order 17 has no items" in issue["title"]
    assert issue["count"] == "1"
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


def test_unhandled_rejection_is_reported(live_stack, app):
    dsn = live_stack.create_project("node-rejection", "node")
    app.run(dsn, "rejection", "4242")
    (issue,) = app.wait_for_count("node-rejection", 1)
    assert issue["title"].startswith("Error") and "card 4242 was declined" in issue["title"]
    assert issue["count"] == "1"
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    exc = _exception(event)
    assert exc["mechanism"]["handled"] is False
    assert "onunhandledrejection" in exc["mechanism"]["type"].lower()
    frames = exc["stacktrace"]["frames"]
    assert (frames[-1]["function"], frames[-1]["inApp"]) == ("chargeCard", True), frames[-1]


def test_the_same_crash_in_two_runs_is_one_issue(live_stack, app):
    dsn = live_stack.create_project("node-twice", "node")
    app.run(dsn, "uncaught", "1", expect_failure=True)
    app.run(dsn, "uncaught", "2", expect_failure=True)
    (issue,) = app.wait_for_count("node-twice", 2)
    assert issue["count"] == "2" and issue["title"].startswith("TypeError")
