"""The operator's status page: queue depth and lag, recent throughput; staff only."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from ingest.buffer import get_buffer
from ingest.models import DeadLetter
from ingest.record import RecordHeader, encode_record
from issues.models import Event
from issues.store import store_events
from tests.factories import rich_prepared_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    client.force_login(user)
    return client


def _cell(html: str, cell_id: str) -> str:
    found = re.search(rf'id="{cell_id}">([^<]*)<', html)
    assert found, f"no cell {cell_id}"
    return found.group(1).strip()


def test_staff_see_queue_depth_and_recent_events(staff_client, make_project, clean_buffer):
    project, key = make_project()
    events = [rich_prepared_event(seconds=s) for s in (1, 2, 3)]
    store_events(project.id, events)
    now = timezone.now()
    for event, age in zip(
        events, (timedelta(seconds=10), timedelta(minutes=30), timedelta(hours=2)), strict=True
    ):
        Event.objects.filter(event_id=event.event_id).update(received=now - age)
    header = RecordHeader(project_id=project.id, key_id=key.id, received=1.0)
    for _ in range(2):
        get_buffer().put(encode_record(header, b"{}\n"))
    DeadLetter.objects.create(payload=b"x", error="ValueError: x")
    html = staff_client.get("/status/").content.decode()
    assert _cell(html, "queue-depth") == "2"
    assert _cell(html, "dead-letters") == "1"
    assert _cell(html, "stored-minute") == "1"
    assert "acme / web" in html


def test_page_is_for_staff_only(client, make_project):
    make_project()
    assert client.get("/status/").status_code == 302  # to the login page
    client.force_login(get_user_model().objects.create_user("member", password="x"))
    refused = client.get("/status/")  # logged in already: a 403 page, not the login form again
    assert refused.status_code == 403 and "for the operators" in refused.content.decode()


def test_query_count_does_not_grow_with_projects(staff_client, make_project, django_assert_max_num_queries):
    for n in range(5):
        make_project(org=f"org{n}", slug=f"p{n}")
    with django_assert_max_num_queries(8):
        assert staff_client.get("/status/").status_code == 200
