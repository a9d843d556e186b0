"""Membership of an organization: invitations (by link, mailed when mail is configured), roles and
removal. An organization never loses its last owner: every change that could take one away locks
the owners' rows first, so two owners demoting each other at once cannot both succeed."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.utils import timezone

from .access import may_grant
from .models import Organization, OrganizationInvite, OrganizationMember

log = logging.getLogger(__name__)
Role = OrganizationMember.Role
INVITE_VALID_FOR = timedelta(days=7)
MAIL_TIMEOUT_SECONDS = 10
# Mail is "configured" when EMAIL_URL points at a real transport; the console default only logs it.
UNSENT_BACKENDS = ("django.core.mail.backends.console.EmailBackend",)


class MembershipError(Exception):
    """A change the rules refuse; its message is shown to the user."""


@dataclass
class Invitation:
    invite: OrganizationInvite
    link: str
    mail_error: str | None  # why it could not be mailed, None when it was (or no address/no mail)
    mailed: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mail_configured() -> bool:
    return settings.EMAIL_BACKEND not in UNSENT_BACKENDS


def invite(org: Organization, actor_role: str, inviter, email: str, role: str) -> Invitation:
    if not may_grant(actor_role, role):
        raise MembershipError("Only owners can invite owners.")
    token = secrets.token_urlsafe(32)
    record = OrganizationInvite.objects.create(
        organization=org,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=inviter,
        expires=timezone.now() + INVITE_VALID_FOR,
    )
    link = f"{settings.LIGHTTRACE_URL.rstrip('/')}/invite/{token}/"
    if not (email and mail_configured()):
        return Invitation(record, link, None, mailed=False)
    try:
        send_mail(
            f"You are invited to {org.name} on LightTrace",
            f"{inviter.get_username()} invites you to join the organization {org.name} on LightTrace "
            f"as {role}.\n\nAccept within {INVITE_VALID_FOR.days} days: {link}\n",
            settings.DEFAULT_FROM_EMAIL,
            [email],
            connection=get_connection(timeout=MAIL_TIMEOUT_SECONDS),
        )
    except OSError as exc:  # smtplib's errors are OSErrors; the link on screen still works
        log.warning("invite mail to %s failed: %s", email, exc)
        return Invitation(record, link, str(exc) or type(exc).__name__, mailed=False)
    return Invitation(record, link, None, mailed=True)


def pending_invite(token: str) -> OrganizationInvite | None:
    return (
        OrganizationInvite.objects.select_related("organization")
        .filter(token_hash=hash_token(token), accepted=None, expires__gt=timezone.now())
        .first()
    )


@transaction.atomic
def accept_invite(invite: OrganizationInvite, user) -> bool:
    """Makes user a member with the invite's role; False if the invite was used meanwhile. An
    existing member keeps a higher role."""
    used = OrganizationInvite.objects.filter(pk=invite.pk, accepted=None).update(accepted=timezone.now())
    if not used:
        return False
    member, created = OrganizationMember.objects.get_or_create(
        organization=invite.organization, user=user, defaults={"role": invite.role}
    )
    order = [Role.MEMBER, Role.MANAGER, Role.OWNER]
    if not created and order.index(invite.role) > order.index(member.role):
        member.role = invite.role
        member.save(update_fields=["role"])
    return True


@transaction.atomic
def accept_invite_as_new_user(invite: OrganizationInvite, username: str, password: str, name: str):
    user = get_user_model().objects.create_user(
        username=username, email=invite.email, password=password, first_name=name
    )
    if not accept_invite(invite, user):
        transaction.set_rollback(True)
        return None
    return user


def _check_may_change(org: Organization, actor_role: str, member: OrganizationMember, new_role: str | None):
    if member.role == Role.OWNER and actor_role != Role.OWNER:
        raise MembershipError("Only owners can change or remove an owner.")
    if new_role is not None and not may_grant(actor_role, new_role):
        raise MembershipError("Only owners can make owners.")
    if member.role == Role.OWNER and new_role != Role.OWNER:
        owners = list(
            OrganizationMember.objects.select_for_update()
            .filter(organization=org, role=Role.OWNER)
            .values("id")
        )
        if len(owners) <= 1:
            raise MembershipError("An organization keeps at least one owner.")


@transaction.atomic
def change_role(org: Organization, actor_role: str, member_id: int, role: str) -> OrganizationMember:
    member = (
        OrganizationMember.objects.select_for_update()
        .select_related("user")
        .get(organization=org, pk=member_id)
    )
    _check_may_change(org, actor_role, member, role)
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def remove_member(org: Organization, actor_role: str, member_id: int) -> None:
    member = OrganizationMember.objects.select_for_update().get(organization=org, pk=member_id)
    _check_may_change(org, actor_role, member, None)
    member.user.teams.remove(*org.teams.all())
    member.delete()
