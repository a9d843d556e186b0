"""Alert rules through the API (Sentry's shape) and the pages: validation and access."""

import pytest
from django.contrib.auth import get_user_model

from alerts import rules
from alerts.models import AlertFire, AlertRule, Notification
from projects.models import OrganizationMember
from projects.services import add_member, create_project

pytestmark = pytest.mark.django_db
API = "/api/0/projects/acme/web/rules/"
PAGES = "/organizations/acme/projects/web/alerts/"


@pytest.fixture
def people(make_project):
    project, _ = make_project()
    users = {}
    for name, role in (("owner", "owner"), ("manager", "manager"), ("member", "member")):
        users[name] = get_user_model().objects.create_user(name, f"{name}@example.com", "pw")
        add_member(project.organization, users[name], role)
        OrganizationMember.objects.filter(user=users[name]).update(role=role)
    create_project("other", "elsewhere")
    users["stranger"] = get_user_model().objects.create_user("stranger", "s@example.com", "pw")
    add_member(create_project("other", "elsewhere")[0].organization, users["stranger"])
    return project, users


NEW_RULE = {
    "name": "Checkout spikes",
    "conditions": [{"id": rules.SPIKE, "value": 3, "interval": "15m", "floor": 20}],
    "filters": [{"id": rules.TAG_FILTER, "key": "region", "match": "co", "value": "eu"}],
    "actions": [{"id": rules.WEBHOOK_ACTION, "url": "https://hooks.example.com/x", "format": "sentry"}],
    "frequency": 60,
}


def test_members_read_rules_in_sentrys_shape(client, people):
    _, users = people
    client.force_login(users["member"])
    (rule,) = client.get(API).json()
    assert rule["name"] == "New issues and regressions" and rule["status"] == "active"
    assert rule["actionMatch"] == "any" and rule["frequency"] == 30 and rule["projects"] == ["web"]
    assert [c["id"] for c in rule["conditions"]] == [rules.FIRST_SEEN, rules.REGRESSION]
    assert client.get(f"{API}{rule['id']}/").json() == rule


