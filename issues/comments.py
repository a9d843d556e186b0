"""Comments on issues: Sentry's `note` activities, written in Markdown and shown as sanitized HTML.

Markdown is rendered by markdown-it-py with raw HTML off, then the HTML goes through nh3 (the
Ammonia sanitizer) with a short list of tags and only http(s)/mailto links, so a comment can
format text but never run script, frame content or style the page.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from django.db import transaction
from django.utils import timezone

from .access import parse_id
from .models import Activity, Issue, IssueSubscription
from .participation import subscribe

MAX_NOTE_CHARS = 10_000
_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


DUPLICATE_WINDOW = timedelta(hours=1)


class CommentError(ValueError):
    """A comment that cannot be saved as sent (empty, too long, a repeat, or not the user's own)."""


class NotAuthor(CommentError):
    """Someone else's comment: the pages say so, the API answers 404 as Sentry's does."""


@lru_cache(maxsize=1)
def _markdown():
    """Loaded with the first comment shown (markdown-it and nh3: 3 MB resident the web process
    does not need before)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render_markdown(text: str) -> str:
    import nh3

    html = _markdown().render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}, "code": {"class"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def _clean_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise CommentError("a comment needs some text")
    if len(text) > MAX_NOTE_CHARS:
        raise CommentError(f"a comment has at most {MAX_NOTE_CHARS} characters")
    return text


@transaction.atomic
def add_note(issue: Issue, user, text: object) -> Activity:
    """The commenter is subscribed to the issue, unless they unsubscribed before. The same text by
    the same person within an hour is refused, as Sentry does (a form sent twice)."""
    data = {"text": _clean_text(text)}
    notes = Activity.objects.filter(issue=issue, type=Activity.Type.NOTE, user=user)
    if notes.filter(data__text=data["text"], created__gte=timezone.now() - DUPLICATE_WINDOW).exists():
        raise CommentError("You have already posted that comment.")
    note = Activity.objects.create(issue=issue, type=Activity.Type.NOTE, user=user, data=data)
    subscribe([issue.pk], user, IssueSubscription.Reason.COMMENT)
    return note


def _own_note(issue: Issue, note_id: object, user) -> Activity:
    note = Activity.objects.filter(issue=issue, type=Activity.Type.NOTE, pk=parse_id(note_id) or -1).first()
    if note is None:
        raise Activity.DoesNotExist("No such comment")
    if note.user_id != user.pk:
        raise NotAuthor("only its author can change a comment")
    return note


def edit_note(issue: Issue, note_id: object, user, text: object) -> Activity:
    note = _own_note(issue, note_id, user)
    note.data = {**note.data, "text": _clean_text(text)}
    note.edited = timezone.now()
    note.save(update_fields=["data", "edited"])
    return note


@transaction.atomic
def delete_note(issue: Issue, note_id: object, user) -> None:
    """Deleting one's last comment ends the subscription that commenting made (Sentry's rule); a
    subscription for another reason, or an explicit choice, stays."""
    _own_note(issue, note_id, user).delete()
    if not Activity.objects.filter(issue=issue, type=Activity.Type.NOTE, user=user).exists():
        IssueSubscription.objects.filter(
            issue=issue, user=user, reason=IssueSubscription.Reason.COMMENT, is_active=True
        ).delete()
