"""User feedback from the real @sentry/node `captureFeedback()` (tests/e2e/js/node_feedback.js)
and through Sentry's legacy submit endpoint with DSN authentication, against a live LightTrace with
a real worker."""

import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from tests.e2e.test_node_sdk import JS, node  # noqa: F401  (the fixture)

pytestmark = pytest.mark.e2e


def _reports(live_stack, slug: str, status: str = "") -> list[dict]:
    return live_stack.api(f"/api/0/projects/e2e/{slug}/user-feedback/?status={status}")


def test_node_capture_feedback_is_stored_linked_and_scrubbed(live_stack, node):  # noqa: F811
    dsn = live_stack.create_project("node-feedback", "node")
    done = subprocess.run(
        [node, str(JS / "node_feedback.js"), dsn], cwd=JS, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SENTRY_DEBUG": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    error_id, standalone_id = done.stdout.split()[-2:]
    (report,) = live_stack.wait_for(lambda: _reports(live_stack, "node-feedback"), what="the user report")
    assert report["eventID"] == error_id.replace("-", "")
    assert (report["name"], report["email"]) == ("Jane", "jane@example.com")
    assert report["comments"].startswith("The page froze after I clicked Pay. <script>")
    assert "hunter2" not in report["comments"]  # the project's scrubber ran on it
    issue = report["issue"]
    assert issue["userReportCount"] == 1 and issue["title"].startswith("Error: checkout page crashed")
    event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
    assert event["userReport"]["comments"] == report["comments"]
    # Feedback about no error: stored with its own id and no issue, so only on the project's page.
    ids = live_stack.wait_for(
        lambda: {r[0] for r in live_stack.sql("SELECT event_id FROM feedback_userreport")} >= {standalone_id},
        what="the standalone feedback",
    )
    assert ids
    (row,) = live_stack.sql(
        "SELECT issue_id, comments FROM feedback_userreport WHERE event_id = %s", (standalone_id,)
    )
    assert row == (None, "Love the new checkout")


def test_legacy_submit_endpoint_with_the_dsn(live_stack):
    dsn = live_stack.create_project("dsn-feedback", "python")
    event_id = uuid.uuid4().hex
    body = {"event_id": event_id, "name": "Jane", "email": "jane@example.com", "comments": "It broke."}
    request = urllib.request.Request(
        f"{live_stack.url}/api/0/projects/e2e/dsn-feedback/user-feedback/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"DSN {dsn}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    reading = urllib.request.Request(request.full_url, headers={"Authorization": f"DSN {dsn}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(reading, timeout=10)
    assert refused.value.code == 401
    ((stored,),) = live_stack.sql("SELECT comments FROM feedback_userreport WHERE event_id = %s", (event_id,))
    assert stored == "It broke."
