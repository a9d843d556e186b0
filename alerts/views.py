"""Pages: a project's alert rules (list, create, edit, enable/disable, delete) and its alert history
with each notification's delivery status. Members see; owners and managers change (403 otherwise)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from issues.access import get_project
from projects.models import OrganizationMember, Project

from . import sendtest, unsubscribe
from .forms import RuleForm, initial_from
from .models import AlertFire, AlertRule
from .rule_admin import can_manage, delete_rule, save_rule
from .rules import RuleError

HISTORY_ROWS = 50


def _members(project: Project) -> list[tuple[str, str]]:
    rows = OrganizationMember.objects.filter(organization=project.organization).select_related("user")
    return [(str(m.user_id), m.user.get_username()) for m in rows.order_by("user__username")]


def _rule(project: Project, rule_id: int) -> AlertRule:
    rule = AlertRule.objects.filter(project=project, pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule")
    return rule


@login_required
def rule_list(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    history = (
        AlertFire.objects.filter(project=project)
        .select_related("rule", "issue")
        .prefetch_related("notifications")
        .order_by("-created", "-id")[:HISTORY_ROWS]
    )
    context = {
        "project": project,
        "rules": AlertRule.objects.filter(project=project).order_by("id"),
        "history": history,
        "can_manage": can_manage(request.user, project),
        "tests": sendtest.recent_tests(project),
        "muted": unsubscribe.is_muted(request.user.pk, project.pk),
    }
    return render(request, "alerts/rule_list.html", context)


@login_required
def rule_edit(
    request: HttpRequest, org_slug: str, project_slug: str, rule_id: int | None = None
) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    rule = _rule(project, rule_id) if rule_id else None
    manage = can_manage(request.user, project)
    initial: dict[str, Any] = (
        initial_from(rule) if rule else {"enabled": True, "on_new": True, "email_team": True}
    )
    if not manage and initial.get("apprise_url"):  # it holds the service's tokens
        initial["apprise_url"] = str(initial["apprise_url"]).split("://", 1)[0] + "://********"
    form = RuleForm(request.POST or None, initial=initial, members=_members(project))
    if request.method == "POST":
        if not manage:
            raise PermissionDenied("Only owners and managers can change alert rules.")
        if form.is_valid():
            try:
                save_rule(project, form.rule_data(), request.user, rule)
            except RuleError as exc:
                for field, messages in exc.errors.items():
                    form.add_error(None, f"{field}: {' '.join(messages)}")
            else:
                return redirect("alert-rules", org_slug, project_slug)
    context = {
        "project": project,
        "form": form,
        "rule": rule,
        "can_manage": manage,
        "actions": _describe_actions(rule, dict(_members(project))) if rule else [],
        "tests": sendtest.recent_tests(project, rule) if rule else [],
        "tested_nobody": request.GET.get("tested") == "nobody",
    }
    return render(request, "alerts/rule_form.html", context)


@login_required
@require_POST
def rule_action(
    request: HttpRequest, org_slug: str, project_slug: str, rule_id: int, action: str
) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    rule = _rule(project, rule_id)
    if not can_manage(request.user, project):
        raise PermissionDenied("Only owners and managers can change alert rules.")
    if action == "delete":
        delete_rule(rule)
    elif action in ("enable", "disable"):
        AlertRule.objects.filter(pk=rule.pk).update(enabled=action == "enable")
    else:
        raise Http404("No such action")
    return redirect("alert-rules", org_slug, project_slug)


def _describe_actions(rule: AlertRule, members: dict[str, str]) -> list[tuple[int, str]]:
    described = []
    for index, action in enumerate(rule.actions):
        if action.get("url"):
            text = f"Webhook ({action.get('format', 'sentry')}) {action['url']}"
        elif action.get("targetType") == "Member":
            text = f"Email {members.get(str(action.get('targetIdentifier')), 'a former member')}"
        elif action.get("targetType") == "IssueOwners":
            text = "Email the issue's assignee"
        else:
            text = "Email the project's team"
        described.append((index, text))
    return described


@login_required
@require_POST
def rule_test(
    request: HttpRequest, org_slug: str, project_slug: str, rule_id: int, index: int
) -> HttpResponse:
    """Sends a test of one action now; the rule page then shows how it went."""
    project = get_project(request.user, org_slug, project_slug)
    rule = _rule(project, rule_id)
    if not can_manage(request.user, project):
        raise PermissionDenied("Only owners and managers can send test notifications.")
    try:
        sent = sendtest.send_test(rule, index, request.user)
    except IndexError:
        raise Http404("No such action") from None
    page = reverse("alert-rule-edit", args=[org_slug, project_slug, rule.pk])
    return redirect(page if sent else f"{page}?tested=nobody")


@login_required
@require_POST
def mute(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    """The current user's own setting: any member may mute a project's alert mail for themself."""
    project = get_project(request.user, org_slug, project_slug)
    unsubscribe.set_muted(request.user.pk, project.pk, request.POST.get("muted") == "on")
    return redirect("alert-rules", org_slug, project_slug)


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (link scanners that follow links mute nobody); POST mutes."""
    found = unsubscribe.read_token(token)
    project = Project.objects.select_related("organization").filter(pk=found[1]).first() if found else None
    if found is None or project is None or not get_user_model().objects.filter(pk=found[0]).exists():
        raise Http404("This link is not valid.")
    done = request.method == "POST"
    if done:
        unsubscribe.set_muted(found[0], project.pk, True)
    return render(request, "alerts/unsubscribe.html", {"project": project, "done": done})
