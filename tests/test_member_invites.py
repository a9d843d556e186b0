"""Pending invitations: listed on the members page and in Sentry's members API (`pending: true`),
revoked (page and `DELETE /organizations/{org}/members/invite-{id}/`) or resent (a new link),
with the members page's rules; a revoked or replaced link answers a clear page, never a 500."""

import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from projects.models import OrganizationInvite
from tests import test_members
from tests.factories import as_user
from tests.test_members import invite_link, member_id, role_of

people, smtp_server = test_members.people, test_members.smtp_server  # their fixtures

pytestmark = pytest.mark.django_db
MEMBERS = "/organizations/acme/members/"


def _invite(client: Client, email: str = "nina@example.com", role: str = "member") -> tuple[str, int]:
    link = invite_link(client, email=email, role=role)
    return link, OrganizationInvite.objects.latest("id").pk


def _api(user, scopes: list[str] | None = None) -> Client:
    _, token = ApiToken.issue(user, scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def no_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # EMAIL_URL's default


def test_the_members_page_lists_pending_invitations_with_revoke(people, no_mail):
    _, _, users = people
    olivia = as_user(users["olivia"])
    _invite(olivia, "nina@example.com", "manager")
    _, used = _invite(olivia, "used@example.com")
    OrganizationInvite.objects.filter(pk=used).update(accepted=timezone.now())
    html = olivia.get(MEMBERS).content.decode()
    table = html[html.index('class="pending-invites"') :]
    assert "nina@example.com" in table and "manager" in table and "<td>olivia</td>" in table
    assert timezone.now().strftime("%Y-%m-%d") in table and "used@example.com" not in table
    assert ">Revoke</button>" in table and "Resend" not in table  # mail is not configured here
    assert table.count("csrfmiddlewaretoken") == 1


def test_a_revoked_invitation_link_answers_a_clear_page(people, caplog):
    _, _, users = people
    link, invite_id = _invite(as_user(users["olivia"]))
    manny = as_user(users["manny"])
    with caplog.at_level(logging.INFO, logger="projects.members"):
        assert manny.post(f"{MEMBERS}invites/{invite_id}/", {"action": "revoke"}).status_code == 302
    assert (
        f"user {users['manny'].pk} revoked invite {invite_id} ('nina@example.com' as member)" in caplog.text
    )
    page = Client().get(link)
    assert page.status_code == 410 and "This invitation was revoked" in page.content.decode()
    signup = Client().post(
        link, {"username": "nina", "password1": "a-Long-pass-1", "password2": "a-Long-pass-1"}
    )
    assert signup.status_code == 410 and not get_user_model().objects.filter(username="nina").exists()
    assert as_user(users["otto"]).post(link).status_code == 410 and role_of("otto") is None
    assert "nina@example.com" not in manny.get(MEMBERS).content.decode()
    assert manny.post(f"{MEMBERS}invites/{invite_id}/", {"action": "revoke"}).status_code == 404  # once


def test_revoking_needs_the_role_csrf_and_the_organization(people):
    _, _, users = people
    _, invite_id = _invite(as_user(users["olivia"]))
    _, owner_invite = _invite(as_user(users["olivia"]), "boss@example.com", "owner")
    url = f"{MEMBERS}invites/{invite_id}/"
    assert as_user(users["mia"]).post(url, {"action": "revoke"}).status_code == 403
    assert as_user(users["otto"]).post(url, {"action": "revoke"}).status_code == 404
    theirs = OrganizationInvite.objects.create(
        organization=users["otto"].memberships.get().organization,
        email="t@example.com",
        token_hash="x" * 64,
        expires=timezone.now() + timedelta(days=1),
    )
    manny = as_user(users["manny"])
    assert manny.post(f"{MEMBERS}invites/{theirs.pk}/", {"action": "revoke"}).status_code == 404
    assert manny.post(url.replace("acme", "theirs"), {"action": "revoke"}).status_code == 404
    assert manny.get(url).status_code == 405 and manny.post(url, {"action": "explode"}).status_code == 404
    refused = manny.post(f"{MEMBERS}invites/{owner_invite}/", {"action": "revoke"})
    assert refused.status_code == 400 and "Only owners can revoke or resend" in refused.content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["olivia"])
    assert strict.post(url, {"action": "revoke"}).status_code == 403
    assert OrganizationInvite.objects.filter(revoked=None).count() == 3
    assert (
        as_user(users["olivia"]).post(f"{MEMBERS}invites/{owner_invite}/", {"action": "revoke"}).status_code
        == 302
    )


