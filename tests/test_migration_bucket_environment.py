"""issues 0016/0017: hour buckets get their issue's project; rows of an issue seen in one environment
are attributed to it, those of issues seen in several (or none) keep '' (counted only without an
environment selected)."""

from datetime import UTC, datetime

from projects.models import Organization, Project
from tests.migration_steps import migrate

BEFORE = [("issues", "0015_issue_pending_deletion")]
AFTER = [("issues", "0017_bucket_project_index")]
HOUR = datetime(2026, 11, 30, 10, tzinfo=UTC)


def test_existing_buckets_get_project_and_single_environment(latest_schema_afterwards):
    org = Organization.objects.create(slug="acme", name="acme")
    project = Project.objects.create(organization=org, slug="api", name="api")
    old = migrate(BEFORE)
    Issue, Tag = old.get_model("issues", "Issue"), old.get_model("issues", "IssueTag")
    Bucket, HourUser = old.get_model("issues", "IssueHourBucket"), old.get_model("issues", "IssueHourUser")
    ids = []
    for n, environments in enumerate([["production"], ["production", "staging"], []]):
        issue = Issue.objects.create(project_id=project.pk, short_id=n + 1, title=f"T{n}", first_seen=HOUR,
                                     last_seen=HOUR, times_seen=4, user_count=1)  # fmt: skip
        for value in environments:
            Tag.objects.create(issue=issue, key="environment", value=value, times_seen=2, first_seen=HOUR,
                               last_seen=HOUR)  # fmt: skip
        Tag.objects.create(
            issue=issue, key="level", value="error", times_seen=4, first_seen=HOUR, last_seen=HOUR
        )
        Bucket.objects.create(issue=issue, hour=HOUR, times_seen=4, users=1)
        HourUser.objects.create(issue=issue, hour=HOUR, user_key="u1")
        ids.append(issue.pk)

    new = migrate(AFTER)
    buckets = new.get_model("issues", "IssueHourBucket").objects
    assert [buckets.get(issue_id=i).environment for i in ids] == ["production", "", ""]
    assert set(buckets.values_list("project_id", flat=True)) == {project.pk}
    users = new.get_model("issues", "IssueHourUser").objects
    assert [users.get(issue_id=i).environment for i in ids] == ["production", "", ""]
