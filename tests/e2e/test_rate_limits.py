"""The real Python SDK against a quota: 429, SDK-side backoff, and its client report recorded."""

import pytest

from tests.e2e.test_python_sdk import run_app

pytestmark = pytest.mark.e2e


def test_python_sdk_backs_off_after_429_and_reports_it(live_stack):
    dsn = live_stack.create_project("py-quota", org="e2e-quota")
    live_stack.sql("UPDATE projects_organization SET monthly_event_quota = 2 WHERE slug = 'e2e-quota'")
    run_app(dsn, "rate_limited", "6")
    issues = live_stack.wait_for(
        lambda: live_stack.issues("py-quota", org="e2e-quota") or None, timeout=60, what="the issue"
    )
    # Two events within the quota; the third got 429; the SDK then dropped the last three itself.
    assert issues[0]["count"] == "2"

    def client_discards():
        rows = live_stack.sql(
            "SELECT reason, SUM(quantity) FROM usage_outcome o JOIN projects_organization g "
            "ON g.id = o.organization_id WHERE g.slug = 'e2e-quota' AND outcome = 'client_discard' "
            "GROUP BY reason"
        )
        return dict(rows).get("ratelimit_backoff")

    # The SDK may report its discards over more than one client report: wait for all three.
    live_stack.wait_for(lambda: (client_discards() or 0) >= 3, timeout=60, what="the SDK's client reports")
    assert client_discards() == 3

    def rate_limited():
        rows = live_stack.sql(
            "SELECT SUM(quantity) FROM usage_outcome o JOIN projects_organization g ON g.id = o.organization_id "
            "WHERE g.slug = 'e2e-quota' AND outcome = 'rate_limited'"
        )
        return rows[0][0]

    assert live_stack.wait_for(rate_limited, timeout=60, what="the rate-limited outcome") == 1