def test_owners_and_managers_write_members_get_403_strangers_404(client, people):
    _, users = people
    client.force_login(users["member"])
    assert client.post(API, NEW_RULE, content_type="application/json").status_code == 403
    client.force_login(users["stranger"])
    assert client.get(API).status_code == 404
    assert client.post(API, NEW_RULE, content_type="application/json").status_code == 404
    client.force_login(users["manager"])
    created = client.post(API, NEW_RULE, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["owner"] == f"user:{users['manager'].pk}" and len(body["actions"][0]["secret"]) == 32
    url = f"{API}{body['id']}/"
    client.force_login(users["owner"])
    updated = client.put(
        url, {**NEW_RULE, "status": "disabled", "actions": body["actions"]}, content_type="application/json"
    )
    assert updated.status_code == 200 and updated.json()["status"] == "disabled"
    assert updated.json()["actions"][0]["secret"] == body["actions"][0]["secret"]
    client.force_login(users["member"])
    assert client.delete(url).status_code == 403
    client.force_login(users["owner"])
    assert client.delete(url).status_code == 202 and not AlertRule.objects.filter(pk=body["id"]).exists()


def test_invalid_rules_get_400_with_the_reasons(client, people):
    _, users = people
    client.force_login(users["owner"])
    bad = {**NEW_RULE, "conditions": [{"id": rules.FREQUENCY, "value": -1}], "frequency": "often"}
    response = client.post(API, bad, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "frequency": ["A whole number of minutes from 1 to 43200."],
        "conditions": ["condition 1: value must be a whole number"],
    }


def test_rule_pages_create_edit_disable_delete(client, people):
    project, users = people
    client.force_login(users["owner"])
    form = {"name": "Prod errors", "enabled": "on", "frequency": "30", "on_new": "on",
            "environments": "production, staging", "level": "40", "email_members": [str(users["member"].pk)],
            "frequency_interval": "1h", "users_interval": "1h", "spike_interval": "1h"}  # fmt: skip
    assert client.post(f"{PAGES}new/", form).status_code == 302
    rule = AlertRule.objects.get(name="Prod errors")
    assert rule.filters == [
        {"id": rules.ENVIRONMENT_FILTER, "environments": ["production", "staging"]},
        {"id": rules.LEVEL_FILTER, "match": "gte", "level": "40"},
    ]
    assert rule.actions == [
        {"id": rules.EMAIL_ACTION, "targetType": "Member", "targetIdentifier": str(users["member"].pk)}
    ]
    page = client.get(f"{PAGES}{rule.pk}/").content.decode()
    assert 'value="production, staging"' in page
    assert client.post(f"{PAGES}{rule.pk}/disable/").status_code == 302
    assert not AlertRule.objects.get(pk=rule.pk).enabled
    assert client.post(f"{PAGES}{rule.pk}/delete/").status_code == 302
    assert not AlertRule.objects.filter(pk=rule.pk).exists()


def test_rule_page_shows_validation_errors(client, people):
    _, users = people
    client.force_login(users["owner"])
    response = client.post(f"{PAGES}new/", {"name": "Nothing", "frequency": "30", "email_team": "on"})
    assert response.status_code == 200
    assert "conditions: At least one trigger is required." in response.content.decode()
    response = client.post(f"{PAGES}new/", {"name": "", "frequency": "0"})
    assert "This field is required." in response.content.decode()


def test_members_see_rules_but_cannot_change_them(client, people):
    project, users = people
    rule = AlertRule.objects.get(project=project)
    client.force_login(users["member"])
    assert client.get(PAGES).status_code == 200
    assert client.post(f"{PAGES}{rule.pk}/disable/").status_code == 403
    assert client.post(f"{PAGES}{rule.pk}/", {"name": "x", "frequency": "30"}).status_code == 403
    client.force_login(users["stranger"])
    assert client.get(PAGES).status_code == 404


def test_history_shows_delivery_status_and_escapes_event_content(client, people):
    from django.utils import timezone

    from issues.store import store_events
    from tests.factories import prepared_event

    project, users = people
    store_events(project.id, [prepared_event(title="<script>alert(1)</script>")])
    issue = project.issues.get()
    now = timezone.now()
    fire = AlertFire.objects.create(project=project, rule=AlertRule.objects.get(project=project), issue=issue,
                                    occurrence="new", trigger="new", reason="A new issue was created", created=now)  # fmt: skip
    Notification.objects.create(project=project, fire=fire, key="k", channel="email", target="a@example.com",
                                status="pending", attempts=2, last_error="SMTPDataError: 451 busy",
                                next_attempt_at=now, created=now)  # fmt: skip
    client.force_login(users["member"])
    page = client.get(PAGES).content.decode()
    assert "SMTPDataError: 451 busy" in page and "after 2 attempts" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_webhook_secrets_are_shown_to_managers_only(client, people):
    project, users = people
    client.force_login(users["owner"])
    rule = client.post(API, NEW_RULE, content_type="application/json").json()
    secret = rule["actions"][0]["secret"]
    assert secret in client.get(f"{PAGES}{rule['id']}/").content.decode()
    client.force_login(users["member"])
    assert client.get(f"{API}{rule['id']}/").json()["actions"][0]["secret"] == "********"
    assert secret not in client.get(f"{PAGES}{rule['id']}/").content.decode()
    assert secret not in client.get(API).content.decode()


def test_alert_history_is_pruned_after_90_days(people):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.services import prune_outbox
    from issues.store import store_events
    from tests.factories import prepared_event

    project, _ = people
    store_events(project.id, [prepared_event()])
    old = timezone.now() - timedelta(days=91)
    AlertFire.objects.create(project=project, rule=AlertRule.objects.get(project=project), issue=project.issues.get(),
                             occurrence="new", trigger="new", created=old)  # fmt: skip
    assert prune_outbox() == 1 and not AlertFire.objects.exists()


def test_category_latest_release_and_project_spike_through_the_api_and_the_page(client, people):
    _, users = people
    client.force_login(users["owner"])
    sentry_shaped = {
        **NEW_RULE,
        "conditions": [{"id": rules.PROJECT_SPIKE, "value": 4, "interval": "15m", "floor": 200}],
        "filters": [{"id": rules.CATEGORY_FILTER, "value": "1"}, {"id": rules.LATEST_RELEASE_FILTER}],
    }
    created = client.post(API, sentry_shaped, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["filters"] == sentry_shaped["filters"]
    assert created.json()["conditions"] == sentry_shaped["conditions"]
    form = {"name": "Fresh releases", "enabled": "on", "frequency": "30", "email_team": "on",
            "frequency_interval": "1h", "users_interval": "1h", "spike_interval": "1h",
            "project_spike_value": "3", "project_spike_interval": "1h", "project_spike_floor": "50",
            "latest_release": "on", "category": "6"}  # fmt: skip
    assert client.post(f"{PAGES}new/", form).status_code == 302
    rule = AlertRule.objects.get(name="Fresh releases")
    assert rule.conditions == [{"id": rules.PROJECT_SPIKE, "value": 3.0, "interval": "1h", "floor": 50}]
    assert rule.filters == [{"id": rules.LATEST_RELEASE_FILTER}, {"id": rules.CATEGORY_FILTER, "value": "6"}]
    page = client.get(f"{PAGES}{rule.pk}/").content.decode()
    assert 'name="latest_release" id="id_latest_release" checked' in page
    assert '<option value="6" selected>feedback</option>' in page
    assert 'name="project_spike_floor" value="50"' in page
