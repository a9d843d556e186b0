"""Shared fixtures. Database tests run on the real engines configured by scripts/test.sh."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

# Fixtures kept beside the helpers they go with (latest_schema_afterwards: data-migration tests).
pytest_plugins = ["tests.migration_steps"]

FIXTURES = Path(__file__).parent / "fixtures" / "sdk"
FIXTURE_KEY = "0123456789abcdef0123456789abcdef"


def sdk_requests() -> list[Path]:
    return sorted(FIXTURES.glob("sentry.*/*.json"))


def load_request(path: Path) -> dict:
    return json.loads(path.read_text())


def wire_body(request: dict) -> bytes:
    if request.get("wire_body_base64"):
        return base64.b64decode(request["wire_body_base64"])
    if request.get("body_base64"):
        return base64.b64decode(request["body_base64"])
    return request["body_text"].encode()


def pytest_collection_modifyitems(config, items):
    """Tests for the other mode are deselected (reported as such, never skipped): `redis` and
    `postgresql` need those servers, `sqlite` the embedded default. On the embedded default the ingest
    buffer has a database of its own (ingest/db_router.py): every database test may use every
    configured database (on PostgreSQL that is just `default`)."""
    from django.conf import settings

    embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and not settings.REDIS_URL
    other_mode = {"redis", "postgresql"} if embedded else {"sqlite"}
    deselected = [item for item in items if other_mode & {mark.name for mark in item.iter_markers()}]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
    for item in items:
        marker = item.get_closest_marker("django_db")
        uses_db = {"db", "transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
        if marker is None and not uses_db:
            continue
        kwargs = dict(marker.kwargs) if marker else {}
        if "databases" not in kwargs:
            kwargs.setdefault("transaction", bool(marker and marker.args and marker.args[0]))
            item.add_marker(pytest.mark.django_db(**kwargs, databases="__all__"))


@pytest.fixture(scope="session", autouse=True)
def _remove_redis_keys_of_this_run():
    """Kicked drain tasks and streams of this run live under its own key prefix; remove them at the end."""
    yield
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        redis_url = settings.REDIS_URL
    except ImproperlyConfigured:  # pure suites may run without Django (-p no:django)
        return
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        # "prefix:" and "prefix-" (tests' own sub-prefixes), never "prefix*": that would also take
        # the keys of a concurrent run whose prefix merely begins the same (pid 1302 vs 13023).
        for pattern in (f"{settings.REDIS_KEY_PREFIX}:*", f"{settings.REDIS_KEY_PREFIX}-*"):
            for key in client.scan_iter(match=pattern):
                client.delete(key)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """Django's PBKDF2 costs about 0.3 s per password set or checked (seconds on a busy machine), and
    the tests make and log in hundreds of users: a cheap hasher here, as Django's testing docs advise.
    The live stacks of tests/e2e (their own processes) keep the real one; no test is about the hasher."""
    from django.conf import settings
    from django.test.utils import override_settings

    if not settings.configured:  # pure suites may run without Django (-p no:django)
        yield
        return
    # The real ones stay behind it: passwords set by a `manage.py` subprocess still verify.
    fast_first = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=fast_first):
        yield


@pytest.fixture(autouse=True)
def _fresh_caches():
    from ingest.keys import clear_key_cache
    from ingest.project_config import clear_project_config_cache

    clear_key_cache()
    clear_project_config_cache()
    yield
    clear_key_cache()
    clear_project_config_cache()


@pytest.fixture
def clean_buffer():
    """Empties the ingest buffer (a Redis stream or a table) before and after a test."""
    from django.conf import settings

    from ingest.buffer import get_buffer

    def wipe():
        buffer = get_buffer()
        if settings.REDIS_URL:
            buffer.client.delete(buffer.stream)
            buffer._group_ready = False

    wipe()
    yield get_buffer()
    wipe()


@pytest.fixture
def database_proxy(transactional_db):
    """Django's connection goes through a TCP proxy to PostgreSQL that the test can cut and restore:
    a real database outage, while the server itself (shared with other runs) stays up."""
    from django.db import connection

    from tests.tcp_proxy import TcpProxy

    saved = {name: connection.settings_dict[name] for name in ("HOST", "PORT")}
    proxy = TcpProxy(saved["HOST"] or "127.0.0.1", int(saved["PORT"] or 5432))
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    yield proxy
    proxy.restore()
    connection.close()
    connection.settings_dict.update(saved)
    proxy.close()


@pytest.fixture
def make_project(db):
    from projects.services import create_project

    def make(org: str = "acme", slug: str = "web", platform: str = "python", public_key: str | None = None):
        project, key = create_project(org, slug, platform=platform)
        if public_key:
            key.public_key = public_key
            key.save(update_fields=["public_key"])
        return project, key

    return make


@pytest.fixture
def fixture_project(make_project):
    """A project whose key is the one the SDK fixtures were captured with."""
    return make_project(public_key=FIXTURE_KEY)


@pytest.fixture
def drain(clean_buffer):
    """Runs the worker's drain synchronously, as a Celery worker would."""
    from ingest.tasks import drain_ingest_buffer, reset_drain_state

    reset_drain_state()  # no backoff or stop left over from another test

    def run() -> int:
        return drain_ingest_buffer.run()

    return run


def post_envelope(
    client, project_id: int, body: bytes, *, key: str = FIXTURE_KEY, encoding: str | None = None, **extra
):
    headers = {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=test/1.0"}
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    headers.update(extra)
    return client.post(
        f"/api/{project_id}/envelope/", data=body, content_type="application/x-sentry-envelope", **headers
    )


def make_event_envelope(event: dict, event_id: str | None = None) -> bytes:
    header = {"event_id": event_id} if event_id else {}
    payload = json.dumps(event).encode()
    return b"\n".join([json.dumps(header).encode(), json.dumps({"type": "event"}).encode(), payload]) + b"\n"
