"""Membership of an organization: invitations (by link, mailed when mail is configured; revoked, or
resent with a new link), roles and removal. Invitations, revocations and resends are logged with
their actor (the audit trail; no activity table here). An organization never loses its last owner: every change that could take one away locks
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
    log.info("user %s invited %r as %s to organization %s", inviter.pk, email, role, org.slug)
    return _send(record, token, inviter)


def _send(record: OrganizationInvite, token: str, inviter) -> Invitation:
    """The link of a fresh token, mailed when the invite has an address and mail is configured."""
    link = f"{settings.LIGHTTRACE_URL.rstrip('/')}/invite/{token}/"
    if not (record.email and mail_configured()):
        return Invitation(record, link, None, mailed=False)
    org = record.organization
    try:
        send_mail(
            f"You are invited to {org.name} on LightTrace",
            f"{inviter.get_username()} invites you to join the organization {org.name} on LightTrace "
            f"as {record.role}.\n\nAccept within {INVITE_VALID_FOR.days} days: {link}\n",
            settings.DEFAULT_FROM_EMAIL,
            [record.email],
            connection=get_connection(timeout=MAIL_TIMEOUT_SECONDS),
        )
    except OSError as exc:  # smtplib's errors are OSErrors; the link on screen still works
        log.warning("invite mail to %s failed: %s", record.email, exc)
        return Invitation(record, link, str(exc) or type(exc).__name__, mailed=False)
    return Invitation(record, link, None, mailed=True)


def open_invites(org: Organization):
    """Invitations neither accepted nor revoked (expired ones too: they can be resent or revoked)."""
    return org.invites.filter(accepted=None, revoked=None)


def _open_invite(org: Organization, actor_role: str, invite_id: int) -> OrganizationInvite:
    """Raises OrganizationInvite.DoesNotExist outside the organization or once used or revoked."""
    record = open_invites(org).select_for_update().get(pk=invite_id)
    if record.role == Role.OWNER and actor_role != Role.OWNER:
        raise MembershipError("Only owners can revoke or resend an invitation to an owner.")
    return record


@transaction.atomic
def revoke_invite(org: Organization, actor_role: str, actor, invite_id: int) -> OrganizationInvite:
    """Its link stops working at once (accept_invite refuses it under the same row lock)."""
    record = _open_invite(org, actor_role, invite_id)
    record.revoked = timezone.now()
    record.save(update_fields=["revoked"])
    log.info(
        "user %s revoked invite %s (%r as %s) of organization %s",
        getattr(actor, "pk", None), record.pk, record.email, record.role, org.slug,
    )  # fmt: skip
    return record


def resend_invite(org: Organization, actor_role: str, actor, invite_id: int) -> Invitation:
    """Only the hash of a link is stored, so a resend makes a new link (the old one stops working)
    valid for INVITE_VALID_FOR from now, and mails it."""
    if not mail_configured():
        raise MembershipError("Mail is not configured (EMAIL_URL): nothing can be resent.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        record = _open_invite(org, actor_role, invite_id)
        if not record.email:
            raise MembershipError("This invitation has no address to mail it to.")
        record.token_hash = hash_token(token)
        record.expires = timezone.now() + INVITE_VALID_FOR
        record.save(update_fields=["token_hash", "expires"])
    log.info("user %s resent invite %s to %r of organization %s", actor.pk, record.pk, record.email, org.slug)
    return _send(record, token, actor)


def find_invite(token: str) -> OrganizationInvite | None:
    """The invitation a link names, whatever its state (the page says why it cannot be used)."""
    return (
        OrganizationInvite.objects.select_related("organization").filter(token_hash=hash_token(token)).first()
    )


def usable(record: OrganizationInvite | None) -> bool:
    return (
        record is not None
        and record.accepted is None
        and record.revoked is None
        and record.expires > timezone.now()
    )


@transaction.atomic
def accept_invite(invite: OrganizationInvite, user) -> bool:
    """Makes user a member with the invite's role; False if the invite was used, revoked or
    resent (its expiry checked too) meanwhile. An existing member keeps a higher role."""
    used = OrganizationInvite.objects.filter(
        pk=invite.pk, token_hash=invite.token_hash, accepted=None, revoked=None, expires__gt=timezone.now()
    ).update(accepted=timezone.now())
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
