"""Muting a project's alert mail for one user: from the rules page (logged in) or from the signed
one-click link in each alert mail (no login: the link itself says who and which project, signed
with SECRET_KEY so nobody can mute someone else). Recipients leave muted users out
(alerts/recipients.py), so a muted user gets no alert or summary mail from the project."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import AlertMute

SALT = "lighttrace.alerts.unsubscribe"


def token_for(user_id: int, project_id: int) -> str:
    return signing.dumps({"u": user_id, "p": project_id}, salt=SALT, compress=False)


def read_token(token: str) -> tuple[int, int] | None:
    """(user id, project id), or None for a token that was not made here or was altered."""
    try:
        data = signing.loads(token, salt=SALT)
        return int(data["u"]), int(data["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def url_for(user_id: int, project_id: int) -> str:
    return settings.LIGHTTRACE_URL + reverse("alert-unsubscribe", args=[token_for(user_id, project_id)])


def set_muted(user_id: int, project_id: int, muted: bool) -> None:
    if muted:
        AlertMute.objects.get_or_create(user_id=user_id, project_id=project_id)
    else:
        AlertMute.objects.filter(user_id=user_id, project_id=project_id).delete()


def is_muted(user_id: int, project_id: int) -> bool:
    return AlertMute.objects.filter(user_id=user_id, project_id=project_id).exists()
