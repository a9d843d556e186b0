"""Team and member pages (owners and managers) and the invite link (anyone holding it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import members as membership
from .access import organization_and_role
from .forms import InviteForm, RoleForm, SignupForm, TeamForm
from .models import OrganizationInvite, OrganizationMember, Team
from .services import AlreadyExists, create_team


@login_required
def teams(request: HttpRequest, org_slug: str) -> HttpResponse:
    org, _ = organization_and_role(request.user, org_slug, admin=True)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = create_team(org, form.slug)
        except AlreadyExists:
            form.add_error("name", f"A team “{form.slug}” exists already.")
        else:
            return redirect("team", org.slug, team.slug)
    rows = org.teams.order_by("slug").prefetch_related("members", "projects")
    return render(request, "projects/teams.html", {"org": org, "teams": rows, "form": form})


def _team(request: HttpRequest, org_slug: str, team_slug: str):
    org, _ = organization_and_role(request.user, org_slug, admin=True)
    team = Team.objects.filter(organization=org, slug=team_slug).first()
    if team is None:
        raise Http404("No such team")
    return org, team


@login_required
def team(request: HttpRequest, org_slug: str, team_slug: str) -> HttpResponse:
    org, team = _team(request, org_slug, team_slug)
    if request.method == "POST":
        _change_team(request, org, team)
        return redirect("team", org.slug, team.slug)
    team_members = list(team.members.order_by("username"))
    team_projects = list(team.projects.order_by("slug"))
    context = {
        "org": org,
        "team": team,
        "team_members": team_members,
        "team_projects": team_projects,
        "other_members": org.members.select_related("user")
        .exclude(user__in=team_members)
        .order_by("user__username"),
        "other_projects": org.projects.exclude(pk__in=[p.pk for p in team_projects]).order_by("slug"),
    }
    return render(request, "projects/team.html", context)


def _change_team(request: HttpRequest, org, team: Team) -> None:
    """Adds or removes one member (organization members only) or one project (of this organization)."""
    action = request.POST.get("action", "")
    if action in ("add-member", "remove-member"):
        member = org.members.filter(user_id=request.POST.get("user") or 0).first()
        if member is None:
            raise Http404("No such member")
        (team.members.add if action == "add-member" else team.members.remove)(member.user_id)
    elif action in ("add-project", "remove-project"):
        project = org.projects.filter(pk=request.POST.get("project") or 0).first()
        if project is None:
            raise Http404("No such project")
        (team.projects.add if action == "add-project" else team.projects.remove)(project)
    else:
        raise Http404("No such action")


@login_required
def members(request: HttpRequest, org_slug: str) -> HttpResponse:
    org, role = organization_and_role(request.user, org_slug, admin=True)
    form = InviteForm(request.POST or None)
    invitation = error = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation = membership.invite(
                org, role, request.user, form.cleaned_data["email"], form.cleaned_data["role"]
            )
        except membership.MembershipError as exc:
            error = str(exc)
        else:
            form = InviteForm()
    return _members_page(request, org, role, form=form, invitation=invitation, error=error)


def _members_page(request: HttpRequest, org, role: str, **context) -> HttpResponse:
    rows = org.members.select_related("user").order_by("user__username")
    invites = membership.open_invites(org).select_related("invited_by").order_by("-created", "-id")
    context.update(org=org, role=role, rows=rows, invites=invites, roles=OrganizationMember.Role.choices)
    context["invite_days"] = membership.INVITE_VALID_FOR.days
    context["mail_configured"] = membership.mail_configured()
    context.setdefault("form", InviteForm())
    status = 400 if context.get("error") else 200
    return render(request, "projects/members.html", context, status=status)


@login_required
@require_POST
def member_change(request: HttpRequest, org_slug: str, member_id: int) -> HttpResponse:
    org, role = organization_and_role(request.user, org_slug, admin=True)
    try:
        if request.POST.get("action") == "remove":
            membership.remove_member(org, role, member_id)
        else:
            form = RoleForm(request.POST)
            if not form.is_valid():
                raise membership.MembershipError("Choose owner, manager or member.")
            membership.change_role(org, role, member_id, form.cleaned_data["role"])
    except OrganizationMember.DoesNotExist as exc:
        raise Http404("No such member") from exc
    except membership.MembershipError as exc:
        return _members_page(request, org, role, error=str(exc))
    return redirect("members", org.slug)


@login_required
@require_POST
def invite_change(request: HttpRequest, org_slug: str, invite_id: int) -> HttpResponse:
    """`action` revoke or resend (owners and managers; invitations of owners: owners only)."""
    org, role = organization_and_role(request.user, org_slug, admin=True)
    action = request.POST.get("action")
    try:
        if action == "revoke":
            membership.revoke_invite(org, role, request.user, invite_id)
        elif action == "resend":
            invitation = membership.resend_invite(org, role, request.user, invite_id)
            return _members_page(request, org, role, invitation=invitation)
        else:
            raise Http404("No such action")
    except OrganizationInvite.DoesNotExist as exc:
        raise Http404("No such invitation") from exc
    except membership.MembershipError as exc:
        return _members_page(request, org, role, error=str(exc))
    return redirect("members", org.slug)


def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invite = membership.find_invite(token)
    if not membership.usable(invite):
        return _unusable(request, invite)
    assert invite is not None  # usable() says so
    org = invite.organization
    form = SignupForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        if request.user.is_authenticated:
            membership.accept_invite(invite, request.user)
            return redirect("organization", org.slug)
        if form is not None and form.is_valid():
            return _sign_up(request, invite, form)
    return render(request, "projects/invite.html", {"invite": invite, "org": org, "form": form})


def _unusable(request: HttpRequest, invite: OrganizationInvite | None) -> HttpResponse:
    """Why a link does not work: revoked (410, Gone: it existed), else used, expired, replaced by a
    resend or never issued (404, one answer for all of them)."""
    if invite is not None and invite.revoked is not None:
        return render(request, "projects/invite.html", {"revoked": True}, status=410)
    return render(request, "projects/invite.html", {"invalid": True}, status=404)


def _sign_up(request: HttpRequest, invite, form: SignupForm) -> HttpResponse:
    data = form.cleaned_data
    try:
        user = membership.accept_invite_as_new_user(invite, data["username"], data["password1"], data["name"])
    except IntegrityError:  # the username was taken since the form checked it
        form.add_error("username", "This username is taken.")
        return render(
            request, "projects/invite.html", {"invite": invite, "org": invite.organization, "form": form}
        )
    if user is None:  # the invite was used, revoked or resent meanwhile
        return _unusable(request, OrganizationInvite.objects.filter(pk=invite.pk).first())
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return redirect("organization", invite.organization.slug)
