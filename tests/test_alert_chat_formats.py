"""Teams, Mattermost and Google Chat webhook bodies: their documented shapes, the title first (the
notification preview), hostile event content inert; then each format through a real HTTP receiver
from an SDK-shaped event."""

# ruff: noqa: F811  (the fixture team_project is imported from tests/test_alerts.py)
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from alerts import rules
from alerts.chat_formats import (
    ZWSP,
    google_chat_body,
    google_chat_text,
    mattermost_body,
    mattermost_markdown,
    teams_body,
)
from tests.alert_servers import HttpReceiver
from tests.test_alerts import _rule, run_alerts, send_error, team_project  # noqa: F401

HOSTILE = (
    "@channel @all <users/all> <!here> [x](https://evil.example) <https://evil.example|x> "
    "*b* **b** _i_ ~s~ `c` {{DATE(2017-02-14T06:08:00Z)}} www.evil.example <b>html</b>"
)


@dataclass
class Content:
    headline: str = f"ERROR: ValueError: {HOSTILE}"
    title: str = f"ValueError: {HOSTILE}"
    why: str = f"A new issue: {HOSTILE}"
    level: str = "error"
    environment: str = "prod @here"
    release: str = "shop@1.0"
    permalink: str = "https://lighttrace.example/organizations/acme/projects/web/issues/7/"
    project_label: str = "acme/web"
    times_seen: int = 3
    user_count: int = 2


def _no_link_or_mention(text: str) -> None:
    assert "://" not in text.replace("https://lighttrace.example", "")
    assert not re.search(r"@(channel|all|here)\b", text) and "www.evil" not in text


def test_teams_is_a_workflows_message_with_an_adaptive_card():
    body = teams_body(Content())
    assert body["type"] == "message" and body["summary"].startswith("ERROR: ValueError: @channel")
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    _no_link_or_mention(body["summary"].replace("@channel", "").replace("@all", "").replace("@here", ""))
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    # Event text only in TextRuns (never Markdown); the headline is the first element.
    assert {element["type"] for element in card["body"]} == {"RichTextBlock"}
    runs = [inline for element in card["body"] for inline in element["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}
    assert runs[0]["text"].startswith("ERROR: ValueError: @channel") and runs[0]["weight"] == "Bolder"
    assert all("{{" not in run["text"] for run in runs) and "{" + ZWSP + "{DATE" in runs[0]["text"]
    assert "msteams" not in card  # no mention entities: "<at>" text mentions nobody
    (action,) = card["actions"]
    assert action == {"type": "Action.OpenUrl", "title": "Open issue", "url": Content.permalink}


def test_mattermost_text_starts_with_the_title_and_escapes_markdown_and_mentions():
    body = mattermost_body(Content())
    assert set(body) == {"text"}
    first, *rest = body["text"].split("\n")
    assert first.startswith("**ERROR\\: ValueError\\: \\@" + ZWSP + "channel")
    assert rest[-1] == f"[Open issue]({Content.permalink})"
    event_part = "\n".join([first, *rest[:-1]])
    _no_link_or_mention(event_part)
    assert "\\[x\\]\\(https\\:" in event_part and "\\*b\\*" in event_part and "\\<b\\>" in event_part
    assert "\\`c\\`" in event_part and "\\_i\\_" in event_part and "\\~s\\~" in event_part
    # Every punctuation character of event content is escaped (CommonMark backslash escapes).
    assert mattermost_markdown("a*b") == "a\\*b" and mattermost_markdown("@x") == "\\@" + ZWSP + "x"


def test_google_chat_has_title_text_and_a_cards_v2_card_with_nothing_live():
    body = google_chat_body(Content())
    assert body["text"].startswith("ERROR: ValueError: @channel @all <" + ZWSP + "users/all>")
    assert "<users/all>" not in body["text"] and "<https" not in body["text"]
    _no_link_or_mention(body["text"].replace("@channel", "").replace("@all", "").replace("@here", ""))
    assert "*" + ZWSP + "b*" + ZWSP in body["text"] and "`" + ZWSP + "c`" in body["text"]
    (card_with_id,) = body["cardsV2"]
    assert card_with_id["cardId"] == "alert"
    card = card_with_id["card"]
    assert (
        card["header"]["title"].startswith("ERROR: ValueError:") and card["header"]["subtitle"] == "acme/web"
    )
    (section,) = card["sections"]
    paragraphs = [w["textParagraph"]["text"] for w in section["widgets"] if "textParagraph" in w]
    assert all("<" not in text for text in paragraphs) and "&lt;b&gt;html&lt;/b&gt;" in paragraphs[0]
    assert all("://" not in text for text in paragraphs)
    (buttons,) = [w["buttonList"]["buttons"] for w in section["widgets"] if "buttonList" in w]
    assert buttons == [{"text": "Open issue", "onClick": {"openLink": {"url": Content.permalink}}}]
    assert google_chat_text("<users/all>") == "<" + ZWSP + "users/all>"


@pytest.mark.django_db(databases="__all__")  # the embedded buffer has its own database
@pytest.mark.parametrize("fmt", ["teams", "mattermost", "googlechat"])
def test_each_format_reaches_a_real_receiver(client, team_project, drain, settings, fmt):
    project, _ = team_project
    settings.ALERTS = {**settings.ALERTS, "WEBHOOK_ALLOW_PRIVATE": True}
    with HttpReceiver() as receiver:
        action = {"id": rules.WEBHOOK_ACTION, "url": receiver.url(f"/{fmt}"), "format": fmt}
        _rule(project, [{"id": rules.FIRST_SEEN}], [action])
        send_error(client, project, value="@channel <users/all> [x](https://evil.example)")
        drain()
        run_alerts()
    (request,) = receiver.requests
    assert request.path == f"/{fmt}" and request.headers["Content-Type"] == "application/json"
    body = request.json()
    raw = request.body.decode()
    assert "https://evil.example" not in raw  # no live link in any format
    if fmt == "teams":
        assert body["summary"] == f"ERROR: ValueError: @channel <users/all> [x](https:{ZWSP}//evil.example)"
    elif fmt == "mattermost":
        assert body["text"].startswith("**ERROR\\: ValueError\\: \\@" + ZWSP + "channel")
    else:
        assert body["text"].startswith("ERROR: ValueError: @channel <" + ZWSP + "users/all>")
        assert "<users/all>" not in raw
