"""Release pages: a project's releases, and one release with the issues first seen in it.

They live beside the issue pages because a release's page lists issues (issues import releases,
never the other way)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from releases.models import ReleaseProject

from .access import get_project
from .models import Issue
from .serializers import issue_permalink

PAGE_SIZE = 50


@login_required
def project_releases(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    links = (
        ReleaseProject.objects.filter(project=project)
        .select_related("release")
        .order_by("-release__date_added", "-release_id")
    )
    page = Paginator(links, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "releases/project_releases.html", {"project": project, "page": page})


@login_required
def release_detail(request: HttpRequest, org_slug: str, project_slug: str, version: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    link = (
        ReleaseProject.objects.filter(project=project, release__version=version)
        .select_related("release")
        .first()
    )
    if link is None:
        raise Http404("No such release")
    issues = Issue.objects.filter(project=project, first_release=version).order_by("-last_seen", "-id")
    page = Paginator(issues, PAGE_SIZE).get_page(request.GET.get("page"))
    for issue in page.object_list:
        issue.project = project
        issue.permalink = issue_permalink(issue)
    context = {
        "project": project,
        "link": link,
        "release": link.release,
        "deploys": list(link.release.deploys.order_by("-date_finished", "-id")[:20]),
        "page": page,
    }
    return render(request, "releases/release_detail.html", context)
