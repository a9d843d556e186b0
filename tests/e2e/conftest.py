"""The live stack used by the end-to-end tests, on PostgreSQL and Redis like production."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import redis

from tests.e2e.stack import LiveStack, base_env, free_port, manage

E2E_REDIS_DB = 14


def _admin_url(database_url: str) -> tuple[str, str]:
    """(url of the server's maintenance db, url of a fresh e2e db) from DATABASE_URL."""
    base, _, _ = database_url.rpartition("/")
    name = f"lighttrace_e2e_{uuid.uuid4().hex[:8]}"
    return f"{base}/postgres", f"{base}/{name}"


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.fail("end-to-end tests need DATABASE_URL pointing at PostgreSQL (scripts/test.sh sets it)")
    admin_url, e2e_url = _admin_url(database_url)
    name = e2e_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    redis_url = f"{redis_base}/{E2E_REDIS_DB}"
    port = free_port()
    env = base_env(tmp_path_factory.mktemp("e2e-data"), port)
    # A key prefix of its own: runs on one machine (and the unit tests' Redis keys) never mix.
    env.update(DATABASE_URL=e2e_url, REDIS_URL=redis_url, REDIS_KEY_PREFIX=name)
    manage(env, "migrate", "--noinput")
    stack = LiveStack(
        url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "e2e-bot")
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{name}*"):
            client.delete(key)
