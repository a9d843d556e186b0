"""Factories for database tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from issues.eventinfo import user_identifiers, user_identity, user_tag
from issues.payload import encode_event_data
from issues.store import PreparedEvent

_counter = itertools.count()
BASE_TIME = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def prepared_event(
    *,
    hashes: list[str] | None = None,
    event_id: str | None = None,
    seconds: int | None = None,
    user: str = "",
    release: str = "1.0",
    level: str = "error",
    tags: list[tuple[str, str]] | None = None,
    title: str = "ValueError: boom",
    sdk_user: dict | None = None,
) -> PreparedEvent:
    """`sdk_user` is the event's `user` as an SDK sends it: it sets the user key, the identifiers
    and the `user` tag as the worker derives them (`user` then is ignored)."""
    when = BASE_TIME + timedelta(seconds=next(_counter) if seconds is None else seconds)
    event_id = event_id or uuid.uuid4().hex
    row_tags = tags if tags is not None else [("level", level), ("environment", "production")]
    identifiers: tuple = (None, None, None, None)
    payload: dict = {"event_id": event_id, "title": title, "tags": tags or []}
    if sdk_user is not None:
        user, identifiers = user_identity({"user": sdk_user}), user_identifiers({"user": sdk_user})
        row_tags = [*row_tags, ("user", (user_tag({"user": sdk_user}) or "")[:200])]
        payload.update(user=sdk_user, tags=row_tags)
    return PreparedEvent(
        event_id=event_id,
        timestamp=when,
        received=when,
        level=level,
        platform="python",
        type="error",
        title=title,
        culprit="app.views in handler",
        metadata={"type": "ValueError", "value": "boom"},
        release=release,
        environment="production",
        user_key=user,
        trace_id="",
        tags=row_tags,
        user=identifiers,
        hashes=hashes or ["a" * 32],
        config_id="newstyle:2023-01-11",
        data=encode_event_data(payload),
    )


def user_with_membership(project, username: str = "member", superuser: bool = False):
    from django.contrib.auth import get_user_model

    from projects.services import add_member

    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_superuser=superuser
    )
    add_member(project.organization, user)
    return user


def organization_with_roles(make_project):
    """acme/web with an owner (olivia), a manager (manny) and a member (mia); theirs/secret owned by
    an outsider (otto). Returns (project, key, users by name)."""
    from django.contrib.auth import get_user_model

    from projects.models import OrganizationMember
    from projects.services import create_project

    project, key = make_project()
    users = {}
    for name, role in (("olivia", "owner"), ("manny", "manager"), ("mia", "member")):
        users[name] = get_user_model().objects.create_user(username=name, password="pw")
        OrganizationMember.objects.create(organization=project.organization, user=users[name], role=role)
    users["otto"] = get_user_model().objects.create_user(username="otto", password="pw")
    create_project("theirs", "secret", owner=users["otto"])
    return project, key, users


def as_user(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


RICH_EVENT = {
    "event_id": "ab" * 16,
    "level": "error",
    "platform": "python",
    "title": "ZeroDivisionError: division by zero",
    "culprit": "shop.cart in total",
    "release": "shop@2.0",
    "environment": "production",
    "exception": {
        "values": [
            {
                "type": "ZeroDivisionError",
                "value": "division by zero <script>alert('exc')</script>",
                "mechanism": {"type": "excepthook", "handled": False},
                "stacktrace": {
                    "frames": [
                        {"filename": "lib/runner.py", "function": "run", "lineno": 3, "in_app": False},
                        {
                            "filename": "shop/cart.py",
                            "module": "shop.cart",
                            "function": "total",
                            "lineno": 42,
                            "pre_context": ["def total(items):"],
                            "context_line": "    return sum(items) / len(items)",
                            "post_context": [""],
                            "in_app": True,
                            "vars": {"items": "[]", "note": "<img src=x onerror=alert(1)>"},
                        },
                    ]
                },
            }
        ]
    },
    "breadcrumbs": {
        "values": [{"timestamp": 1795520000.5, "type": "http", "category": "http", "message": "GET /cart"}]
    },
    "user": {"id": "42", "email": "jane@example.com"},
    "request": {"url": "https://shop.example/cart", "method": "POST", "headers": [["User-Agent", "curl"]]},
    "tags": [["region", "eu-west-1"]],
    "contexts": {"runtime": {"type": "runtime", "name": "CPython", "version": "3.11.7"}},
    "extra": {"cart_id": "c-77"},
    "_grouping": {"config_id": "newstyle:2023-01-11", "hashes": ["a" * 32], "variants": []},
}


def rich_prepared_event(**overrides) -> PreparedEvent:
    event = prepared_event(**overrides)
    data = {**RICH_EVENT, "event_id": event.event_id}
    event.title = str(RICH_EVENT["title"])
    event.data = encode_event_data(data)
    return event


def clear_cache_of_this_run() -> None:
    """Empties the cache of this test run only. Django's `cache.clear()` on Redis is FLUSHDB: it
    would also wipe the login counters and streams of other runs sharing the Redis database."""
    from django.conf import settings
    from django.core.cache import cache

    if not settings.REDIS_URL:
        cache.clear()  # the embedded default's cache is this process's own
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=cache.make_key("*")):  # "<run's prefix>:1:*", the cache's own keys
        client.delete(key)


def prepared_report(event_id: str, comments: str = "It broke.", when: datetime | None = None, **fields):
    """A user report as the worker prepares it (feedback/records.py), received at `when`."""
    from feedback.records import PreparedReport

    return PreparedReport(
        event_id=event_id,
        name=fields.get("name", "Jane"),
        email=fields.get("email", "jane@example.com"),
        comments=comments,
        date_added=when or BASE_TIME,
    )
