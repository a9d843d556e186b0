"""Who may see what. Non-members get 404, never 403: a 403 would confirm the thing exists."""

from django.db.models import QuerySet
from django.http import Http404

from projects.access import get_organization, get_project, visible_projects
from projects.models import Project

from .models import Issue

__all__ = ["get_issue", "get_organization", "get_project", "parse_id", "visible_issues", "visible_projects"]


def parse_id(value: object) -> int | None:
    """A database id from untrusted text: ASCII digits that fit a bigint, else None (never an
    exception, and never a number the database would refuse)."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def organization_project_ids(organization, params) -> list[int]:
    """Ids of the organization's projects an organization-wide list is of: those of `project=`
    (repeated; -1 is every project, as Sentry's) when given, else all of them (one query)."""
    projects = Project.objects.filter(organization=organization)
    chosen = params.getlist("project")[:100]
    wanted = [i for i in map(parse_id, chosen) if i is not None]
    if wanted and "-1" not in chosen:
        projects = projects.filter(pk__in=wanted)
    return list(projects.order_by("pk").values_list("pk", flat=True))


def visible_issues(user) -> QuerySet[Issue]:
    issues = Issue.objects.select_related(
        "project", "project__organization", "assignee_user", "assignee_team", "snooze__actor",
        "resolution__release", "resolution__actor",
    )  # fmt: skip
    if user.is_superuser:
        return issues
    return issues.filter(project__organization__members__user=user)


def get_issue(user, issue_id) -> Issue:
    issue_pk = parse_id(issue_id)
    issue = visible_issues(user).filter(pk=issue_pk).first() if issue_pk is not None else None
    if issue is None:
        raise Http404("No such issue")
    return issue


def issue_from_path(user, issue_id: str, org_slug: str | None = None) -> Issue:
    """`/issues/{id}/...` or `/organizations/{org}/issues/{id or short id}/...` of Sentry's API."""
    if org_slug is not None:
        return get_organization_issue(user, org_slug, issue_id)
    return get_issue(user, issue_id)


def get_organization_issue(user, org_slug: str, id_or_short_id: str) -> Issue:
    """By numeric id or by short id (`WEB-12`: the project's slug in capitals, then the number)."""
    issues = visible_issues(user).filter(project__organization__slug=org_slug)
    if id_or_short_id.isdigit():
        issue = issues.filter(pk=int(id_or_short_id)).first()
    else:
        prefix, _, number = id_or_short_id.rpartition("-")
        found = (
            issues.filter(project__slug=prefix.lower(), short_id=int(number)) if number.isdigit() else None
        )
        issue = found.first() if found is not None else None
    if issue is None:
        raise Http404("No such issue")
    return issue
