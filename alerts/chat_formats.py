"""Webhook bodies for Microsoft Teams (Workflows, an Adaptive Card), Mattermost (incoming webhook,
Markdown) and Google Chat (incoming webhook, `text` and `cardsV2`). Pure: no Django.

Each puts the issue's headline first, where the chat's notification preview reads it (Teams: the
activity's `summary` and the card's first element; Mattermost: the first line of `text`; Google
Chat: `text` and the card header's title).

Event content is untrusted. Per format:
- Teams: event content only in `RichTextBlock` `TextRun`s, which Adaptive Cards never read as
  Markdown (`TextBlock` and `FactSet` do); mentions need `msteams.entities`, which we never send;
  `{{` is split so no `{{DATE(..)}}` function runs, and URLs are broken (below) so none is autolinked.
- Mattermost: every ASCII punctuation character is backslash-escaped (CommonMark), `@` is followed
  by a zero-width space (no `@channel`, `@all`, `@here` or `@user` mention) and so are `://` and
  `www.` (no autolinked URL).
- Google Chat: Chat's text markup has no escape character, so a zero-width space follows each of
  `< * _ ~ `` ` `` and `://`, `www.`: no `<users/all>` mention, `<url|text>` link, formatting or
  autolink; in the card, `textParagraph` HTML is escaped and links broken the same way.
"""

from __future__ import annotations

import html
import re
from typing import Any, Protocol

ZWSP = "\u200b"
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # ASCII punctuation, all escapable in CommonMark
_LINKISH = re.compile(r"(://|www\.)", re.IGNORECASE)


class Content(Protocol):
    @property
    def headline(self) -> str: ...

    title: str
    why: str
    level: str
    environment: str
    release: str
    permalink: str
    project_label: str
    times_seen: int
    user_count: int


def _break_links(text: str) -> str:
    return _LINKISH.sub(lambda m: m.group(1)[:1] + ZWSP + m.group(1)[1:], text)


def mattermost_markdown(text: str) -> str:
    escaped = _PUNCTUATION.sub(r"\\\1", _break_links(text))
    return escaped.replace("@", "@" + ZWSP)


def google_chat_text(text: str) -> str:
    return re.sub(r"([<*_~`])", "\\1" + ZWSP, _break_links(text))


def teams_text(text: str) -> str:
    return _break_links(text).replace("{{", "{" + ZWSP + "{")


def _facts(c: Content) -> list[tuple[str, str]]:
    return [
        ("Project", c.project_label),
        ("Level", c.level),
        ("Events", str(c.times_seen)),
        ("Users", str(c.user_count)),
        ("Environment", c.environment or "-"),
        ("Release", c.release or "-"),
    ]


def teams_body(c: Content) -> dict[str, Any]:
    def run(text: str, **style: Any) -> dict[str, Any]:
        inline = {"type": "TextRun", "text": teams_text(text), **style}
        return {"type": "RichTextBlock", "inlines": [inline]}

    facts = [run(f"{name}: {value}", isSubtle=True) for name, value in _facts(c)]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "fallbackText": teams_text(c.headline),
        "body": [run(c.headline[:250], size="Large", weight="Bolder"), run(c.why[:3000]), *facts],
        "actions": [{"type": "Action.OpenUrl", "title": "Open issue", "url": c.permalink}],
    }
    return {
        "type": "message",
        "summary": teams_text(c.headline[:250]),
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def mattermost_body(c: Content) -> dict[str, Any]:
    lines = [f"**{mattermost_markdown(c.headline[:250])}**", mattermost_markdown(c.why[:3000])]
    lines.append(" · ".join(f"{name}: {mattermost_markdown(value)}" for name, value in _facts(c)))
    lines.append(f"[Open issue]({c.permalink})")
    return {"text": "\n".join(lines)}


def google_chat_body(c: Content) -> dict[str, Any]:
    def paragraph(text: str) -> dict[str, Any]:
        return {"textParagraph": {"text": html.escape(_break_links(text))}}

    facts = [paragraph(f"{name}: {value}") for name, value in _facts(c)]
    button = {"text": "Open issue", "onClick": {"openLink": {"url": c.permalink}}}
    card = {
        "header": {
            "title": google_chat_text(c.headline[:200]),
            "subtitle": google_chat_text(c.project_label[:200]),
        },
        "sections": [{"widgets": [paragraph(c.why[:3000]), *facts, {"buttonList": {"buttons": [button]}}]}],
    }
    return {"text": google_chat_text(c.headline[:250]), "cardsV2": [{"cardId": "alert", "card": card}]}


BODIES = {"teams": teams_body, "mattermost": mattermost_body, "googlechat": google_chat_body}
