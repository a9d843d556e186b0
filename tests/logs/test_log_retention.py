"""Log retention: whole day partitions dropped on PostgreSQL, per-project days, the same on SQLite."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from logs.models import LogRetention
from logs.tasks import maintain_log_store

from .conftest import all_records
from .factories import NOW, log_record, store_logs

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(make_project, settings):
    settings.LOGS = {**settings.LOGS, "RETENTION_DAYS": 30}
    return make_project()[0], make_project(org="acme", slug="short")[0]


def _ages(project) -> list[int]:
    return sorted(round((NOW - r.timestamp).total_seconds() / 86400) for r in all_records([project.id]))


def test_records_past_their_projects_retention_go(projects):
    keeps_default, short = projects
    LogRetention.objects.create(project=short, days=7)
    for project in projects:
        store_logs(
            [log_record(project.id, f"{days} days old", seconds_ago=days * 86400) for days in (1, 10, 40)]
        )
    maintain_log_store.run()
    assert _ages(keeps_default) == [1, 10]
    assert _ages(short) == [1]


@pytest.mark.postgresql
def test_postgresql_drops_whole_day_partitions_and_creates_the_days_ahead(projects):
    from logs.backends.postgres import existing_partition_days

    keeps_default, _ = projects
    store_logs([log_record(keeps_default.id, "old", seconds_ago=40 * 86400)])
    old_day = (NOW - timedelta(days=40)).date()
    assert old_day in existing_partition_days()
    maintain_log_store.run()
    days = existing_partition_days()
    today = datetime.now(UTC).date()
    assert old_day not in days and {today + timedelta(days=n) for n in range(4)} <= days
    with connection.cursor() as cursor:  # a partition of its own per day, with the parent's indexes
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s", [f"logs_record_p{today:%Y%m%d}"]
        )
        assert cursor.fetchone()[0] == 6


def test_records_older_than_retention_are_not_stored_at_ingest(projects, client, settings):
    from tests.conftest import post_envelope

    _, short = projects
    LogRetention.objects.create(project=short, days=7)
    key = short.keys.first()
    now = datetime.now(UTC).timestamp()
    body = (
        b'{}\n{"type":"log"}\n'
        + f'{{"items":[{{"timestamp":{now - 8 * 86400},"body":"too old"}},{{"timestamp":{now - 60},"body":"fresh"}}]}}'.encode()
        + b"\n"
    )
    assert post_envelope(client, short.id, body, key=key.public_key).status_code == 200
    from ingest.tasks import drain_ingest_buffer, reset_drain_state

    reset_drain_state()
    drain_ingest_buffer.run()
    assert [r.body for r in all_records([short.id])] == ["fresh"]


@pytest.mark.postgresql
def test_the_scheduled_task_drops_old_partitions_and_keeps_recent_records(projects, settings):
    """The task the schedule names, run for real: the day partitions past retention are gone from
    the catalog, with their rows; the partitions within retention and their rows stay."""
    from celery import current_app

    from logs.backends.postgres import existing_partition_days, partition_name

    keeps_default, short = projects
    LogRetention.objects.create(project=short, days=7)
    ages = (45, 31, 29, 8, 1, 0)
    for project in projects:
        store_logs(
            [log_record(project.id, f"{days} days old", seconds_ago=days * 86400 + 60) for days in ages]
        )
    past = {(NOW - timedelta(days=days, seconds=60)).date() for days in (45, 31)}
    assert past <= existing_partition_days()

    task = current_app.tasks[settings.CELERY_BEAT_SCHEDULE["maintain-log-store"]["task"]]
    task.apply().get()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s)", [[partition_name(d) for d in past]]
        )
        assert cursor.fetchall() == []  # whole tables dropped, not emptied
    assert not past & existing_partition_days()
    assert _ages(keeps_default) == [0, 1, 8, 29]
    assert _ages(short) == [0, 1]  # 7 days: its older rows deleted from the partitions that stay


def _sets() -> dict[str, str]:
    """Each stored attribute set's release, with the day of its newest record."""
    from logs.backends.postgres import SETS

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT attributes->>'sentry.release', last_day FROM {SETS}")
        return {release: day for release, day in cursor.fetchall()}


@pytest.mark.postgresql
def test_attribute_sets_go_with_the_last_record_that_uses_them(projects):
    """A set keeps the day of its newest record, whatever order the records come in; retention
    deletes the sets whose records were all dropped and keeps those still in use."""
    keeps_default, _ = projects

    def record(release: str, days: int):
        return log_record(keeps_default.id, release, seconds_ago=days * 86400 + 60,
                          attributes={"sentry.release": release})  # fmt: skip

    store_logs([record("only-old", 40), record("both", 1)])
    store_logs([record("both", 40), record("only-new", 2)])
    day = {n: (NOW - timedelta(days=n, seconds=60)).date() for n in (1, 2, 40)}
    assert _sets() == {"only-old": day[40], "both": day[1], "only-new": day[2]}

    maintain_log_store.run()
    assert _sets() == {"both": day[1], "only-new": day[2]}
    kept = {r.body: r.attributes.get("sentry.release") for r in all_records([keeps_default.id])}
    assert kept == {"both": "both", "only-new": "only-new"}
