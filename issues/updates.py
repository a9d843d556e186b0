"""Sentry's issue update body (`PUT /issues/{id}/` and the bulk endpoints): validated whole before
anything changes, then applied through issues/lifecycle.py and issues/participation.py.

Fields: `status` (resolved, resolvedInNextRelease, unresolved, ignored, muted), `substatus`
(archived_until_escalating), `statusDetails` (inNextRelease, inRelease, ignoreDuration,
ignoreCount, ignoreWindow, ignoreUserCount, ignoreUserWindow), `assignedTo`, `hasSeen`, `isBookmarked`,
`isSubscribed`, `merge`, `inbox` (false: mark reviewed; true: back into the review inbox). An
unknown field is ignored, as in Sentry; a known one with a value that cannot be honoured is a
LifecycleError (400), never silently dropped: so is Sentry's `priority`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projects.models import Organization

from . import lifecycle, participation
from .lifecycle import IgnoreCondition, LifecycleError
from .models import Issue
from .resolutions import ReleaseResolution
from .serializers import serialize_user

_UNSET = object()
FLAGS = {"hasSeen": participation.set_seen, "isBookmarked": participation.set_bookmarked}
FLAGS["isSubscribed"] = participation.set_subscribed


@dataclass
class IssueUpdate:
    status: str | None = None
    condition: IgnoreCondition | None = None
    resolution: ReleaseResolution | None = None
    assignee: Any = _UNSET
    flags: dict[str, bool] = field(default_factory=dict)
    merge: bool = False
    inbox: bool | None = None

    @property
    def changes_status_only(self) -> bool:
        return self.assignee is _UNSET and not self.flags and not self.merge and self.inbox is None

    @property
    def empty(self) -> bool:
        return self.status is None and self.changes_status_only


def parse_update(body: object, organization: Organization) -> IssueUpdate:
    if not isinstance(body, dict):
        raise LifecycleError("the body must be a JSON object")
    update = IssueUpdate()
    if "status" in body:
        update.status = lifecycle.parse_status(body["status"])
        details = body.get("statusDetails") or {}
        if not isinstance(details, dict):
            raise LifecycleError("statusDetails must be an object")
        update.resolution = lifecycle.parse_resolution(body["status"], details, organization)
        if update.status == Issue.Status.IGNORED:
            update.condition = lifecycle.parse_ignore_condition(details, body.get("substatus"))
    if "priority" in body:  # Sentry's field; here the level decides it (serializers.issue_priority)
        raise LifecycleError(
            "priority cannot be set: it follows the level (high for error and fatal, and while "
            "escalating; medium for warning; low for info and debug)"
        )
    if "assignedTo" in body:
        update.assignee = lifecycle.find_assignee(organization, body["assignedTo"])
    for name in FLAGS:
        if name in body:
            if not isinstance(body[name], bool):
                raise LifecycleError(f"{name} must be true or false")
            update.flags[name] = body[name]
    if body.get("merge") not in (None, False, 0, "0", "false"):
        update.merge = True
    if body.get("inbox") is not None:
        if not isinstance(body["inbox"], bool):
            raise LifecycleError("inbox must be true or false")
        update.inbox = body["inbox"]
    return update


def apply_update(update: IssueUpdate, issues: list[Issue], user) -> dict[str, Any]:
    """Applies `update` to `issues` (already scoped to what `user` may see); returns Sentry's
    answer body: the fields that were set."""
    ids = [i.pk for i in issues]
    result: dict[str, Any] = {}
    if update.merge:
        if len(issues) < 2:
            raise LifecycleError("merging needs at least two issues")
        parent, children = lifecycle.merge(issues, user)
        result["merge"] = {"parent": str(parent.pk), "children": [str(c.pk) for c in children]}
        ids = [parent.pk]
    if update.status is not None:
        lifecycle.set_status(ids, user, update.status, update.condition, update.resolution)
        result["status"] = update.status
        result["statusDetails"] = _details(update)
        if update.status != Issue.Status.UNRESOLVED:
            result["inbox"] = None  # resolving and ignoring take issues out of it (Sentry's answer)
    if update.assignee is not _UNSET:
        lifecycle.assign(ids, user, update.assignee)
        result["assignedTo"] = _assignee(update.assignee)
    for name, on in update.flags.items():
        FLAGS[name](ids, user, on)
        result[name] = on
    if update.inbox is not None:
        (lifecycle.add_to_inbox if update.inbox else lifecycle.mark_reviewed)(ids, user)
        result["inbox"] = update.inbox
    return result


def _details(update: IssueUpdate) -> dict[str, Any]:
    if update.resolution is not None:
        return update.resolution.details()
    return update.condition.details() if update.condition else {}


def _assignee(assignee) -> dict | None:
    if assignee is None:
        return None
    if hasattr(assignee, "get_username"):
        return {"type": "user", **(serialize_user(assignee) or {})}
    return {"type": "team", "id": str(assignee.pk), "name": assignee.slug}
