"""Teams, members, roles and invitations: the rules (last owner, who grants what), the pages' access,
and an invite mailed through a real SMTP server (aiosmtpd) and accepted with the link it carried."""

import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from projects.models import OrganizationInvite, OrganizationMember, Team
from tests.e2e.stack import free_port
from tests.factories import as_user, organization_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_project):
    return organization_with_roles(make_project)


def member_id(username: str) -> int:
    return OrganizationMember.objects.get(user__username=username, organization__slug="acme").id


def role_of(username: str) -> str | None:
    return (
        OrganizationMember.objects.filter(user__username=username, organization__slug="acme")
        .values_list("role", flat=True)
        .first()
    )


def test_team_pages_create_teams_and_add_members_and_projects(people):
    project, _, users = people
    client = as_user(users["manny"])
    assert "csrfmiddlewaretoken" in client.get("/organizations/acme/teams/").content.decode()
    response = client.post("/organizations/acme/teams/", {"name": "Backend"})
    assert response.status_code == 302 and response["Location"] == "/organizations/acme/teams/backend/"
    team = Team.objects.get(slug="backend")
    url = "/organizations/acme/teams/backend/"
    client.post(url, {"action": "add-member", "user": users["mia"].id})
    client.post(url, {"action": "add-project", "project": project.id})
    assert list(team.members.all()) == [users["mia"]]
    assert sorted(project.teams.values_list("slug", flat=True)) == ["backend", "web"]
    page = client.get(url).content.decode()
    assert "mia" in page and 'href="/organizations/acme/projects/web/"' in page
    client.post(url, {"action": "remove-project", "project": project.id})
    client.post(url, {"action": "remove-member", "user": users["mia"].id})
    assert not team.members.exists() and list(project.teams.values_list("slug", flat=True)) == ["web"]


def test_team_form_errors_and_outsiders_cannot_join_a_team(people):
    _, _, users = people
    client = as_user(users["olivia"])
    duplicate = client.post("/organizations/acme/teams/", {"name": "web"})
    assert duplicate.status_code == 200 and "exists already" in duplicate.content.decode()
    foreign_project = users["otto"].memberships.get().organization.projects.get()
    url = "/organizations/acme/teams/web/"
    assert client.post(url, {"action": "add-member", "user": users["otto"].id}).status_code == 404
    assert client.post(url, {"action": "add-project", "project": foreign_project.id}).status_code == 404
    assert client.post(url, {"action": "explode"}).status_code == 404
    assert not Team.objects.get(slug="web").members.filter(pk=users["otto"].pk).exists()


@pytest.mark.parametrize(
    "url", ["/organizations/acme/teams/", "/organizations/acme/teams/web/", "/organizations/acme/members/"]
)
def test_settings_pages_are_403_for_members_and_404_for_outsiders(people, url):
    _, _, users = people
    assert as_user(users["mia"]).get(url).status_code == 403
    assert as_user(users["mia"]).post(url, {"name": "x", "action": "add-member"}).status_code == 403
    assert as_user(users["otto"]).get(url).status_code == 404
    assert as_user(users["manny"]).get(url).status_code == 200
    assert as_user(users["manny"]).get(url.replace("acme", "theirs")).status_code == 404


def test_roles_change_with_the_rules_of_owners_and_managers(people):
    _, _, users = people
    manager, owner = as_user(users["manny"]), as_user(users["olivia"])
    members_url = "/organizations/acme/members/"
    # A manager promotes a member to manager, but makes no owners and does not touch owners.
    assert manager.post(f"{members_url}{member_id('mia')}/", {"role": "manager"}).status_code == 302
    assert role_of("mia") == "manager"
    refused = manager.post(f"{members_url}{member_id('mia')}/", {"role": "owner"})
    assert refused.status_code == 400 and "Only owners can make owners" in refused.content.decode()
    refused = manager.post(f"{members_url}{member_id('olivia')}/", {"role": "member"})
    assert "Only owners can change or remove an owner" in refused.content.decode()
    assert role_of("olivia") == "owner"
    # The last owner can neither be demoted nor removed, even by herself.
    for data in ({"role": "manager"}, {"action": "remove"}):
        refused = owner.post(f"{members_url}{member_id('olivia')}/", data)
        assert "at least one owner" in refused.content.decode()
    assert role_of("olivia") == "owner"
    # With a second owner, the first may go.
    owner.post(f"{members_url}{member_id('manny')}/", {"role": "owner"})
    assert role_of("manny") == "owner"
    assert manager.post(f"{members_url}{member_id('olivia')}/", {"action": "remove"}).status_code == 302
    assert role_of("olivia") is None
    assert as_user(users["olivia"]).get("/organizations/acme/").status_code == 404
    invalid = manager.post(f"{members_url}{member_id('mia')}/", {"role": "emperor"})
    assert invalid.status_code == 400 and "Choose owner, manager or member" in invalid.content.decode()
    assert manager.post(f"{members_url}999999/", {"action": "remove"}).status_code == 404


def test_removing_a_member_takes_them_off_the_teams(people):
    _, _, users = people
    Team.objects.get(slug="web").members.add(users["mia"])
    as_user(users["olivia"]).post(f"/organizations/acme/members/{member_id('mia')}/", {"action": "remove"})
    assert not Team.objects.get(slug="web").members.exists()


