"""Event endpoints beyond an issue's own list, and the usage statistics endpoints (stats_v2, stats)."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import ApiToken
from issues.models import Issue
from issues.store import store_events
from tests.factories import prepared_event, rich_prepared_event, user_with_membership
from usage.services import write_outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_project, client):
    project, _ = make_project()
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project, client


def test_project_events_list_as_sentry_cli_reads_it(api):
    project, client = api
    store_events(project.id, [rich_prepared_event(event_id=f"{n:032x}", seconds=n) for n in range(3)])
    response = client.get("/api/0/projects/acme/web/events/")
    assert response.status_code == 200 and 'rel="next"' in response["Link"]
    events = response.json()
    assert [e["eventID"] for e in events] == [f"{n:032x}" for n in (2, 1, 0)]
    first = events[0]
    assert first["title"].startswith("ZeroDivisionError") and isinstance(first["dateCreated"], str)
    assert first["projectID"] == str(project.pk) and first["user"]["id"] == "42"
    assert {"key": "region", "value": "eu-west-1"} in first["tags"]
    assert first["location"] == "shop/cart.py" and first["type"] == "error"


def test_event_detail_carries_the_release_object(api):
    project, client = api
    event = rich_prepared_event(release="shop@2.0")
    store_events(project.id, [event])
    detail = client.get(f"/api/0/projects/acme/web/events/{event.event_id}/").json()
    assert detail["release"]["version"] == "shop@2.0" and detail["release"]["newGroups"] == 1
    assert isinstance(detail["release"]["id"], int) and detail["userReport"] is None
    assert isinstance(detail["packages"], dict) and detail["location"] == "shop/cart.py"
    assert detail["entries"][0]["type"] == "exception"
    dashed = f"{event.event_id[:8]}-{event.event_id[8:12]}-{event.event_id[12:16]}-{event.event_id[16:20]}-{event.event_id[20:]}"
    found = client.get(f"/api/0/organizations/acme/eventids/{dashed}/").json()
    assert found["projectSlug"] == "web" and found["groupId"] == str(Issue.objects.get().pk)
    assert found["eventId"] == event.event_id and found["event"]["eventID"] == event.event_id
    assert client.get("/api/0/projects/acme/web/events/" + "0" * 32 + "/").status_code == 404
    latest = client.get(f"/api/0/issues/{found['groupId']}/events/latest/").json()
    assert latest["release"]["version"] == "shop@2.0" and latest["release"]["dateCreated"] is not None


def test_recommended_event_prefers_one_with_a_trace(api):
    project, client = api
    traced = prepared_event(seconds=1)
    traced.trace_id = "f" * 32
    store_events(project.id, [traced, prepared_event(seconds=2)])
    issue = Issue.objects.get()
    recommended = client.get(f"/api/0/issues/{issue.pk}/events/recommended/").json()
    assert recommended["eventID"] == traced.event_id


def test_project_events_queries_do_not_grow_with_the_page(api, django_assert_max_num_queries):
    project, client = api
    store_events(project.id, [rich_prepared_event() for _ in range(2)])
    with django_assert_max_num_queries(10) as few:
        client.get("/api/0/projects/acme/web/events/")
    store_events(project.id, [rich_prepared_event() for _ in range(30)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/0/projects/acme/web/events/").json()) == 32


def _outcomes(
    project, days_ago: int, category: str, outcome: str, quantity: int, reason: str = "", hours_ago: int = 0
):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hour = now - timedelta(days=days_ago, hours=hours_ago)
    write_outcomes(
        Counter({(project.organization_id, project.pk, hour, category, outcome, reason): quantity})
    )


def test_stats_v2_as_grafana_asks_for_it(api, make_project):
    project, client = api
    other, _ = make_project(slug="api")
    _outcomes(project, 0, "error", "accepted", 5)
    _outcomes(project, 1, "error", "accepted", 2)
    _outcomes(project, 0, "error", "rate_limited", 3, "key_quota")
    _outcomes(other, 0, "transaction", "accepted", 7)
    params = {
        "field": "sum(quantity)",
        "groupBy": ["outcome", "category"],
        "statsPeriod": "7d",
        "interval": "1d",
    }
    stats = client.get("/api/0/organizations/acme/stats_v2/", params).json()
    assert len(stats["intervals"]) == 8 and stats["start"].endswith("T00:00:00Z")
    groups = {(g["by"]["outcome"], g["by"]["category"]): g for g in stats["groups"]}
    accepted = groups[("accepted", "error")]
    assert accepted["totals"] == {"sum(quantity)": 7} and accepted["series"]["sum(quantity)"][-2:] == [2, 5]
    assert groups[("rate_limited", "error")]["totals"]["sum(quantity)"] == 3
    by_project = client.get(
        "/api/0/organizations/acme/stats_v2/",
        {"field": "sum(quantity)", "groupBy": "project", "category": "transaction", "statsPeriod": "24h"},
    ).json()
    (group,) = by_project["groups"]
    assert group["by"] == {"project": other.pk} and group["totals"] == {"sum(quantity)": 7}
    # No interval: Sentry's default, one bucket per hour; the current hour is the last one.
    assert len(by_project["intervals"]) in (24, 25) and group["series"]["sum(quantity)"][-1] == 7
    assert client.get("/api/0/organizations/acme/stats_v2/", {"groupBy": "nope"}).status_code == 400
    assert client.get("/api/0/organizations/acme/stats_v2/", {"statsPeriod": "forever"}).status_code == 400


def test_stats_v2_start_and_end(api):
    project, client = api
    _outcomes(project, 3, "error", "accepted", 4)
    day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    stats = client.get(
        "/api/0/organizations/acme/stats_v2/",
        {
            "field": "sum(quantity)",
            "start": f"{day}T00:00:00Z",
            "end": f"{day}T23:59:59Z",
            "groupBy": "outcome",
            "interval": "1d",
        },
    ).json()
    assert stats["intervals"] == [f"{day}T00:00:00Z"] and stats["groups"][0]["series"]["sum(quantity)"] == [4]


def test_project_stats_pairs_of_time_and_count(api):
    project, client = api
    _outcomes(project, 0, "error", "accepted", 6)
    _outcomes(project, 0, "error", "rate_limited", 1)
    received = client.get("/api/0/projects/acme/web/stats/").json()
    assert all(isinstance(t, int) and isinstance(n, int) for t, n in received)
    assert received[-1][1] == 7
    rejected = client.get("/api/0/projects/acme/web/stats/", {"stat": "rejected"}).json()
    assert rejected[-1][1] == 1


def test_stats_v2_hourly_as_grafana_asks_for_it(api):
    project, client = api
    _outcomes(project, 0, "error", "accepted", 4, hours_ago=2)
    _outcomes(project, 0, "error", "accepted", 1, hours_ago=0)
    _outcomes(project, 0, "error", "rate_limited", 3, "key_quota", hours_ago=5)
    params = {"field": "sum(quantity)", "groupBy": ["outcome"], "category": "error", "statsPeriod": "6h"}
    stats = client.get("/api/0/organizations/acme/stats_v2/", {**params, "interval": "1h"}).json()
    assert isinstance(stats["start"], str) and stats["start"].endswith(":00:00Z")
    hours = [datetime.fromisoformat(i) for i in stats["intervals"]]
    assert all(b - a == timedelta(hours=1) for a, b in zip(hours, hours[1:], strict=False))
    assert datetime.fromisoformat(stats["end"]) == hours[-1] + timedelta(hours=1)
    groups = {g["by"]["outcome"]: g for g in stats["groups"]}
    accepted = groups["accepted"]["series"]["sum(quantity)"]
    assert accepted[-1] == 1 and accepted[-3] == 4 and sum(accepted) == 5
    assert all(isinstance(n, int) for n in accepted) and groups["accepted"]["totals"]["sum(quantity)"] == 5
    assert groups["rate_limited"]["series"]["sum(quantity)"][-6] == 3
    # Finer than Sentry's minimum (1h) is rounded up; two hours per bucket; more than a day is refused.
    rounded = client.get("/api/0/organizations/acme/stats_v2/", {**params, "interval": "5m"}).json()
    assert rounded["intervals"] == stats["intervals"]
    two = client.get("/api/0/organizations/acme/stats_v2/", {**params, "interval": "2h"}).json()
    assert sum(two["groups"][0]["series"]["sum(quantity)"]) == 5 and len(two["intervals"]) <= 4
    for refused in ("2d", "5h"):
        response = client.get("/api/0/organizations/acme/stats_v2/", {**params, "interval": refused})
        assert response.status_code == 400 and "interval" in response.json()["detail"]
    too_many = client.get(
        "/api/0/organizations/acme/stats_v2/", {**params, "statsPeriod": "90d", "interval": "1h"}
    )
    assert too_many.status_code == 400 and "too many results" in too_many.json()["detail"]


def test_project_stats_per_hour_and_per_day(api):
    project, client = api
    _outcomes(project, 0, "error", "accepted", 6, hours_ago=1)
    _outcomes(project, 0, "error", "rate_limited", 2, hours_ago=3)
    now = datetime.now(UTC)
    since = int((now - timedelta(hours=4)).timestamp())
    hourly = client.get("/api/0/projects/acme/web/stats/", {"since": since, "resolution": "1h"}).json()
    assert [t for t, _ in hourly] == list(range(since - since % 3600, int(now.timestamp()) + 1, 3600))[
        : len(hourly)
    ]
    assert len(hourly) == 5 and [n for _, n in hourly] == [0, 2, 0, 6, 0]
    generated = client.get(
        "/api/0/projects/acme/web/stats/", {"since": since, "stat": "generated", "resolution": "1h"}
    ).json()
    assert [n for _, n in generated] == [0, 0, 0, 6, 0]
    daily = client.get("/api/0/projects/acme/web/stats/", {"since": since, "resolution": "1d"}).json()
    assert sum(n for _, n in daily) == 8 and all(t % 86400 == 0 for t, _ in daily)
    assert client.get("/api/0/projects/acme/web/stats/", {"resolution": "1m"}).status_code == 400


# Types of Sentry's documented example of "Retrieve an Event for a Project" (null allowed where listed).
EVENT_TYPES = {
    "id": str, "eventID": str, "groupID": str, "projectID": str, "title": str, "message": str,
    "platform": str, "dateCreated": str, "dateReceived": str, "type": str, "culprit": str, "tags": list,
    "entries": list, "contexts": dict, "context": dict, "packages": dict, "metadata": dict, "errors": list,
    "fingerprints": list, "groupingConfig": dict, "size": int, "sdkUpdates": list, "_meta": dict,
}  # fmt: skip
EVENT_NULLABLE = {"location": str, "dist": str, "user": dict, "sdk": dict, "release": dict,
                  "userReport": dict, "crashFile": str, "occurrence": dict, "previousEventID": str,
                  "nextEventID": str}  # fmt: skip


def test_event_objects_have_sentrys_types(api):
    project, client = api
    older, newer = rich_prepared_event(release="shop@2.0", seconds=1), rich_prepared_event(seconds=2)
    store_events(project.id, [older, newer])
    for path in (
        f"/api/0/projects/acme/web/events/{older.event_id}/",
        f"/api/0/issues/{Issue.objects.get().pk}/events/recommended/",
    ):
        event = client.get(path).json()
        for field, kind in EVENT_TYPES.items():
            assert isinstance(event[field], kind), (path, field)
        for field, kind in EVENT_NULLABLE.items():
            assert event[field] is None or isinstance(event[field], kind), (path, field)
        assert all(set(tag) == {"key", "value"} for tag in event["tags"])
    detail = client.get(f"/api/0/projects/acme/web/events/{older.event_id}/").json()
    assert detail["nextEventID"] == newer.event_id and detail["previousEventID"] is None
    assert detail["release"]["version"] == "shop@2.0" and isinstance(detail["release"]["projects"], list)


def test_event_and_stats_paths_are_404_to_another_organization(api, make_project, client):
    project, _ = api
    event = rich_prepared_event()
    store_events(project.id, [event])
    other, _ = make_project(org="globex", slug="shop")
    _, token = ApiToken.issue(user_with_membership(other, username="outsider"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for path in (
        "/api/0/projects/acme/web/events/",
        f"/api/0/projects/acme/web/events/{event.event_id}/",
        f"/api/0/organizations/acme/eventids/{event.event_id}/",
        f"/api/0/issues/{Issue.objects.get().pk}/events/recommended/",
        "/api/0/organizations/acme/stats_v2/",
        "/api/0/projects/acme/web/stats/",
    ):
        assert client.get(path, **auth).status_code == 404, path
    # Their own organization does not find acme's event by id either.
    assert client.get(f"/api/0/organizations/globex/eventids/{event.event_id}/", **auth).status_code == 404


def test_token_scopes_are_respected(api, client):
    project, _ = api
    store_events(project.id, [rich_prepared_event()])
    user = project.organization.members.get().user
    releases_only = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user, scopes=['project:releases'])[1]}"}
    assert client.get("/api/0/projects/acme/web/events/", **releases_only).status_code == 403
    assert client.get("/api/0/organizations/acme/stats_v2/", **releases_only).status_code == 403
    assert (
        client.get("/api/0/projects/acme/web/stats/", **releases_only).status_code == 200
    )  # project:read-like
    readers = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user, scopes=['event:read', 'org:read'])[1]}"}
    assert client.get("/api/0/projects/acme/web/events/", **readers).status_code == 200
    assert client.get("/api/0/organizations/acme/stats_v2/", **readers).status_code == 200


def test_stats_v2_exactly_as_grafanas_data_source_sends_it(api):
    """grafana/sentry-datasource: naive `start`/`end` (UTC), an `interval` it snapped to minutes,
    both fields, repeated `groupBy` and `category`; it reads `intervals` and each group's series."""
    project, client = api
    _outcomes(project, 0, "error", "accepted", 3, hours_ago=1)
    _outcomes(project, 0, "error", "rate_limited", 2, "key_quota", hours_ago=1)
    end = datetime.now(UTC).replace(tzinfo=None)
    query = (
        f"start={(end - timedelta(hours=3)).strftime('%Y-%m-%dT%H:%M:%S')}&end={end.strftime('%Y-%m-%dT%H:%M:%S')}"
        "&interval=5m&category=error&category=default&field=sum(quantity)&field=sum(times_seen)"
        f"&groupBy=outcome&groupBy=reason&project={project.pk}"
    )
    stats = client.get(f"/api/0/organizations/acme/stats_v2/?{query}").json()
    assert len(stats["intervals"]) == 4  # 5m is below the hourly minimum: hours, widened to whole ones
    groups = {(g["by"]["outcome"], g["by"]["reason"]): g for g in stats["groups"]}
    assert groups[("accepted", "")]["series"]["sum(quantity)"][-2] == 3
    assert groups[("rate_limited", "key_quota")]["totals"] == {"sum(quantity)": 2, "sum(times_seen)": 2}
