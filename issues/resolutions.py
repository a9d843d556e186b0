"""Resolving in a release (Sentry's GroupResolution): which release a resolve holds for, and which
events of a batch therefore do not regress the issue. The state changes themselves are made by
issues/lifecycle.py; this module only reads.

Sentry's semantics, by the order releases were created in the organization (`Release.date_added`):
- in the next release: an event of a release created after the resolve regresses the issue; an event
  of the release current at the time (or an older one) does not;
- in release R: an event of a release created after R regresses it; R and older releases do not.
An event without a release never regresses such an issue (Sentry: "from no release to some release"
means the event is older), and a version the organization does not know yet is created by this very
batch, so it is newer than any resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from projects.models import Organization
from releases.models import Release

from .models import IssueResolution


class ResolutionError(ValueError):
    """A resolve-in-release request that cannot be honoured (a 400 with this text)."""


@dataclass(frozen=True)
class ReleaseResolution:
    """`release` None means the next release."""

    release: Release | None = None

    @property
    def type(self) -> str:
        return (
            IssueResolution.Type.IN_NEXT_RELEASE if self.release is None else IssueResolution.Type.IN_RELEASE
        )

    def since(self):
        return timezone.now() if self.release is None else self.release.date_added

    def details(self) -> dict:
        """Sentry's statusDetails (also the `set_resolved_in_release` activity's `version`)."""
        return {"inNextRelease": True} if self.release is None else {"inRelease": self.release.version}


def parse_resolution(status: object, details: dict, organization: Organization) -> ReleaseResolution | None:
    """Sentry's `resolvedInNextRelease` status, or `statusDetails.inNextRelease` / `inRelease`
    (a version of the organization; `latest` is its newest release)."""
    if details.get("inCommit"):
        raise ResolutionError("inCommit is not supported: LightTrace does not track commits")
    if details.get("inUpcomingRelease"):  # Sentry's too answers 400 without its feature flag
        raise ResolutionError("inUpcomingRelease is not supported: use inNextRelease or inRelease")
    if status == "resolvedInNextRelease" or details.get("inNextRelease"):
        return ReleaseResolution()
    version = details.get("inRelease")
    if version in (None, ""):
        return None
    releases = Release.objects.filter(organization=organization)
    if version == "latest":
        found = releases.order_by("-date_added", "-pk").first()
    else:
        found = releases.filter(version=version).first() if isinstance(version, str) else None
    if found is None:
        raise ResolutionError(f"inRelease: the organization has no release {version!r}")
    return ReleaseResolution(found)


def still_resolved(project_id: int, versions_by_issue: dict[int, set[str]]) -> set[int]:
    """Issues among the keys resolved in a release that none of their new events' versions reopens
    (releases of the project's organization).
    Two queries for the whole batch, one when no issue of it is resolved in a release."""
    if not versions_by_issue:
        return set()
    since = dict(
        IssueResolution.objects.filter(
            issue_id__in=sorted(versions_by_issue), issue__status="resolved"
        ).values_list("issue_id", "since")
    )
    if not since:
        return set()
    wanted = sorted({v for i in since for v in versions_by_issue[i] if v})
    created = dict(
        Release.objects.filter(organization__projects=project_id, version__in=wanted).values_list(
            "version", "date_added"
        )
    )
    return {
        issue_id
        for issue_id, moment in since.items()
        if all(not v or (v in created and created[v] <= moment) for v in versions_by_issue[issue_id])
    }
