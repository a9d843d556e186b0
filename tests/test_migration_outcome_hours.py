"""usage 0003: outcomes counted per day become rows of the day's 00:00 hour; daily sums stay exact."""

from datetime import UTC, date, datetime

from projects.models import Organization, Project
from tests.migration_steps import migrate

BEFORE = [("usage", "0002_countedrecord")]
AFTER = [("usage", "0003_outcome_per_hour")]


def test_daily_rows_become_midnight_hours(latest_schema_afterwards):
    org = Organization.objects.create(slug="acme", name="acme")
    project = Project.objects.create(organization=org, slug="api", name="api")
    old = migrate(BEFORE)  # usage only: the projects tables stay as they are
    Outcome = old.get_model("usage", "Outcome")
    for day, quantity in ((date(2026, 11, 30), 5), (date(2026, 12, 1), 7)):
        Outcome.objects.create(
            organization_id=org.pk,
            project_id=project.pk,
            day=day,
            category="error",
            outcome="accepted",
            quantity=quantity,
        )

    migrated = migrate(AFTER).get_model("usage", "Outcome").objects
    assert sorted(migrated.values_list("hour", "quantity")) == [
        (datetime(2026, 11, 30, tzinfo=UTC), 5),
        (datetime(2026, 12, 1, tzinfo=UTC), 7),
    ]
