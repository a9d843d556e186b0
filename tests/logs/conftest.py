"""Log tests read the captured SDK requests of 2026-11-24: their records must not be past retention."""

from datetime import UTC, datetime

import pytest

from logs.records import LogQuery
from logs.services import clear_retention_cache
from logs.store import get_log_store


@pytest.fixture(autouse=True)
def _keep_old_records(settings):
    settings.LOGS = {**settings.LOGS, "RETENTION_DAYS": 36500}
    clear_retention_cache()
    yield
    clear_retention_cache()


def all_records(project_ids, terms=()):
    query = LogQuery(
        project_ids=tuple(project_ids),
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2100, 1, 1, tzinfo=UTC),
        terms=tuple(terms),
    )
    return get_log_store().search(query, limit=1000)
