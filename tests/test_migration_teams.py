"""projects 0006: a project's one team becomes the first of its teams, and back on reverse."""

from tests.migration_steps import migrate

BEFORE = [("projects", "0005_project_rules_suspended")]
AFTER = [("projects", "0006_teams_invites")]


def test_each_project_keeps_its_team(latest_schema_afterwards):
    old = migrate(BEFORE)
    org = old.get_model("projects", "Organization").objects.create(slug="acme", name="acme")
    team = old.get_model("projects", "Team").objects.create(organization=org, slug="backend")
    Project = old.get_model("projects", "Project")
    Project.objects.create(organization=org, slug="api", name="api", team=team)
    Project.objects.create(organization=org, slug="loose", name="loose", team=None)

    projects = migrate(AFTER).get_model("projects", "Project").objects
    assert list(projects.get(slug="api").teams.values_list("slug", flat=True)) == ["backend"]
    assert not projects.get(slug="loose").teams.exists()

    reverted = migrate(BEFORE).get_model("projects", "Project").objects
    assert reverted.get(slug="api").team.slug == "backend" and reverted.get(slug="loose").team is None