def test_resend_mails_a_new_link_and_the_old_one_stops_working(people, smtp_server):
    _, _, users = people
    olivia = as_user(users["olivia"])
    old_link, invite_id = _invite(olivia)
    OrganizationInvite.objects.filter(pk=invite_id).update(expires=timezone.now() - timedelta(minutes=1))
    assert ">Resend</button>" in olivia.get(MEMBERS).content.decode()
    page = olivia.post(f"{MEMBERS}invites/{invite_id}/", {"action": "resend"})
    assert page.status_code == 200 and "Mailed to nina@example.com" in page.content.decode()
    assert len(smtp_server.messages) == 2
    new_link = re.search(r"http://\S+(/invite/\S+/)", smtp_server.messages[-1][2]).group(1)
    assert new_link != old_link and new_link in page.content.decode()
    old = Client().get(old_link)
    assert old.status_code == 404 and "replaced by a newer link" in old.content.decode()
    done = Client().post(
        new_link, {"username": "nina", "password1": "a-Long-pass-1", "password2": "a-Long-pass-1"}
    )
    assert done.status_code == 302 and role_of("nina") == "member"


def test_resend_without_mail_or_address_is_refused(people, settings):
    _, _, users = people
    olivia = as_user(users["olivia"])
    _, invite_id = _invite(olivia)
    _, link_only = _invite(olivia, "")
    refused = olivia.post(f"{MEMBERS}invites/{link_only}/", {"action": "resend"})
    assert refused.status_code == 400 and "no address to mail it to" in refused.content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # EMAIL_URL's default
    refused = olivia.post(f"{MEMBERS}invites/{invite_id}/", {"action": "resend"})
    assert refused.status_code == 400 and "Mail is not configured" in refused.content.decode()


def test_the_members_api_lists_pending_invitations_after_the_members(people):
    _, _, users = people
    olivia = as_user(users["olivia"])
    _, first = _invite(olivia, "a@example.com", "manager")
    _, second = _invite(olivia, "b@example.com")
    OrganizationInvite.objects.filter(pk=second).update(expires=timezone.now() - timedelta(minutes=1))
    _, revoked = _invite(olivia, "c@example.com")
    olivia.post(f"{MEMBERS}invites/{revoked}/", {"action": "revoke"})
    body = _api(users["mia"]).get("/api/0/organizations/acme/members/").json()
    assert [m["pending"] for m in body] == [False, False, False, True, True]
    pending = body[3]
    assert (
        pending["id"] == f"invite-{first}" and pending["email"] == "a@example.com" and pending["user"] is None
    )
    assert (pending["role"], pending["inviterName"], pending["expired"]) == ("manager", "olivia", False)
    assert body[4]["expired"] is True
    pages = [
        _api(users["mia"]).get("/api/0/organizations/acme/members/", {"per_page": 2, "cursor": f"0:{o}:0"})
        for o in (0, 2, 4)
    ]
    assert [m["id"] for p in pages for m in p.json()] == [m["id"] for m in body]
    assert 'rel="next"; results="false"' in pages[2]["Link"]


def test_the_members_api_deletes_invitations_and_members_with_the_pages_rules(people):
    _, _, users = people
    link, invite_id = _invite(as_user(users["olivia"]))
    url = "/api/0/organizations/acme/members/"
    assert _api(users["mia"]).delete(f"{url}invite-{invite_id}/").status_code == 403
    assert _api(users["manny"], ["member:read"]).delete(f"{url}invite-{invite_id}/").status_code == 403
    assert _api(users["otto"]).delete(f"{url}invite-{invite_id}/").status_code == 404
    assert (
        _api(users["otto"]).delete(f"/api/0/organizations/theirs/members/invite-{invite_id}/").status_code
        == 404
    )
    manny = _api(users["manny"])
    assert manny.delete(f"{url}invite-{invite_id}/").status_code == 204
    assert Client().get(link).status_code == 410
    assert manny.delete(f"{url}invite-{invite_id}/").status_code == 404
    for bad in ("invite-x", "nope", "invite-999999", "999999"):
        assert manny.delete(f"{url}{bad}/").status_code == 404, bad
    refused = manny.delete(f"{url}{member_id('olivia')}/")
    assert refused.status_code == 403 and "Only owners" in refused.json()["detail"]
    assert manny.delete(f"{url}{member_id('mia')}/").status_code == 204 and role_of("mia") is None


def test_the_members_page_with_invitations_takes_a_bounded_number_of_queries(
    people, django_assert_max_num_queries
):
    _, _, users = people
    olivia = as_user(users["olivia"])
    for i in range(8):
        _invite(olivia, f"p{i}@example.com")
    with django_assert_max_num_queries(12):
        assert olivia.get(MEMBERS).status_code == 200
    with django_assert_max_num_queries(8):
        assert len(_api(users["olivia"]).get("/api/0/organizations/acme/members/").json()) == 11
