"""Entry point from ingest into alerting: called after a batch is stored.

The rules, email and webhook delivery are the alerts capability (next wave); this is the seam the
ingest pipeline already calls, with the ids of the issues that became new or regressed.
"""

import logging

log = logging.getLogger(__name__)


def issues_changed(project_id: int, new_issue_ids: list[int], regressed_issue_ids: list[int]) -> None:
    if new_issue_ids or regressed_issue_ids:
        log.info(
            "project %s: %d new and %d regressed issues",
            project_id,
            len(new_issue_ids),
            len(regressed_issue_ids),
        )
