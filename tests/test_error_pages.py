"""Styled error pages, the favicon, and static files (the admin's CSS) served by the app itself."""

import pytest
from django.template.loader import render_to_string
from django.test import Client

from tests.factories import as_user, organization_with_roles

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def test_a_missing_page_is_styled_and_leads_home(client, make_project):
    make_project()
    response = client.get("/organizations/nobody/projects/nothing/")
    assert response.status_code in (302, 404)  # anonymous visitors go to the login page first
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "404 · Not found" in html and 'href="/"' in html and "lighttrace/favicon.svg" in html


def test_an_expired_form_says_so_in_words(make_project):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "This form expired" in response.content.decode()


def test_the_server_error_page_needs_no_request_or_database():
    html = render_to_string("500.html")  # rendered with no context, as Django does
    assert "500 · Something went wrong" in html and "{%" not in html


def test_the_admin_is_styled_and_the_favicon_served(client):
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert "body" in _body(css)
    favicon = client.get("/favicon.ico", follow=True)
    assert favicon.status_code == 200 and favicon["Content-Type"] == "image/svg+xml"
    assert _body(favicon).startswith("<svg")


def test_bad_requests_and_missing_roles_get_styled_pages(client, make_project):
    bad = client.get("/login/", HTTP_HOST="evil.example")  # a Host the site does not answer to
    assert bad.status_code == 400 and "400 · Bad request" in bad.content.decode()
    _, _, users = organization_with_roles(make_project)
    refused = as_user(users["mia"]).get("/organizations/acme/members/")
    html = refused.content.decode()
    assert refused.status_code == 403 and "403 · Not allowed" in html and "lighttrace/favicon.svg" in html
