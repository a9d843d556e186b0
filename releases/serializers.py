"""Sentry's API shapes for releases, deploys and environments (camelCase, ids as Sentry types them)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .models import Deploy, Environment, Release, ReleaseProject


def iso(dt) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt else None


_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


def version_info(version: str) -> dict[str, Any]:
    """Sentry's reading of `package@version+build`; a commit hash is shortened to 12 characters."""
    package, sep, rest = version.partition("@")
    if not sep:
        package, rest = "", version
    raw, _, build = rest.partition("+")
    description = version[:12] if _COMMIT_SHA.match(version) else rest
    return {
        "package": package or None,
        "version": {"raw": raw},
        "description": description,
        "buildHash": version if _COMMIT_SHA.match(version) else (build or None),
    }


def serialize_deploy(deploy: Deploy) -> dict[str, Any]:
    return {
        "id": str(deploy.pk),
        "environment": deploy.environment,
        "dateStarted": iso(deploy.date_started),
        "dateFinished": iso(deploy.date_finished),
        "name": deploy.name or None,
        "url": deploy.url or None,
    }


def serialize_releases(releases: Sequence[Release]) -> list[dict[str, Any]]:
    """A page of releases in two queries whatever its size: projects, then deploys (counted and
    the last one picked from the same rows)."""
    ids = [r.pk for r in releases]
    links: dict[int, list[ReleaseProject]] = defaultdict(list)
    for link in (
        ReleaseProject.objects.filter(release_id__in=ids).select_related("project").order_by("project__slug")
    ):
        links[link.release_id].append(link)
    deploy_counts: dict[int, int] = defaultdict(int)
    last_deploys: dict[int, Deploy] = {}
    for deploy in Deploy.objects.filter(release_id__in=ids).order_by("release_id", "-date_finished", "-id"):
        last_deploys.setdefault(deploy.release_id, deploy)
        deploy_counts[deploy.release_id] += 1
    return [_release(r, links[r.pk], deploy_counts.get(r.pk, 0), last_deploys.get(r.pk)) for r in releases]


def serialize_release(release: Release) -> dict[str, Any]:
    return serialize_releases([release])[0]


def _release(
    release: Release, links: list[ReleaseProject], deploys: int, last: Deploy | None
) -> dict[str, Any]:
    info = version_info(release.version)
    return {
        "id": release.pk,
        "version": release.version,
        "status": release.status,
        "shortVersion": info["description"],
        "versionInfo": info,
        "ref": release.ref or None,
        "url": release.url or None,
        "dateCreated": iso(release.date_added),
        "dateReleased": iso(release.date_released),
        "dateStarted": iso(release.date_started),
        "data": {},
        "newGroups": sum(link.new_groups for link in links),
        "owner": None,
        "commitCount": 0,
        "lastCommit": None,
        "deployCount": deploys,
        "lastDeploy": serialize_deploy(last) if last else None,
        "authors": [],
        "projects": [_project(link) for link in links],
        "firstEvent": iso(release.first_event),
        "lastEvent": iso(release.last_event),
        "currentProjectMeta": {},
        "userAgent": None,
    }


def _project(link: ReleaseProject) -> dict[str, Any]:
    project = link.project
    return {
        "id": project.pk,
        "slug": project.slug,
        "name": project.name,
        "newGroups": link.new_groups,
        "platform": project.platform or None,
        "platforms": [project.platform] if project.platform else [],
        "hasHealthData": False,
    }


def serialize_environment(environment: Environment) -> dict[str, Any]:
    return {"id": str(environment.pk), "name": environment.name, "isHidden": environment.is_hidden}
