"""User feedback through the worker: the legacy `user_report` item and the `feedback` item become
user reports, linked to their event's issue whichever of the two is stored first."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import UserReport
from feedback.store import link_reports
from ingest.feedback_items import prepare_feedback, prepare_user_report
from ingest.project_config import ProjectConfig
from ingest.protocol.scrub import ScrubConfig
from ingest.record import RecordHeader
from issues import merge
from issues.models import Event, Issue
from issues.store import store_events
from issues.user_reports import store_user_reports
from tests.conftest import load_request, post_envelope
from tests.factories import BASE_TIME, prepared_event, prepared_report
from tests.test_pipeline import _fixture, _post

pytestmark = pytest.mark.django_db

HEADER = RecordHeader(project_id=1, key_id=1, received=BASE_TIME.timestamp(), event_id="f" * 32)


def _config(**scrub) -> ProjectConfig:
    return ProjectConfig(
        project_id=1,
        organization_id=1,
        has_first_event=True,
        scrub=ScrubConfig(**scrub),
        grouping_config="newstyle:2023-01-11",
        secondary_grouping_config=None,
        fingerprint_rules=None,
        enhancements=None,
    )


def _envelope(item_type: str, payload: dict, event_id: str | None = None) -> bytes:
    header = {"event_id": event_id} if event_id else {}
    lines = [header, {"type": item_type}, payload]
    return b"\n".join(json.dumps(line).encode() for line in lines) + b"\n"


# -- pure preparation -------------------------------------------------------------------------


def test_legacy_user_report_is_trimmed_to_sentrys_sizes_and_keeps_its_event_id():
    raw = {"event_id": "AB" * 16, "name": "n" * 300, "email": "e" * 100, "comments": " c\x00" + "x" * 5000}
    report = prepare_user_report(raw, HEADER, _config())
    assert report.event_id == "ab" * 16
    assert (len(report.name), len(report.email), len(report.comments)) == (128, 75, 4096)
    assert report.comments.startswith("c\ufffd") and report.date_added == BASE_TIME


@pytest.mark.parametrize(
    "raw",
    [
        {"event_id": "a" * 32, "name": "Jane", "comments": "   "},  # nothing said (Sentry: "empty")
        {"event_id": "not-an-id", "comments": "It broke."},
        {"event_id": "a" * 31, "comments": "It broke."},
        {"comments": "It broke."},
        ["not", "an", "object"],
    ],
)
def test_user_reports_sentry_refuses_are_dropped(raw):
    assert prepare_user_report(raw, HEADER, _config()) is None


def test_feedback_item_speaks_of_its_associated_event_or_else_of_itself():
    feedback = {"message": "Froze.", "contact_email": "j@example.com", "name": "Jane", "url": "https://x"}
    about_event = {"contexts": {"feedback": {**feedback, "associated_event_id": "B" * 32}}}
    report = prepare_feedback(about_event, HEADER, _config())
    assert (report.event_id, report.name, report.email, report.comments) == (
        "b" * 32,
        "Jane",
        "j@example.com",
        "Froze.",
    )
    standalone = prepare_feedback(
        {"event_id": "c" * 32, "contexts": {"feedback": feedback}}, HEADER, _config()
    )
    assert standalone.event_id == "f" * 32  # the envelope's event id wins, as for events
    assert prepare_feedback({"contexts": {"trace": {}}}, HEADER, _config()) is None


def test_feedback_text_is_scrubbed_with_the_projects_rules():
    raw = {
        "event_id": "a" * 32,
        "name": "Jane",
        "email": "jane@example.com",
        "comments": "paid with 4111 1111 1111 1111, my password=hunter2 and Bearer abcdef0123456789abcdef",
    }
    report = prepare_user_report(raw, HEADER, _config(extra_fields=("email",)))
    assert "4111" not in report.comments and "hunter2" not in report.comments
    assert "abcdef0123456789abcdef" not in report.comments and "[Filtered]" in report.comments
    assert report.email == "[Filtered]" and report.name == "Jane"
    assert prepare_user_report(raw, HEADER, _config(enabled=False)).comments == raw["comments"]


# -- the batch writer: linking in both orders -------------------------------------------------


def test_report_after_its_event_gets_the_issue_at_once(make_project):
    project, _ = make_project()
    event = prepared_event()
    store_events(project.id, [event])
    assert store_user_reports(project.id, [prepared_report(event.event_id)]) == 1
    report = UserReport.objects.get()
    assert report.issue_id == Issue.objects.get().pk
    assert (report.name, report.email, report.comments) == ("Jane", "jane@example.com", "It broke.")


def test_report_before_its_event_waits_and_the_events_batch_links_it(make_project):
    project, _ = make_project()
    event = prepared_event()
    store_user_reports(project.id, [prepared_report(event.event_id)])
    assert UserReport.objects.get().issue_id is None
    store_events(project.id, [event, prepared_event(hashes=["b" * 32])])
    assert UserReport.objects.get().issue_id == Event.objects.get(event_id=event.event_id).issue_id


def test_linking_is_one_query_per_batch_of_events_and_leaves_other_projects_alone(make_project):
    project, _ = make_project()
    other, _ = make_project(slug="other")
    event = prepared_event()
    store_user_reports(other.id, [prepared_report(event.event_id)])
    with CaptureQueriesContext(connection) as captured:
        link_reports(project.id, {event.event_id: 1, "e" * 32: 2})
    assert len(captured.captured_queries) == 1
    assert UserReport.objects.get().issue_id is None
    with CaptureQueriesContext(connection) as captured:
        link_reports(project.id, {})
    assert not captured.captured_queries


def test_one_report_per_event_a_second_within_5_minutes_replaces_it_a_later_one_is_dropped(make_project):
    project, _ = make_project()
    event_id = uuid.uuid4().hex
    store_user_reports(project.id, [prepared_report(event_id, "first")])
    store_user_reports(project.id, [prepared_report(event_id, "fixed", BASE_TIME + timedelta(minutes=4))])
    assert list(UserReport.objects.values_list("comments", flat=True)) == ["fixed"]
    store_user_reports(project.id, [prepared_report(event_id, "late", BASE_TIME + timedelta(minutes=6))])
    assert list(UserReport.objects.values_list("comments", flat=True)) == ["fixed"]
    # A redelivered batch rewrites the same values and adds nothing.
    assert store_user_reports(project.id, [prepared_report(event_id, "fixed")]) == 0
    assert UserReport.objects.count() == 1


def test_report_on_an_event_stored_over_30_minutes_before_is_dropped(make_project):
    project, _ = make_project()
    event = prepared_event(seconds=0)  # received at BASE_TIME
    store_events(project.id, [event])
    late = prepared_report(event.event_id, when=BASE_TIME + timedelta(minutes=31))
    assert store_user_reports(project.id, [late]) == 0
    assert not UserReport.objects.exists()


def test_reports_follow_their_events_through_merge_and_unmerge_and_go_with_a_deleted_issue(make_project):
    project, _ = make_project()
    first, second = prepared_event(hashes=["a" * 32]), prepared_event(hashes=["b" * 32])
    store_events(project.id, [first, second])
    store_user_reports(project.id, [prepared_report(first.event_id), prepared_report(second.event_id)])
    target, source = Issue.objects.order_by("pk")
    merge.merge_issues(target, [source])
    assert set(UserReport.objects.values_list("issue_id", flat=True)) == {target.pk}
    new_issue = merge.unmerge_hashes(target, ["b" * 32])
    assert UserReport.objects.get(event_id=second.event_id).issue_id == new_issue.pk
    assert UserReport.objects.get(event_id=first.event_id).issue_id == target.pk
    Issue.objects.filter(pk=new_issue.pk).delete()
    assert list(UserReport.objects.values_list("event_id", flat=True)) == [first.event_id]


# -- endpoint -> buffer -> worker, with the real SDK requests ----------------------------------


def test_python_fixture_error_then_feedback_then_user_report(client, fixture_project, drain):
    project, _ = fixture_project
    for n in (1, 2, 3):
        _post(client, project, load_request(_fixture(f"sentry.python-2.75.0/user_feedback_manual.{n}.json")))
    drain()
    report = UserReport.objects.get()
    # The feedback item came first and made the report; the user_report 0.1 s later replaced its text.
    assert report.event_id == "ee61fcb6dd8e42c097afb9aeed5afaa0"
    assert report.issue_id == Issue.objects.get().pk
    assert (report.name, report.email, report.comments) == ("Jane", "jane@example.com", "It broke.")


def test_node_capture_feedback_links_to_the_error_it_names(client, fixture_project, drain):
    project, _ = fixture_project
    for n in (1, 2, 3, 4):
        _post(
            client, project, load_request(_fixture(f"sentry.javascript.node-11.12.0/user_feedback.{n}.json"))
        )
    drain()
    report = UserReport.objects.get()
    assert report.event_id == "78b73685b2ec48e49cd8ca742ef1cea1"
    assert report.issue_id == Event.objects.get(event_id=report.event_id).issue_id
    assert report.comments == "The page froze after I clicked Pay."


def test_feedback_sent_before_its_error_is_linked_when_the_error_arrives(client, fixture_project, drain):
    project, _ = fixture_project
    event_id = uuid.uuid4().hex
    user_report = {"event_id": event_id, "name": "Jane", "email": "j@example.com", "comments": "<b>boom</b>"}
    post_envelope(client, project.id, _envelope("user_report", user_report, event_id))
    drain()
    assert UserReport.objects.get().issue_id is None
    post_envelope(client, project.id, _envelope("event", {"message": "boom"}, event_id))
    drain()
    assert UserReport.objects.get().issue_id == Issue.objects.get().pk


def test_feedback_about_no_event_is_stored_with_its_own_id_and_no_issue(client, fixture_project, drain):
    project, _ = fixture_project
    own_id = uuid.uuid4().hex
    feedback = {"event_id": own_id, "type": "feedback", "contexts": {"feedback": {"message": "Love it"}}}
    post_envelope(client, project.id, _envelope("feedback", feedback, own_id))
    drain()
    report = UserReport.objects.get()
    assert (report.event_id, report.issue_id, report.comments) == (own_id, None, "Love it")
    assert not Issue.objects.exists()  # feedback is no error event


def test_reports_about_no_stored_event_expire_with_the_projects_retention(make_project, settings):
    from django.utils import timezone

    from feedback.tasks import expire_user_reports

    project, _ = make_project()
    project.retention_days = 7
    project.save(update_fields=["retention_days"])
    now = timezone.now()
    linked = prepared_event()
    store_events(project.id, [linked])
    store_user_reports(project.id, [prepared_report(linked.event_id)])  # linked: goes with its issue only
    old, fresh = uuid.uuid4().hex, uuid.uuid4().hex
    store_user_reports(project.id, [prepared_report(old, when=now - timedelta(days=8))])
    store_user_reports(project.id, [prepared_report(fresh, when=now - timedelta(days=6))])
    assert expire_user_reports() == 1
    assert set(UserReport.objects.values_list("event_id", flat=True)) == {linked.event_id, fresh}
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "feedback.tasks.expire_user_reports" in tasks