def test_member_forms_need_csrf(people):
    _, _, users = people
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["olivia"])
    for url, data in [
        ("/organizations/acme/members/", {"email": "a@example.com", "role": "member"}),
        (f"/organizations/acme/members/{member_id('mia')}/", {"action": "remove"}),
        ("/organizations/acme/teams/", {"name": "x"}),
        ("/organizations/acme/teams/web/", {"action": "add-member", "user": users["mia"].id}),
    ]:
        assert strict.post(url, data).status_code == 403, url
    assert role_of("mia") == "member" and not OrganizationInvite.objects.exists()


def invite_link(client: Client, **data) -> str:
    page = client.post("/organizations/acme/members/", data).content.decode()
    match = re.search(r'<pre class="invite-link">http://[^/]+(/invite/[^<]+)</pre>', page)
    assert match, page
    return match.group(1)


def test_an_invite_link_creates_the_account_once(people):
    _, _, users = people
    link = invite_link(as_user(users["manny"]), email="", role="manager")
    anonymous = Client()
    form = anonymous.get(link).content.decode()
    assert "Join acme" in form and "csrfmiddlewaretoken" in form and "manager" in form
    mismatch = anonymous.post(link, {"username": "nina", "password1": "a-Long-pass-1", "password2": "other"})
    assert mismatch.status_code == 200 and "The two passwords differ" in mismatch.content.decode()
    taken = anonymous.post(
        link, {"username": "MIA", "password1": "a-Long-pass-1", "password2": "a-Long-pass-1"}
    )
    assert "This username is taken" in taken.content.decode()
    done = anonymous.post(
        link, {"username": "nina", "name": "Nina", "password1": "a-Long-pass-1", "password2": "a-Long-pass-1"}
    )
    assert done.status_code == 302 and done["Location"] == "/organizations/acme/"
    assert role_of("nina") == "manager" and get_user_model().objects.get(username="nina").first_name == "Nina"
    assert anonymous.get("/organizations/acme/").status_code == 200  # logged in as nina
    assert Client().get(link).status_code == 404  # used once
    assert Client().post(link, {"username": "x", "password1": "p", "password2": "p"}).status_code == 404


def test_a_logged_in_user_accepts_an_invite_and_keeps_a_higher_role(people):
    _, _, users = people
    link = invite_link(as_user(users["olivia"]), email="otto@example.com", role="member")
    otto = as_user(users["otto"])
    assert "Join as otto" in otto.get(link).content.decode()
    assert otto.post(link).status_code == 302
    assert role_of("otto") == "member"
    link = invite_link(as_user(users["olivia"]), role="member")
    as_user(users["manny"]).post(link)
    assert role_of("manny") == "manager"


def test_expired_and_unknown_invites_are_refused_and_managers_cannot_invite_owners(people):
    _, _, users = people
    link = invite_link(as_user(users["olivia"]), role="owner")
    OrganizationInvite.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert "cannot be used" in Client().get(link).content.decode()
    assert Client().get("/invite/not-a-token/").status_code == 404
    refused = as_user(users["manny"]).post("/organizations/acme/members/", {"role": "owner"})
    assert refused.status_code == 400 and "Only owners can invite owners" in refused.content.decode()
    bad_email = as_user(users["manny"]).post(
        "/organizations/acme/members/", {"email": "nope", "role": "member"}
    )
    assert "Enter a valid email address" in bad_email.content.decode()
    assert OrganizationInvite.objects.count() == 1


class Inbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = free_port()  # aiosmtpd's start() connects to its own port to check it: it cannot be 0
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "lighttrace@example.com"
    yield inbox
    controller.stop()


def test_an_invite_mailed_through_smtp_is_accepted_with_the_mailed_link(people, smtp_server):
    _, _, users = people
    page = as_user(users["olivia"]).post(
        "/organizations/acme/members/", {"email": "nina@example.com", "role": "member"}
    )
    assert "Mailed to nina@example.com" in page.content.decode()
    [(sender, recipients, content)] = smtp_server.messages
    assert sender == "lighttrace@example.com" and recipients == ["nina@example.com"]
    assert "You are invited to acme on LightTrace" in content
    link = re.search(r"http://\S+(/invite/\S+/)", content).group(1)
    assert link in page.content.decode()
    anonymous = Client()
    response = anonymous.post(
        link, {"username": "nina", "password1": "a-Long-pass-1", "password2": "a-Long-pass-1"}
    )
    assert response.status_code == 302 and role_of("nina") == "member"
    assert get_user_model().objects.get(username="nina").email == "nina@example.com"
    assert Client().login(username="nina", password="a-Long-pass-1")


def test_an_smtp_failure_still_shows_the_link(people, settings):
    _, _, users = people
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    page = as_user(users["olivia"]).post(
        "/organizations/acme/members/", {"email": "x@example.com", "role": "member"}
    )
    html = page.content.decode()
    assert "Could not mail it to x@example.com" in html and 'class="invite-link"' in html


def test_member_pages_take_a_bounded_number_of_queries(people, django_assert_max_num_queries):
    _, _, users = people
    org = users["olivia"].memberships.get(organization__slug="acme").organization
    for i in range(8):
        user = get_user_model().objects.create_user(username=f"u{i}")
        OrganizationMember.objects.create(organization=org, user=user)
        Team.objects.create(organization=org, slug=f"t{i}").members.add(user)
    client = as_user(users["olivia"])
    for url in (
        "/organizations/acme/members/",
        "/organizations/acme/teams/",
        "/organizations/acme/teams/t1/",
    ):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200, url
