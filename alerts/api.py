"""`/api/0/projects/{org}/{project}/rules/`: issue alert rules in Sentry's shape. Members read;
owners and managers (and superusers) write, others get 403; non-members 404 as everywhere."""

from __future__ import annotations

from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from issues.access import get_project
from projects.access import ALERT_RULE_SCOPES, TokenScopes
from projects.models import Project

from .models import AlertRule
from .rule_admin import can_manage, delete_rule, save_rule, serialize_rule
from .rules import RuleError


def _writable(request: Request, project: Project) -> None:
    if not can_manage(request.user, project):
        raise PermissionDenied("Only owners and managers of the organization can change alert rules.")


def _body(request: Request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class ProjectRulesView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = ALERT_RULE_SCOPES

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        found = AlertRule.objects.filter(project=project).select_related("owner", "project").order_by("id")
        secrets = can_manage(request.user, project)
        return Response([serialize_rule(r, secrets) for r in found])

    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        _writable(request, project)
        try:
            rule = save_rule(project, _body(request), request.user)
        except RuleError as exc:
            return Response(exc.errors, status=400)
        return Response(serialize_rule(rule), status=201)


class ProjectRuleView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = ALERT_RULE_SCOPES

    def _rule(self, request: Request, org_slug: str, project_slug: str, rule_id: int) -> AlertRule:
        project = get_project(request.user, org_slug, project_slug)
        rule = (
            AlertRule.objects.filter(project=project, pk=rule_id).select_related("owner", "project").first()
        )
        if rule is None:
            raise Http404("No such rule")
        return rule

    def get(self, request: Request, org_slug: str, project_slug: str, rule_id: int) -> Response:
        rule = self._rule(request, org_slug, project_slug, rule_id)
        return Response(serialize_rule(rule, can_manage(request.user, rule.project)))

    def put(self, request: Request, org_slug: str, project_slug: str, rule_id: int) -> Response:
        rule = self._rule(request, org_slug, project_slug, rule_id)
        _writable(request, rule.project)
        try:
            rule = save_rule(rule.project, _body(request), request.user, rule)
        except RuleError as exc:
            return Response(exc.errors, status=400)
        return Response(serialize_rule(rule))

    def delete(self, request: Request, org_slug: str, project_slug: str, rule_id: int) -> Response:
        rule = self._rule(request, org_slug, project_slug, rule_id)
        _writable(request, rule.project)
        delete_rule(rule)
        return Response(status=202)
