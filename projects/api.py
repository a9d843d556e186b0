"""Sentry's discovery endpoints (organizations, projects, teams, members), client keys and the API
root that `sentry-cli info` and `login` call. Any JSON route not matched answers a JSON 404."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated

from .access import (
    MEMBER_READ,
    MEMBER_WRITE,
    ORG_READ,
    PROJECT_READ,
    PROJECT_WRITE,
    TEAM_READ,
    TokenScopes,
    get_organization,
    get_project,
    require_admin,
    role_in,
    visible_organizations,
    visible_projects,
)
from .members import MembershipError, open_invites, remove_member, revoke_invite
from .models import OrganizationInvite, OrganizationMember, ProjectKey, Team
from .serializers import (
    INVITE_ID_PREFIX,
    OWNER_SCOPES,
    ROLE_SCOPES,
    serialize_invite,
    serialize_key,
    serialize_member,
    serialize_organization,
    serialize_organization_detail,
    serialize_project,
    serialize_project_detail,
    serialize_team,
)


def _user_scopes(user, auth) -> list[str]:
    """What the user's roles grant, narrowed to the token's own scopes when it has some."""
    if user.is_superuser:
        granted = set(OWNER_SCOPES)
    else:
        roles = set(OrganizationMember.objects.filter(user=user).values_list("role", flat=True))
        granted = {scope for role in roles for scope in ROLE_SCOPES.get(role, [])}
    token_scopes = getattr(auth, "scopes", None)
    return sorted(granted if token_scopes is None else granted.intersection(token_scopes))


class IndexView(APIView):
    """`GET /api/0/`: who the token belongs to and what it may do (null for an anonymous request)."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        user = request.user
        if user is None or not user.is_authenticated:
            return Response({"version": "0", "auth": None, "user": None})
        return Response(
            {
                "version": "0",
                "auth": {"scopes": _user_scopes(user, request.auth)} if request.auth is not None else None,
                "user": {
                    "id": str(user.pk),
                    "username": user.username,
                    "name": user.get_full_name() or user.username,
                    "email": user.email,
                    "isActive": user.is_active,
                    "isSuperuser": user.is_superuser,
                    "isStaff": user.is_staff,
                },
            }
        )


class OrganizationsView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": ORG_READ}

    def get(self, request: Request) -> Response:
        offset, limit = page_bounds(request, default_limit=100)
        rows = list(visible_organizations(request.user).order_by("slug")[offset : offset + limit + 1])
        return paginated(request, rows, offset, limit, [serialize_organization(o) for o in rows[:limit]])


class OrganizationView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": ORG_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        return Response(serialize_organization_detail(org, role_in(request.user, org)))


def member_team_ids(user) -> frozenset[int]:
    return frozenset(Team.objects.filter(members=user).values_list("id", flat=True))


def _projects_page(request: Request, projects) -> Response:
    offset, limit = page_bounds(request, default_limit=100)
    rows = list(
        projects.select_related("organization")
        .prefetch_related("teams")
        .order_by("slug", "id")[offset : offset + limit + 1]
    )
    return paginated(request, rows, offset, limit, rows[:limit])


class OrganizationProjectsView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ | ORG_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        response = _projects_page(request, org.projects.all())
        teams = member_team_ids(request.user)
        response.data = [serialize_project(p, member_team_ids=teams) for p in response.data]
        return response


class ProjectsView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ}

    def get(self, request: Request) -> Response:
        response = _projects_page(request, visible_projects(request.user))
        teams = member_team_ids(request.user)
        response.data = [serialize_project(p, True, teams) for p in response.data]
        return response


class ProjectView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return Response(serialize_project_detail(project, member_team_ids(request.user)))


class OrganizationTeamsView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": TEAM_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        offset, limit = page_bounds(request, default_limit=100)
        teams = Team.objects.filter(organization=org).annotate(n=Count("members")).order_by("slug", "id")
        rows = list(teams[offset : offset + limit + 1])
        mine = set(request.user.teams.filter(organization=org).values_list("id", flat=True))
        data = [serialize_team(t, t.n, t.pk in mine) for t in rows[:limit]]
        return paginated(request, rows, offset, limit, data)


