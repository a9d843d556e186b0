"""Sentry's API shapes for organizations, teams, members, projects and client keys.

Types follow Sentry's documented examples: ids of organizations, teams and projects are strings,
a key's projectId is a number, dates are ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .models import Organization, OrganizationInvite, OrganizationMember, Project, ProjectKey, Team

# The scopes a role grants in Sentry (what `sentry-cli info` lists for a token).
MEMBER_SCOPES = [
    "alerts:read", "event:read", "event:write", "member:read", "org:read", "project:read",
    "project:releases", "team:read",
]  # fmt: skip
ADMIN_SCOPES = sorted(
    {*MEMBER_SCOPES, "alerts:write", "event:admin", "member:write", "org:write", "project:admin",
     "project:write", "team:write"}
)  # fmt: skip
OWNER_SCOPES = sorted({*ADMIN_SCOPES, "member:admin", "org:admin", "team:admin"})
ROLE_SCOPES = {
    OrganizationMember.Role.MEMBER: MEMBER_SCOPES,
    OrganizationMember.Role.MANAGER: ADMIN_SCOPES,
    OrganizationMember.Role.OWNER: OWNER_SCOPES,
}


def iso(dt) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def _avatar() -> dict[str, Any]:
    return {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None}


def serialize_organization(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.pk),
        "slug": org.slug,
        "name": org.name,
        "dateCreated": iso(org.created),
        "status": {"id": "active", "name": "active"},
        "isEarlyAdopter": False,
        "require2FA": False,
        "requireEmailVerification": False,
        "avatar": _avatar(),
        "features": [],
        "hasAuthProvider": False,
        "links": {"organizationUrl": settings.LIGHTTRACE_URL, "regionUrl": settings.LIGHTTRACE_URL},
    }


def serialize_organization_detail(org: Organization, role: str | None) -> dict[str, Any]:
    return {
        **serialize_organization(org),
        "orgRole": role,
        "access": ROLE_SCOPES.get(role or "", []),
        "quota": {
            "maxRate": org.monthly_event_quota,
            "maxRateInterval": 2_592_000 if org.monthly_event_quota else None,
            "accountLimit": 0,
            "projectLimit": 100,
        },
        "isDefault": False,
        "defaultRole": OrganizationMember.Role.MEMBER,
        "openMembership": True,
        "allowSharedIssues": False,
        "dataScrubber": True,
        "scrubIPAddresses": False,
    }


def serialize_team(team: Team, member_count: int | None = None, is_member: bool = False) -> dict[str, Any]:
    return {
        "id": str(team.pk),
        "slug": team.slug,
        "name": team.slug,
        "dateCreated": None,
        "isMember": is_member,
        "teamRole": None,
        "hasAccess": True,
        "isPending": False,
        "memberCount": member_count if member_count is not None else 0,
        "avatar": _avatar(),
        "flags": {"idp:provisioned": False},
    }


def serialize_project(
    project: Project, with_organization: bool = False, member_team_ids: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """member_team_ids: the caller's teams (Sentry: isMember is being in one of the project's teams;
    hasAccess, being allowed to see it, is true for whoever gets the project at all)."""
    team = project.team
    teams = sorted(project.teams.all(), key=lambda t: t.pk)
    data = {
        "id": str(project.pk),
        "slug": project.slug,
        "name": project.name,
        "platform": project.platform or None,
        "dateCreated": iso(project.created),
        "isBookmarked": False,
        "isMember": any(t.pk in member_team_ids for t in teams),
        "hasAccess": True,
        "isPublic": False,
        "isInternal": False,
        "status": "active",
        "features": [],
        "firstEvent": iso(project.first_event),
        "firstTransactionEvent": False,
        "hasSessions": False,
        "hasProfiles": False,
        "hasReplays": False,
        "hasMonitors": False,
        "hasMinifiedStackTrace": False,
        "avatar": _avatar(),
        "color": "#3f70b3",
        "team": {"id": str(team.pk), "slug": team.slug, "name": team.slug} if team else None,
        "teams": [{"id": str(t.pk), "slug": t.slug, "name": t.slug} for t in teams],
    }
    if with_organization:
        data["organization"] = serialize_organization(project.organization)
    return data


def serialize_project_detail(project: Project, member_team_ids: frozenset[int]) -> dict[str, Any]:
    return {
        **serialize_project(project, with_organization=True, member_team_ids=member_team_ids),
        "options": {},
        "digestsMinDelay": 300,
        "digestsMaxDelay": 1800,
        "resolveAge": 0,
        "dataScrubber": True,
        "scrubIPAddresses": project.scrub_ip_addresses,
        "sensitiveFields": project.scrub_extra_fields.split(),
        "safeFields": project.scrub_safe_fields.split(),
        "groupingConfig": project.grouping_config,
        "fingerprintingRules": project.fingerprint_rules,
        "groupingEnhancements": project.stacktrace_rules,
    }


def serialize_member(member: OrganizationMember) -> dict[str, Any]:
    user = member.user
    name = user.get_full_name() or user.username
    return {
        "id": str(member.pk),
        "email": user.email,
        "name": name,
        "user": {
            "id": str(user.pk),
            "username": user.username,
            "name": name,
            "email": user.email,
            "isActive": user.is_active,
            "dateJoined": iso(user.date_joined),
        },
        "role": member.role,
        "roleName": member.role.capitalize(),
        "orgRole": member.role,
        "pending": False,
        "expired": False,
        "flags": {"sso:linked": False, "sso:invalid": False, "member-limit:restricted": False},
        "dateCreated": iso(user.date_joined),
        "inviteStatus": "approved",
        "inviterName": None,
    }


# Invitations live in a table of their own (Sentry keeps them as member rows without a user), so
# their ids are marked: a number alone would name a member too.
INVITE_ID_PREFIX = "invite-"


def serialize_invite(invite: OrganizationInvite, now) -> dict[str, Any]:
    """A pending invitation in the members list, as Sentry shows one: `pending`, no user."""
    inviter = invite.invited_by
    return {
        "id": f"{INVITE_ID_PREFIX}{invite.pk}",
        "email": invite.email,
        "name": invite.email,
        "user": None,
        "role": invite.role,
        "roleName": invite.role.capitalize(),
        "orgRole": invite.role,
        "pending": True,
        "expired": invite.expires <= now,
        "flags": {"sso:linked": False, "sso:invalid": False, "member-limit:restricted": False},
        "dateCreated": iso(invite.created),
        "inviteStatus": "approved",
        "inviterName": (inviter.get_full_name() or inviter.username) if inviter else None,
    }


def key_dsns(key: ProjectKey) -> dict[str, str]:
    base = settings.LIGHTTRACE_URL.rstrip("/")
    scheme, host = base.split("://", 1)
    api = f"{base}/api/{key.project_id}"
    return {
        "secret": f"{scheme}://{key.public_key}:{key.secret_key}@{host}/{key.project_id}",
        "public": key.dsn(),
        "csp": f"{api}/security/?sentry_key={key.public_key}",
        "security": f"{api}/security/?sentry_key={key.public_key}",
        "minidump": f"{api}/minidump/?sentry_key={key.public_key}",
        "nel": f"{api}/nel/?sentry_key={key.public_key}",
        "unreal": f"{api}/unreal/{key.public_key}/",
        "cdn": "",
        "crons": f"{api}/cron/___MONITOR_SLUG___/{key.public_key}/",
    }


def serialize_key(key: ProjectKey) -> dict[str, Any]:
    rate = key.rate_limit_per_minute
    return {
        "id": key.public_key,
        "name": key.label,
        "label": key.label,
        "public": key.public_key,
        "secret": key.secret_key,
        "projectId": key.project_id,
        "isActive": key.is_active,
        "rateLimit": {"window": 60, "count": rate} if rate else None,
        "dsn": key_dsns(key),
        "browserSdkVersion": "latest",
        "browserSdk": {"choices": [["latest", "latest"]]},
        "dateCreated": iso(key.created),
        "dynamicSdkLoaderOptions": {"hasReplay": False, "hasPerformance": False, "hasDebug": False},
        "useCase": "user",
    }
