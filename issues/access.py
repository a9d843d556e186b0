"""Who may see what. Non-members get 404, never 403: a 403 would confirm the thing exists."""

from django.db.models import QuerySet
from django.http import Http404

from projects.access import get_project, visible_projects

from .models import Issue

__all__ = ["get_issue", "get_project", "visible_issues", "visible_projects"]


def visible_issues(user) -> QuerySet[Issue]:
    issues = Issue.objects.select_related("project", "project__organization")
    if user.is_superuser:
        return issues
    return issues.filter(project__organization__members__user=user)


def get_issue(user, issue_id) -> Issue:
    try:
        issue_pk = int(issue_id)
    except (TypeError, ValueError) as exc:
        raise Http404("No such issue") from exc
    issue = visible_issues(user).filter(pk=issue_pk).first()
    if issue is None:
        raise Http404("No such issue")
    return issue
