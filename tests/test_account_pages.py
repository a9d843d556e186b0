"""Account pages: one's own name, API tokens shown once, usable with the API, and revoked."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import ApiToken
from tests.factories import as_user, organization_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_project):
    return organization_with_roles(make_project)


def test_anonymous_visitors_are_sent_to_login(client):
    for url in ("/account/", "/account/tokens/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_one_changes_ones_own_name(people):
    _, _, users = people
    client = as_user(users["mia"])
    assert "csrfmiddlewaretoken" in client.get("/account/").content.decode()
    response = client.post("/account/", {"first_name": "Mia", "last_name": "<Wallace>"})
    assert response.status_code == 302
    user = get_user_model().objects.get(username="mia")
    assert (user.first_name, user.last_name) == ("Mia", "<Wallace>")
    page = client.get("/account/?saved=1").content.decode()
    assert "Saved." in page and "&lt;Wallace&gt;" in page and "<Wallace>" not in page
    too_long = client.post("/account/", {"first_name": "x" * 151, "last_name": ""})
    assert too_long.status_code == 200 and "at most 150 characters" in too_long.content.decode()


def test_a_token_is_shown_once_works_with_the_api_and_is_revoked(people):
    _, _, users = people
    client = as_user(users["mia"])
    page = client.post("/account/tokens/", {"label": "ci"}).content.decode()
    token = page.split('<pre class="new-token">')[1].split("</pre>")[0]
    assert len(token) == 64
    assert token not in client.get("/account/tokens/").content.decode()  # only its hash is kept
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/0/projects/acme/web/issues/").status_code == 200
    assert api.get("/api/0/projects/theirs/secret/issues/").status_code == 404
    stored = ApiToken.objects.get(user=users["mia"])
    assert stored.label == "ci"
    # Nobody revokes someone else's token.
    assert as_user(users["otto"]).post(f"/account/tokens/{stored.id}/revoke/").status_code == 404
    assert client.post(f"/account/tokens/{stored.id}/revoke/").status_code == 302
    assert not ApiToken.objects.exists()
    assert api.get("/api/0/projects/acme/web/issues/").status_code == 401


def test_a_token_made_on_the_page_carries_the_chosen_scopes(people):
    _, _, users = people
    client = as_user(users["mia"])
    page = client.post("/account/tokens/", {"label": "ci", "scopes": ["project:releases"]}).content.decode()
    token = page.split('<pre class="new-token">')[1].split("</pre>")[0]
    assert ApiToken.objects.get(label="ci").scopes == ["project:releases"]
    ci = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ci.get("/api/0/organizations/acme/releases/").status_code == 200
    assert ci.get("/api/0/projects/acme/web/issues/").status_code == 403
    client.post("/account/tokens/", {"label": "full"})
    listed = client.get("/account/tokens/").content.decode()
    assert '<td class="scopes">project:releases</td>' in listed and '<td class="scopes">all</td>' in listed
    assert client.post("/account/tokens/", {"scopes": ["root:everything"]}).status_code == 200
    assert ApiToken.objects.count() == 2  # an unknown scope is refused by the form


def test_account_forms_need_csrf(people):
    _, _, users = people
    token, _ = ApiToken.issue(users["mia"], label="x")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["mia"])
    for url, data in [
        ("/account/", {"first_name": "A"}),
        ("/account/tokens/", {"label": "y"}),
        (f"/account/tokens/{token.id}/revoke/", {}),
    ]:
        assert strict.post(url, data).status_code == 403, url
    assert ApiToken.objects.count() == 1 and get_user_model().objects.get(username="mia").first_name == ""


def test_account_pages_take_a_bounded_number_of_queries(people, django_assert_max_num_queries):
    _, _, users = people
    for i in range(8):
        ApiToken.issue(users["mia"], label=f"t{i}")
    client = as_user(users["mia"])
    for url in ("/account/", "/account/tokens/"):
        # 4, and the header's links to the user's only organization (its projects, the user's role)
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200, url
