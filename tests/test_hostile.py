"""Hostile input: every request gets a 4xx with a reason (never a 5xx), the worker survives whatever was
accepted, and valid data beside bad data is kept."""

import json
import resource
import uuid
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.buffer import get_buffer
from issues.models import Attachment, Event
from tests.conftest import FIXTURE_KEY, make_event_envelope, post_envelope

pytestmark = pytest.mark.django_db
OK_OR_CLIENT_ERROR = {200, 400, 401, 403, 413, 415, 429}
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
# Only what JSON can carry (json.dumps writes inf as the non-JSON "Infinity").
strict_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
EVENT_FIELDS = [
    "event_id", "timestamp", "level", "platform", "logger", "release", "environment", "dist", "server_name",
    "transaction", "tags", "extra", "contexts", "user", "request", "sdk", "exception", "breadcrumbs", "threads",
    "fingerprint", "message", "logentry", "modules", "stacktrace", "culprit", "_meta", "errors",
]  # fmt: skip


def _line(value) -> bytes:
    return json.dumps(value).encode()


@st.composite
def envelopes(draw) -> bytes:
    parts = [
        _line(draw(st.dictionaries(st.sampled_from(["event_id", "dsn", "sent_at"]), json_values, max_size=2)))
    ]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(["event", "attachment", "session", "log", "client_report", "weird", None])
        )
        payload = draw(st.one_of(st.binary(max_size=60), json_values.map(_line)))
        header = {"type": kind} if kind else {}
        if draw(st.booleans()):
            header["length"] = draw(
                st.one_of(st.just(len(payload)), st.integers(-5, 200), st.text(max_size=3))
            )
        parts += [_line(header), payload]
    body = b"\n".join(parts)
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return body


@EXAMPLES
@given(body=envelopes())
def test_arbitrary_envelopes_never_get_a_5xx_and_the_worker_survives_them(client, fixture_project, body):
    project, _ = fixture_project
    response = post_envelope(client, project.id, body)
    assert response.status_code in OK_OR_CLIENT_ERROR
    if response.status_code != 200:
        assert response.json()["detail"]
    from ingest.tasks import drain_ingest_buffer

    drain_ingest_buffer.run()
    assert get_buffer().depth() == 0


@EXAMPLES
@given(
    body=st.binary(max_size=300), encoding=st.sampled_from([None, "gzip", "deflate", "br", "zstd", "bogus"])
)
def test_arbitrary_bytes_in_any_encoding(client, fixture_project, body, encoding):
    project, _ = fixture_project
    assert post_envelope(client, project.id, body, encoding=encoding).status_code in OK_OR_CLIENT_ERROR


@EXAMPLES
@given(field=st.sampled_from(EVENT_FIELDS), value=strict_json_values, store=st.booleans())
def test_wrong_types_in_every_event_field_are_kept(
    client, fixture_project, clean_buffer, field, value, store
):
    """Any value in any field: 200 on both endpoints, and the event is stored (Relay keeps it too)."""
    from ingest.tasks import drain_ingest_buffer

    project, _ = fixture_project
    event_id = uuid.uuid4().hex
    event = {"message": "base", field: value}
    if store:
        auth = {"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=" + FIXTURE_KEY + ", sentry_version=7"}
        body = json.dumps({"event_id": event_id, **event})
        response = client.post(
            f"/api/{project.id}/store/", data=body, content_type="application/json", **auth
        )
    else:
        response = post_envelope(client, project.id, make_event_envelope(event, event_id))
    assert response.status_code == 200, response.content
    drain_ingest_buffer.run()
    assert Event.objects.filter(project=project).count() == 1
    Event.objects.all().delete()


def test_deeply_nested_json_is_400(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    deep = b"[" * 100_000 + b"]" * 100_000
    body = b'{}\n{"type":"event"}\n{"extra":' + deep + b"}"
    response = post_envelope(client, project.id, body)
    assert response.status_code == 400 and "JSON" in response.json()["causes"][0]


def test_hundred_thousand_breadcrumbs(client, fixture_project, drain):
    project, _ = fixture_project
    crumbs = [{} for _ in range(100_000)]  # small enough to pass the 1 MiB event cap
    response = post_envelope(
        client, project.id, make_event_envelope({"message": "m", "breadcrumbs": crumbs}, "a" * 32)
    )
    assert response.status_code == 200
    drain()
    assert Event.objects.get().event_id == "a" * 32
    big = [{"message": "crumb"} for _ in range(100_000)]
    too_big = post_envelope(client, project.id, make_event_envelope({"message": "m", "breadcrumbs": big}))
    assert too_big.status_code == 413


def test_nul_bytes_and_extreme_values_are_stored(client, fixture_project, drain):
    project, _ = fixture_project
    event = {
        "message": "nul \x00 inside",
        "exception": {"values": [{"type": "Boom\x00", "value": "v\x00"}]},
        "tags": {"k\x00": "v\x00"},
        "release": "r\x00",
        "timestamp": 1e308,
        "extra": {"big": 10**30, "neg": -(10**30)},
    }
    assert post_envelope(client, project.id, make_event_envelope(event, "b" * 32)).status_code == 200
    drain()
    stored = Event.objects.get(event_id="b" * 32)
    assert "\x00" not in stored.release and stored.issue.title


def test_one_gigabyte_gzip_bomb_is_refused_without_growing(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = b"\0" * (1 << 24)
    bomb = b"".join(compressor.compress(chunk) for _ in range(64)) + compressor.flush()  # 1 GiB inflated
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = post_envelope(client, project.id, bomb, encoding="gzip")
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert response.status_code == 413
    assert grown_mib < 100, f"peak RSS grew by {grown_mib:.0f} MiB"


def test_valid_items_beside_bad_ones_are_stored(client, fixture_project, drain):
    project, _ = fixture_project
    body = (
        b'{"event_id":"' + b"c" * 32 + b'"}\n'
        b'{"type":"event"}\n{"message": "ok"}\n'
        b'{"type":"session"}\n{broken\n'
        b'{"type":"attachment","length":3,"filename":"a.txt"}\nabc\n'
    )
    response = post_envelope(client, project.id, body)
    assert response.status_code == 400 and response.json()["id"] == "c" * 32
    drain()
    assert Event.objects.filter(event_id="c" * 32).exists()
    assert Attachment.objects.filter(event_id="c" * 32, name="a.txt").exists()
