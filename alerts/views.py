"""Pages: a project's alert rules (list, create, edit, enable/disable, delete) and its alert history
with each notification's delivery status. Members see; owners and managers change (403 otherwise)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from issues.access import get_project
from projects.models import OrganizationMember, Project

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
    }
    return render(request, "alerts/rule_list.html", context)


@login_required
def rule_edit(
    request: HttpRequest, org_slug: str, project_slug: str, rule_id: int | None = None
) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    rule = _rule(project, rule_id) if rule_id else None
    manage = can_manage(request.user, project)
    initial = initial_from(rule) if rule else {"enabled": True, "on_new": True, "email_team": True}
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
    context = {"project": project, "form": form, "rule": rule, "can_manage": manage}
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
