"""A live LightTrace (`manage.py serve`) wired to a real SMTP server and a real HTTP receiver, on
PostgreSQL + Redis or on the embedded default: the alert end-to-end tests and bench/alert_latency.py
use it. Users alice and bob (with addresses) are members of the project's team."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.stack import LiveStack, base_env, free_port, manage, migrate

ORG, PROJECT = "e2e", "shop"
ALERT_REDIS_DB = 12


def _postgres_base() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url.rsplit("/", 1)[0]
    return "postgres://postgres@127.0.0.1:5432"


@contextlib.contextmanager
def alert_stack(
    mode: str, data_dir: Path, smtp_port: int, extra: dict | None = None
) -> Iterator[tuple[LiveStack, str]]:
    """(stack, dsn of e2e/shop). mode: "postgres" (PostgreSQL + Redis + Celery) or "embedded"."""
    import psycopg
    import redis

    port = free_port()
    env = base_env(data_dir, port)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    db_name = f"lighttrace_alerts_{uuid.uuid4().hex[:8]}"
    base = _postgres_base()
    redis_url = (
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + f"/{ALERT_REDIS_DB}"
    )
    if mode == "postgres":
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env.update(DATABASE_URL=f"{base}/{db_name}", REDIS_URL=redis_url, REDIS_KEY_PREFIX=db_name)
    env.update(
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        DEFAULT_FROM_EMAIL="alerts@lighttrace.test",
        ALERT_WEBHOOK_ALLOW_PRIVATE="true",
        DJANGO_SUPERUSER_PASSWORD="e2e-password-1",
        **(extra or {}),
    )
    stack = None
    try:
        migrate(env)
        for name in ("alice", "bob"):
            manage(env, "createsuperuser", "--noinput", "--username", name, "--email", f"{name}@example.com")
            dsn = manage(env, "create_project", ORG, PROJECT, "--platform", "python", "--owner", name)
        stack = LiveStack(
            url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "e2e-bot")
        )
        stack.start()
        yield stack, dsn
    finally:
        if stack is not None:
            stack.stop()
        if mode == "postgres":
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(match=f"{db_name}*"):
                client.delete(key)
