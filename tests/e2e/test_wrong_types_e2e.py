"""The real sentry-sdk (Python): an event with a value of the wrong type is stored, not refused."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_wrong_types.py"


def test_a_string_user_set_by_before_send_is_dropped_and_the_event_kept(live_stack):
    dsn = live_stack.create_project("py-wrong-types")
    done = subprocess.run([sys.executable, str(APP), dsn], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (issue,) = live_stack.wait_for_count("py-wrong-types", 1)
    assert issue["title"] == "KeyError: 'sku'"
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    assert event["errors"] == [
        {"type": "invalid_data", "message": "invalid value", "data": {"name": "user", "value": "bob"}}
    ]
    assert event["_meta"]["user"] == {"": {"err": ["invalid_data"], "val": "bob"}}
    assert event["user"] is None
    assert {"key": "release", "value": "shop@1.0.0"} in event["tags"]
