"""Webhook bodies: Sentry's issue-alert webhook (generic JSON, signed), Slack and Discord (Teams,
Mattermost and Google Chat are in chat_formats.py).

Generic JSON: the body is Sentry's `event_alert` webhook (`action`, `data.event`,
`data.triggered_rule`, `data.issue_alert`, `actor`) plus a top-level `timestamp` (Unix seconds), and
`Sentry-Hook-Signature` is the hex HMAC-SHA256 of the exact body bytes with the webhook's secret.
As the timestamp is inside the signed body, a receiver that checks the signature and rejects
timestamps older than a few minutes cannot be fed a replayed delivery. `Sentry-Hook-Timestamp` and
`Sentry-Hook-Resource: event_alert` are set as Sentry sets them.

Event content is escaped for each chat's markup, so an exception message can never add a link, a
mention or formatting: Slack gets plain_text blocks and `&<>` escaped in mrkdwn; Discord gets
Markdown escaped and `allowed_mentions` empty.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any

from . import chat_formats
from .content import AlertContent

LEVEL_COLORS = {"fatal": 0xD1453B, "error": 0xE03E2F, "warning": 0xF5A623, "info": 0x2F80ED}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request_for(fmt: str, secret: str, content: AlertContent) -> tuple[bytes, dict[str, str]]:
    if fmt == "slack":
        return _dump(slack_body(content)), {}
    if fmt == "discord":
        return _dump(discord_body(content)), {}
    if fmt in chat_formats.BODIES:
        return _dump(chat_formats.BODIES[fmt](content)), {}
    now = int(time.time())
    body = _dump(sentry_body(content, now))
    headers = {
        "Request-ID": uuid.uuid4().hex,
        "Sentry-Hook-Resource": "event_alert",
        "Sentry-Hook-Timestamp": str(now),
        "Sentry-Hook-Signature": sign(secret, body),
    }
    return body, headers


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sentry_body(c: AlertContent, timestamp: int) -> dict[str, Any]:
    event = {
        "event_id": c.event_id,
        "issue_id": str(c.issue_id),
        "title": c.title,
        "culprit": c.culprit,
        "level": c.level,
        "platform": c.platform,
        "environment": c.environment or None,
        "release": c.release or None,
        "tags": [[k, v] for k, v in c.tags],
        "exception": {"values": [{"type": c.exception_type, "value": c.exception_value}]}
        if c.exception_type
        else None,
        "web_url": c.permalink,
        "issue_url": c.issue_api_url,
        "url": c.issue_api_url,
        "datetime": c.last_seen,
    }
    return {
        "action": "triggered",
        "installation": {"uuid": c.installation},
        "data": {
            "event": event,
            "triggered_rule": c.rule_name,
            "issue_alert": {"id": c.rule_id, "title": c.rule_name, "settings": []},
        },
        "actor": {"type": "application", "id": "lighttrace", "name": "LightTrace"},
        "timestamp": timestamp,
    }


def slack_mrkdwn(text: str) -> str:
    """Slack's three control characters; with them escaped no <!channel>, <@U..> or <url|x> exists."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(c: AlertContent) -> dict[str, Any]:
    headline = c.headline[:150]
    facts = f"*{slack_mrkdwn(c.project_label)}* · {c.level} · {c.times_seen} events · {c.user_count} users"
    if c.environment:
        facts += f" · env {slack_mrkdwn(c.environment)}"
    return {
        "text": headline,  # the notification preview
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline, "emoji": False}},
            {"type": "section", "text": {"type": "plain_text", "text": c.why[:3000], "emoji": False}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": facts[:3000]}]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open issue"},
                        "url": c.permalink,
                    }
                ],
            },
        ],
    }


_DISCORD_SPECIAL = re.compile(r"([\\*_~`|>\[\]()#:<@-])")


def discord_markdown(text: str) -> str:
    return _DISCORD_SPECIAL.sub(r"\\\1", text)


def discord_body(c: AlertContent) -> dict[str, Any]:
    return {
        "content": discord_markdown(c.headline[:1900]),
        "allowed_mentions": {"parse": []},
        "embeds": [
            {
                "title": c.title[:256],
                "url": c.permalink,
                "description": discord_markdown(c.why)[:4000],
                "color": LEVEL_COLORS.get(c.level, 0x808080),
                "fields": [
                    {"name": "Events", "value": str(c.times_seen), "inline": True},
                    {"name": "Users", "value": str(c.user_count), "inline": True},
                    {"name": "Environment", "value": discord_markdown(c.environment or "-"), "inline": True},
                ],
            }
        ],
    }
