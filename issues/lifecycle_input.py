"""What a client may ask the issue lifecycle for, validated in one place before issues/lifecycle.py
acts on it: a status (Sentry's words and sentry-cli's `muted`), the release a resolve holds for,
and an assignee (ignore conditions are parsed in issues/ignores.py). Each refusal is a
LifecycleError with a message for the person who asked (a 400 in the API)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q

from projects.models import Organization, OrganizationMember, Team

from .access import parse_id
from .ignores import LifecycleError
from .models import Issue
from .resolutions import ReleaseResolution, ResolutionError
from .resolutions import parse_resolution as parse_resolution_details

Status = Issue.Status

# What a client may ask for; `muted` is sentry-cli's (and old Sentry's) word for ignored.
STATUS_WORDS = {"resolved": Status.RESOLVED, "unresolved": Status.UNRESOLVED, "ignored": Status.IGNORED}
STATUS_WORDS["muted"] = Status.IGNORED
STATUS_WORDS["resolvedInNextRelease"] = Status.RESOLVED  # with a ReleaseResolution (parse_resolution)
RELEASE_DETAILS = ("inRelease", "inNextRelease", "inCommit", "inUpcomingRelease")


def parse_status(value: object) -> str:
    """The single validation of a requested status (pending deletion is never one: only delete()
    sets it)."""
    if not isinstance(value, str) or value not in STATUS_WORDS:
        raise LifecycleError(
            f"unknown status {value!r}: use resolved, resolvedInNextRelease, unresolved or ignored"
        )
    return STATUS_WORDS[value]


def parse_resolution(value: object, details: dict, organization: Organization) -> ReleaseResolution | None:
    """The release a resolve holds for (None: a plain resolve); release details on any other
    status are refused rather than dropped."""
    if parse_status(value) != Status.RESOLVED:
        if any(details.get(k) for k in RELEASE_DETAILS):
            raise LifecycleError(
                "inRelease, inNextRelease, inUpcomingRelease and inCommit go with status resolved"
            )
        return None
    try:
        return parse_resolution_details(value, details, organization)
    except ResolutionError as exc:
        raise LifecycleError(str(exc)) from exc


def find_assignee(organization: Organization, value: object):
    """A user or team of the organization from Sentry's `assignedTo` (`user:ID`, `team:ID` or
    `team:slug`, a username or email); empty means unassign (None)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise LifecycleError("assignedTo must be a string")
    kind, _, ref = value.partition(":")
    if kind == "team" and ref:
        teams = Team.objects.filter(organization=organization)
        found = teams.filter(pk=parse_id(ref)).first() if parse_id(ref) is not None else None
        found = found or teams.filter(slug=ref).first()
    else:
        members = get_user_model().objects.filter(
            pk__in=OrganizationMember.objects.filter(organization=organization).values("user_id"),
            is_active=True,
        )
        if kind == "user" and ref:
            found = members.filter(pk=parse_id(ref)).first() if parse_id(ref) is not None else None
        else:
            found = members.filter(Q(username=value) | Q(email__iexact=value)).order_by("pk").first()
    if found is None:
        raise LifecycleError(f"Unknown actor input: {value!r} is not a member or team of the organization")
    return found
