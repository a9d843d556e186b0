"""issues 0014: the review inbox starts with the issues the old `is:for_review` rule listed
(unresolved, new / regressed / escalating, seen within 7 days), so "For review" shows the same
issues right after the upgrade."""

from datetime import timedelta

from django.utils import timezone

from projects.models import Organization, Project
from tests.migration_steps import migrate

BEFORE = [("issues", "0013_issue_org_sort_indexes")]
AFTER = [("issues", "0014_issue_inbox")]


def test_issues_the_old_rule_listed_enter_the_inbox(latest_schema_afterwards):
    org = Organization.objects.create(slug="acme", name="acme")
    project = Project.objects.create(organization=org, slug="api", name="api")
    Issue = migrate(BEFORE).get_model("issues", "Issue")
    now = timezone.now()
    recent, old = now - timedelta(hours=5), now - timedelta(days=8)
    made = {}
    for n, (name, status, substatus, last_seen) in enumerate(
        [
            ("new", "unresolved", "new", recent),
            ("regressed", "unresolved", "regressed", recent),
            ("escalating", "unresolved", "escalating", recent),
            ("ongoing", "unresolved", "ongoing", recent),
            ("stale", "unresolved", "regressed", old),
            ("ignored", "ignored", "archived_forever", recent),
        ]
    ):
        made[name] = Issue.objects.create(
            project_id=project.pk, short_id=n + 1, title=name, status=status, substatus=substatus,
            first_seen=recent - timedelta(hours=1), last_seen=last_seen,
        ).pk  # fmt: skip

    IssueInbox = migrate(AFTER).get_model("issues", "IssueInbox")
    rows = {r.issue_id: r for r in IssueInbox.objects.all()}
    assert {pk: rows[pk].reason for pk in rows} == {
        made["new"]: 0,
        made["regressed"]: 2,
        made["escalating"]: 5,
    }
    assert rows[made["new"]].date_added == recent - timedelta(hours=1)  # entered when first seen
    assert rows[made["regressed"]].date_added == recent
