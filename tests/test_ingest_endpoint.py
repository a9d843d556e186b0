"""The SDK endpoint: auth forms, encodings, framing errors, CORS and what it enqueues."""

import base64
import gzip
import io
import json
import zlib

import brotli
import pytest
import zstandard

from ingest.http import read_body
from ingest.protocol.errors import PayloadTooLarge
from ingest.record import decode_record
from tests.conftest import (
    FIXTURE_KEY,
    load_request,
    make_event_envelope,
    post_envelope,
    sdk_requests,
    wire_body,
)

pytestmark = pytest.mark.django_db

EVENT = {"message": "hello", "level": "error", "platform": "python"}


def _headers(request: dict) -> dict:
    environ = {}
    for name, value in request["headers"].items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_LENGTH", "HOST", "TRANSFER_ENCODING"):
            continue
        environ["CONTENT_TYPE" if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


@pytest.mark.parametrize("path", sdk_requests(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_captured_sdk_request_is_accepted(client, fixture_project, clean_buffer, path):
    request = load_request(path)
    project, _ = fixture_project
    url = f"/api/{project.id}/envelope/"
    if request["query"]:
        url += "?" + request["query"]
    response = client.post(url, data=wire_body(request), content_type="", **_headers(request))
    assert response.status_code == 200, response.content
    envelope_header = json.loads(request.get("body_text", "{}").split("\n", 1)[0] or "{}")
    if "event_id" in envelope_header:
        assert response.json() == {"id": envelope_header["event_id"]}
    assert clean_buffer.depth() == 1


def test_compressed_body_is_enqueued_still_compressed(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    body = gzip.compress(make_event_envelope(EVENT, "a" * 32))
    assert post_envelope(client, project.id, body, encoding="gzip").status_code == 200
    header, payload = decode_record(clean_buffer.take("t", 1)[0].payload)
    assert (header.content_encoding, payload, header.event_id) == ("gzip", body, "a" * 32)


@pytest.mark.parametrize(
    "encoding,compress",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_content_encodings(client, fixture_project, clean_buffer, encoding, compress):
    project, _ = fixture_project
    response = post_envelope(
        client, project.id, compress(make_event_envelope(EVENT, "b" * 32)), encoding=encoding
    )
    assert response.status_code == 200 and response.json() == {"id": "b" * 32}


def test_compression_bomb_is_refused_with_413(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    bomb = gzip.compress(b"\n" * (200 * 1024 * 1024), compresslevel=9)
    response = post_envelope(client, project.id, bomb, encoding="gzip")
    assert response.status_code == 413 and "detail" in response.json()
    assert clean_buffer.depth() == 0


def _sentry_auth(key=FIXTURE_KEY):
    return f"Sentry sentry_key={key}, sentry_version=7"


@pytest.mark.parametrize(
    "query,extra",
    [
        ("", {"HTTP_X_SENTRY_AUTH": _sentry_auth()}),
        ("", {"HTTP_AUTHORIZATION": _sentry_auth()}),
        ("", {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{FIXTURE_KEY}:".encode()).decode()}),
        (f"?sentry_key={FIXTURE_KEY}&sentry_version=7", {}),
    ],
    ids=["x-sentry-auth", "authorization-sentry", "authorization-basic", "query-string"],
)
def test_auth_forms(client, fixture_project, clean_buffer, query, extra):
    project, _ = fixture_project
    body = make_event_envelope(EVENT, "c" * 32)
    response = client.post(
        f"/api/{project.id}/envelope/{query}", data=body, content_type="text/plain", **extra
    )
    assert response.status_code == 200, response.content


def test_auth_from_dsn_in_envelope_header(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    header = {"event_id": "d" * 32, "dsn": f"http://{FIXTURE_KEY}@testserver/{project.id}"}
    body = json.dumps(header).encode() + b'\n{"type":"event"}\n' + json.dumps(EVENT).encode()
    response = client.post(f"/api/{project.id}/envelope/", data=body, content_type="text/plain")
    assert response.status_code == 200 and response.json() == {"id": "d" * 32}


def test_an_unknown_sender_is_refused_before_its_body_is_inflated(client, fixture_project, clean_buffer):
    """No key in headers or query: only the envelope's header line is inflated to look for a DSN, so
    what follows it (here: a stream that breaks after 1 MiB) is never decoded for a stranger."""
    import zlib

    project, _ = fixture_project
    start = json.dumps({"dsn": f"http://{'f' * 32}@testserver/{project.id}"}).encode() + b"\n"
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    body = compressor.compress(start + bytes(1024 * 1024)) + compressor.flush(zlib.Z_FULL_FLUSH) + b"garbage"
    response = client.post(
        f"/api/{project.id}/envelope/", data=body, content_type="text/plain", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 401, response.content
    no_dsn = client.post(f"/api/{project.id}/envelope/", data=b"not json\n{}", content_type="text/plain")
    assert no_dsn.status_code == 401


def test_missing_and_unknown_keys_are_401(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    body = make_event_envelope(EVENT)
    missing = client.post(f"/api/{project.id}/envelope/", data=body, content_type="text/plain")
    unknown = post_envelope(client, project.id, body, key="f" * 32)
    assert (missing.status_code, unknown.status_code) == (401, 401)
    assert missing.json()["detail"] and unknown.json()["detail"]
    assert clean_buffer.depth() == 0


def test_disabled_key_and_foreign_project_are_403(client, fixture_project, make_project, clean_buffer):
    project, key = fixture_project
    other, _ = make_project(slug="other")
    assert post_envelope(client, other.id, make_event_envelope(EVENT)).status_code == 403
    key.is_active = False
    key.save()
    from ingest.keys import clear_key_cache

    clear_key_cache()
    response = post_envelope(client, project.id, make_event_envelope(EVENT))
    assert response.status_code == 403 and "disabled" in response.json()["detail"]


def test_key_lookup_is_cached(client, fixture_project, clean_buffer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project, _ = fixture_project
    post_envelope(client, project.id, make_event_envelope(EVENT))
    with CaptureQueriesContext(connection) as queries:
        assert post_envelope(client, project.id, make_event_envelope(EVENT)).status_code == 200
    assert not [q["sql"] for q in queries if "projectkey" in q["sql"]]


@pytest.mark.redis
def test_with_redis_the_request_path_does_no_database_work(
    client, fixture_project, clean_buffer, django_assert_num_queries
):
    project, _ = fixture_project
    post_envelope(client, project.id, make_event_envelope(EVENT))
    with django_assert_num_queries(0):  # buffer and quota counters live in Redis, the key in the cache
        assert post_envelope(client, project.id, make_event_envelope(EVENT)).status_code == 200


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"", "empty"),
        (b'{"event_id": "x"\n{"type":"event"}\n{}', "header"),
        (b'{}\n{"type":"event","length":500}\n{"message":"short"}', "length"),
        (b'{}\n{"type":"event","length":2}\n{}xx', "length"),
        (b"{}\n\xff\xfe\n{}", "header"),
    ],
    ids=["empty", "bad-header-json", "truncated", "garbage-after-length", "invalid-utf8"],
)
def test_bad_framing_is_400_with_a_reason(client, fixture_project, clean_buffer, body, reason):
    project, _ = fixture_project
    response = post_envelope(client, project.id, body)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert clean_buffer.depth() == 0


def test_bad_item_is_reported_but_valid_items_beside_it_are_kept(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    body = (
        b'{"event_id":"' + b"e" * 32 + b'"}\n'
        b'{"type":"event"}\n{not json\n'
        b'{"type":"attachment","length":5,"filename":"a.txt"}\nhello\n'
        b'{"type":"session"}\n{"sid":"x","status":"ok","attrs":{"release":"1"}}\n'
    )
    response = post_envelope(client, project.id, body)
    assert response.status_code == 400
    assert "(event): invalid JSON" in response.json()["causes"][0]
    _, payload = decode_record(clean_buffer.take("t", 1)[0].payload)
    assert b"hello" in payload and b"not json" not in payload


def test_wrong_field_types_are_accepted_only_non_objects_are_refused(client, fixture_project, clean_buffer):
    # Like Relay: the worker drops and records wrong-typed values; the edge checks for a JSON object.
    project, _ = fixture_project
    response = post_envelope(client, project.id, make_event_envelope({"timestamp": [1, 2], "tags": 5}))
    assert response.status_code == 200 and clean_buffer.depth() == 1
    refused = post_envelope(client, project.id, b'{}\n{"type":"event"}\n[1, 2]\n')
    assert refused.status_code == 400
    assert "expected a JSON object, got array" in refused.json()["causes"][0]
    assert clean_buffer.depth() == 1


def test_unknown_item_types_are_skipped_not_fatal(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    body = b'{}\n{"type":"brand_new_thing"}\n{"x":1}\n{"type":"event"}\n' + json.dumps(EVENT).encode()
    assert post_envelope(client, project.id, body).status_code == 200


def test_get_is_405_and_preflight_allows_browsers(client, fixture_project):
    project, _ = fixture_project
    assert client.get(f"/api/{project.id}/envelope/").status_code == 405
    response = client.options(
        f"/api/{project.id}/envelope/",
        HTTP_ORIGIN="http://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://app.example"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "x-sentry-auth" in response["Access-Control-Allow-Headers"]


def test_answers_expose_rate_limit_headers_to_browsers(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    response = post_envelope(client, project.id, make_event_envelope(EVENT), HTTP_ORIGIN="http://app.example")
    assert response["Access-Control-Allow-Origin"] == "http://app.example"
    exposed = response["Access-Control-Expose-Headers"].lower()
    assert "x-sentry-rate-limits" in exposed and "retry-after" in exposed


def test_legacy_store_endpoint_accepts_json_and_base64_zlib(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    auth = {"HTTP_X_SENTRY_AUTH": _sentry_auth()}
    event = {**EVENT, "event_id": "f" * 32}
    plain = client.post(
        f"/api/{project.id}/store/", data=json.dumps(event), content_type="application/json", **auth
    )
    packed = base64.b64encode(zlib.compress(json.dumps({**event, "event_id": "1" * 32}).encode()))
    legacy = client.post(
        f"/api/{project.id}/store/", data=packed, content_type="application/octet-stream", **auth
    )
    assert plain.json() == {"id": "f" * 32} and legacy.json() == {"id": "1" * 32}
    assert clean_buffer.depth() == 2


def test_chunked_body_without_content_length_is_read_to_the_end():
    body = b"x" * 200_000
    environ = {"CONTENT_LENGTH": "", "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(body)}
    assert read_body(environ, 1_000_000) == body
    environ["wsgi.input"] = io.BytesIO(body)
    with pytest.raises(PayloadTooLarge):
        read_body(environ, 100_000)
    # Without Content-Length on a stream the server did not terminate, WSGI forbids reading on.
    assert read_body({"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(body)}, 1_000_000) == b""


def _wsgi(method: str, path: str, body: bytes = b"", query: str = "", **headers) -> tuple[str, dict, bytes]:
    from ingest.wsgi import application

    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        **{"HTTP_" + k.upper(): v for k, v in headers.items()},
    }  # fmt: skip
    answer: dict = {}
    chunks = application(environ, lambda status, hdrs: answer.update(status=status, headers=dict(hdrs)))
    return answer["status"], answer["headers"], b"".join(chunks)


def test_the_production_wsgi_path_serves_the_same_answers(fixture_project, clean_buffer):
    project, _ = fixture_project
    url = f"/api/{project.id}/envelope/"
    status, headers, body = _wsgi(
        "POST", url, gzip.compress(make_event_envelope(EVENT, "9" * 32)), f"sentry_key={FIXTURE_KEY}",
        CONTENT_ENCODING="gzip", ORIGIN="http://app.example",
    )  # fmt: skip
    assert status == "200 OK" and json.loads(body) == {"id": "9" * 32}
    assert headers["Access-Control-Allow-Origin"] == "http://app.example" and clean_buffer.depth() == 1
    assert _wsgi("OPTIONS", url)[1]["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert _wsgi("GET", url)[0] == "405 Method Not Allowed"
    status, _, body = _wsgi("POST", url, b"{}\n{broken", f"sentry_key={FIXTURE_KEY}")
    assert status == "400 Bad Request" and json.loads(body)["detail"]
    assert _wsgi("POST", url, make_event_envelope(EVENT))[0] == "401 Unauthorized"


def test_buffer_outage_is_503_with_retry_after(client, fixture_project, settings):
    from core.redis_client import get_redis
    from ingest.buffer import RedisStreamBuffer, get_buffer
    from ingest.quota_counters import get_counters

    project, _ = fixture_project
    caches = (get_buffer, get_counters, get_redis)
    for cached in caches:
        cached.cache_clear()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        assert isinstance(get_buffer(), RedisStreamBuffer)
        response = post_envelope(client, project.id, make_event_envelope(EVENT))
    finally:
        for cached in caches:
            cached.cache_clear()
    assert response.status_code == 503 and response["Retry-After"] == "60"
