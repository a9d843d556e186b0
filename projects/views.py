"""Organization and project pages: create an organization and a project, the organization's overview,
a project's client keys (DSNs) with rotate and disable. Access is decided by projects/access.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .access import ADMIN_ROLES, organization_and_role, project_and_role
from .forms import OrganizationForm, ProjectForm
from .models import ProjectKey
from .services import AlreadyExists, add_project, create_organization, rotate_key, set_key_active


@login_required
def organization_new(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = create_organization(form.slug, form.cleaned_data["name"], request.user)
        except AlreadyExists:
            form.add_error("name", f"An organization “{form.slug}” exists already.")
        else:
            return redirect("organization", org.slug)
    return render(request, "projects/organization_new.html", {"form": form})


@login_required
def organization(request: HttpRequest, org_slug: str) -> HttpResponse:
    org, role = organization_and_role(request.user, org_slug)
    projects = org.projects.order_by("slug").prefetch_related("teams")
    context = {"org": org, "role": role, "projects": projects, "manage": role in ADMIN_ROLES}
    return render(request, "projects/organization.html", context)


@login_required
def project_new(request: HttpRequest, org_slug: str) -> HttpResponse:
    org, _ = organization_and_role(request.user, org_slug, admin=True)
    form = ProjectForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project, _ = add_project(org, form.slug, data["name"], data["platform"], list(data["teams"]))
        except AlreadyExists:
            form.add_error("name", f"A project “{form.slug}” exists already in {org.slug}.")
        else:
            return redirect(f"/organizations/{org.slug}/projects/{project.slug}/keys/?created=1")
    return render(request, "projects/project_new.html", {"org": org, "form": form})


@login_required
def project_keys(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project, role = project_and_role(request.user, org_slug, project_slug)
    keys = list(project.keys.order_by("-is_active", "id"))
    active = next((key for key in keys if key.is_active), None)
    context = {
        "project": project,
        "org": project.organization,
        "keys": keys,
        "dsn": active.dsn() if active else "",
        "manage": role in ADMIN_ROLES,
        "created": request.GET.get("created") == "1",
        "key_cache_seconds": settings.INGEST["KEY_CACHE_SECONDS"],
    }
    return render(request, "projects/project_keys.html", context)


def _key(request: HttpRequest, org_slug: str, project_slug: str, key_id: int) -> ProjectKey:
    project, _ = project_and_role(request.user, org_slug, project_slug, admin=True)
    key = project.keys.filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key")
    return key


@login_required
@require_POST
def key_rotate(request: HttpRequest, org_slug: str, project_slug: str, key_id: int) -> HttpResponse:
    old = _key(request, org_slug, project_slug, key_id)
    new = rotate_key(old)
    messages.info(
        request,
        f"Rotated: a new key ending in …{new.public_key[-6:]} replaces the one ending in "
        f"…{old.public_key[-6:]}, which is now disabled. Give your SDKs the new DSN.",
    )
    return redirect("project-keys", org_slug, project_slug)


@login_required
@require_POST
def key_active(request: HttpRequest, org_slug: str, project_slug: str, key_id: int) -> HttpResponse:
    key, active = _key(request, org_slug, project_slug, key_id), request.POST.get("active") == "1"
    set_key_active(key, active)
    messages.info(
        request, f"The key ending in …{key.public_key[-6:]} is {'enabled' if active else 'disabled'}."
    )
    return redirect("project-keys", org_slug, project_slug)