class OrganizationMembersView(APIView):
    """Members, then pending invitations (`pending: true`), as Sentry lists both."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": MEMBER_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        offset, limit = page_bounds(request, default_limit=100)
        members = OrganizationMember.objects.filter(organization=org).select_related("user").order_by("id")
        rows: list = list(members[offset : offset + limit + 1])
        if len(rows) <= limit:  # the page reaches past the members: invitations follow
            skip = 0 if rows else max(0, offset - members.count())
            invites = open_invites(org).select_related("invited_by").order_by("id")
            rows += list(invites[skip : skip + limit + 1 - len(rows)])
        now = timezone.now()
        data = [
            serialize_member(r) if isinstance(r, OrganizationMember) else serialize_invite(r, now)
            for r in rows[:limit]
        ]
        return paginated(request, rows, offset, limit, data)


class OrganizationMemberView(APIView):
    """`DELETE` removes a member, or revokes a pending invitation (`invite-<id>`), with the rules of
    the members page (projects/members.py): owners and managers; owners only for an owner."""

    permission_classes = [TokenScopes]
    token_scopes = {"DELETE": MEMBER_WRITE}

    def delete(self, request: Request, org_slug: str, member_id: str) -> Response:
        org = get_organization(request.user, org_slug)
        require_admin(request.user, org)
        role = role_in(request.user, org) or ""
        invite_id = member_id.removeprefix(INVITE_ID_PREFIX)
        try:
            if invite_id != member_id and invite_id.isdigit():
                revoke_invite(org, role, request.user, int(invite_id))
            elif member_id.isdigit():
                remove_member(org, role, int(member_id))
            else:
                raise Http404("No such member")
        except (OrganizationMember.DoesNotExist, OrganizationInvite.DoesNotExist) as exc:
            raise Http404("No such member") from exc
        except MembershipError as exc:
            return Response({"detail": str(exc)}, status=403)
        return Response(status=204)


def _key_fields(body: dict) -> dict:
    """name, isActive and rateLimit ({"window": seconds, "count": n}, stored per minute)."""
    fields: dict = {}
    if "name" in body:
        if not isinstance(body["name"], str) or len(body["name"]) > 64:
            raise ValidationError({"name": ["must be a string of at most 64 characters"]})
        fields["label"] = body["name"] or "Default"
    if "isActive" in body:
        if not isinstance(body["isActive"], bool):
            raise ValidationError({"isActive": ["must be true or false"]})
        fields["is_active"] = body["isActive"]
    if "rateLimit" in body:
        fields["rate_limit_per_minute"] = _per_minute(body["rateLimit"])
    return fields


def _per_minute(rate) -> int | None:
    if rate is None or rate == {} or (isinstance(rate, dict) and rate.get("count") in (None, 0)):
        return None
    window, count = (rate.get("window"), rate.get("count")) if isinstance(rate, dict) else (None, None)
    if (
        not isinstance(window, int)
        or not isinstance(count, int)
        or not (_positive_int(window) and _positive_int(count))
    ):
        raise ValidationError({"rateLimit": ["window and count must be positive integers"]})
    return max(1, round(count * 60 / window))


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class ProjectKeysView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ, "POST": PROJECT_WRITE}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        keys = ProjectKey.objects.filter(project=project).order_by("id")
        status = request.query_params.get("status")
        if status in ("active", "inactive"):
            keys = keys.filter(is_active=status == "active")
        return Response([serialize_key(k) for k in keys[:1000]])

    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        require_admin(request.user, project.organization)
        body = request.data if isinstance(request.data, dict) else {}
        fields = {"label": "Default", **_key_fields(body)}
        key = ProjectKey.objects.create(project=project, **fields)
        return Response(serialize_key(key), status=201)


class ProjectKeyView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ, "PUT": PROJECT_WRITE, "DELETE": frozenset({"project:admin"})}

    def _key(self, request: Request, org_slug: str, project_slug: str, key_id: str) -> ProjectKey:
        project = get_project(request.user, org_slug, project_slug)
        key = ProjectKey.objects.filter(project=project, public_key=key_id).first()
        if key is None:
            raise Http404("No such client key")
        return key

    def get(self, request: Request, org_slug: str, project_slug: str, key_id: str) -> Response:
        return Response(serialize_key(self._key(request, org_slug, project_slug, key_id)))

    def put(self, request: Request, org_slug: str, project_slug: str, key_id: str) -> Response:
        key = self._key(request, org_slug, project_slug, key_id)
        require_admin(request.user, key.project.organization)
        fields = _key_fields(request.data if isinstance(request.data, dict) else {})
        with transaction.atomic():
            for name, value in fields.items():
                setattr(key, name, value)
            if fields:
                key.save(update_fields=list(fields))
        return Response(serialize_key(key))

    def delete(self, request: Request, org_slug: str, project_slug: str, key_id: str) -> Response:
        key = self._key(request, org_slug, project_slug, key_id)
        require_admin(request.user, key.project.organization)
        key.delete()
        return Response(status=204)


@csrf_exempt
def unknown_route(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Every /api/0/ path without an endpoint: a JSON 404 for any method (tools parse the body)."""
    detail = f"Unknown API route: {request.path}"
    if not request.path.endswith("/"):
        detail += " (API paths end with a slash)"
    return JsonResponse({"detail": detail}, status=404)
