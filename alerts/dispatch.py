"""Entry points from ingest into alerting, around each batch's transaction.

* record_batch() runs inside the batch's transaction: it writes the trigger facts (new issues,
  regressions, issues that got events when a rule counts them) to the alert outbox, so they commit
  with the events or not at all.
* batch_committed() runs after the commit: it asks for the alert task at once (core.dispatch, so the
  embedded runner runs it too). A lost request costs latency only: the scheduler runs it every few
  seconds as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.dispatch import send_task

from .outbox import record_alert_facts

if TYPE_CHECKING:
    from issues.store import StoreResult

PROCESS_OUTBOX_TASK = "alerts.tasks.process_alert_outbox"


def record_batch(project_id: int, result: StoreResult) -> int:
    return record_alert_facts(project_id, result)


def batch_committed(outbox_rows: int) -> None:
    if outbox_rows:
        send_task(PROCESS_OUTBOX_TASK)
