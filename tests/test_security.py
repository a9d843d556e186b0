"""Isolation between organizations, CSRF on every form, login throttling, secrets from files, cookies."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import ApiToken
from issues.models import Issue
from issues.store import store_events
from tests.factories import clear_cache_of_this_run, rich_prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_orgs(make_project):
    mine, _ = make_project(org="mine", slug="app")
    theirs, _ = make_project(org="theirs", slug="secret")
    store_events(theirs.id, [rich_prepared_event(hashes=["e" * 32])])
    issue = Issue.objects.get(project=theirs)
    return user_with_membership(mine, "alice"), issue


def test_every_page_and_api_of_another_organization_is_404(two_orgs, client):
    user, issue = two_orgs
    client.force_login(user)
    pages = [
        "/organizations/theirs/projects/secret/",
        "/organizations/theirs/projects/secret/settings/",
        "/organizations/theirs/usage/",
        f"/organizations/theirs/projects/secret/issues/{issue.id}/",
        f"/organizations/theirs/projects/secret/issues/{issue.id}/events/latest/",
        f"/organizations/mine/projects/app/issues/{issue.id}/",  # right org in the URL, wrong issue
    ]
    for url in pages:
        assert client.get(url).status_code == 404, url
    posts = [
        (f"/organizations/theirs/projects/secret/issues/{issue.id}/status/", {"status": "resolved"}),
        (f"/organizations/theirs/projects/secret/issues/{issue.id}/unmerge/", {"hash": "e" * 32}),
        ("/organizations/theirs/projects/secret/merge/", {"issue": [issue.id]}),
        ("/organizations/theirs/projects/secret/settings/", {"grouping_config": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    _, token = ApiToken.issue(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for url in [
        "/api/0/projects/theirs/secret/issues/",
        f"/api/0/issues/{issue.id}/",
        f"/api/0/issues/{issue.id}/events/",
        f"/api/0/issues/{issue.id}/events/latest/",
        f"/api/0/issues/{issue.id}/hashes/",
    ]:
        assert api.get(url).status_code == 404, url
    assert api.put(f"/api/0/projects/theirs/secret/issues/?id={issue.id}", {"status": "resolved"},
                   content_type="application/json").status_code == 404  # fmt: skip
    assert api.delete(f"/api/0/issues/{issue.id}/hashes/?id={'e' * 32}").status_code == 404
    issue.refresh_from_db()
    assert issue.status == "unresolved"


def test_superusers_see_every_organization(two_orgs, client):
    _, issue = two_orgs
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    client.force_login(admin)
    assert client.get(f"/organizations/theirs/projects/secret/issues/{issue.id}/").status_code == 200


def test_every_form_needs_a_csrf_token(make_project):
    project, _ = make_project()
    store_events(project.id, [rich_prepared_event()])
    issue = Issue.objects.get()
    user = user_with_membership(project, "owner")
    user.memberships.update(role="owner")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    base = "/organizations/acme/projects/web"
    for url, data in [
        (f"{base}/issues/{issue.id}/status/", {"status": "resolved"}),
        (f"{base}/issues/{issue.id}/unmerge/", {"hash": "a" * 32}),
        (f"{base}/merge/", {"issue": [issue.id]}),
        (f"{base}/settings/", {"grouping_config": "newstyle:2023-01-11"}),
        ("/logout/", {}),
    ]:
        assert strict.post(url, data).status_code == 403, url
    assert (
        Client(enforce_csrf_checks=True).post("/login/", {"username": "owner", "password": "x"}).status_code
        == 403
    )


def test_login_is_throttled_after_repeated_failures(client, make_project):
    clear_cache_of_this_run()
    get_user_model().objects.create_user("bob", password="right-password")
    for _ in range(5):
        assert client.post("/login/", {"username": "bob", "password": "wrong"}).status_code == 200
    locked = client.post("/login/", {"username": "bob", "password": "right-password"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    clear_cache_of_this_run()
    assert client.post("/login/", {"username": "bob", "password": "right-password"}).status_code == 302


# These tests give each its own client address instead of clearing the cache (a Redis FLUSHDB).
def test_admin_login_is_throttled_too(client, make_project):
    get_user_model().objects.create_superuser("root", password="right-password")
    addr = {"REMOTE_ADDR": "198.51.100.1"}
    for _ in range(5):
        assert (
            client.post("/admin/login/", {"username": "root", "password": "wrong"}, **addr).status_code == 200
        )
    locked = client.post("/admin/login/", {"username": "root", "password": "right-password"}, **addr)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


def test_failures_of_one_user_do_not_lock_out_a_colleague_behind_the_same_address(client, make_project):
    users = get_user_model().objects
    users.create_user("bob2", password="right-password")
    users.create_user("carol", password="carol-password")
    addr = {"REMOTE_ADDR": "198.51.100.2"}
    for _ in range(6):
        client.post("/login/", {"username": "bob2", "password": "wrong"}, **addr)
    assert (
        client.post("/login/", {"username": "carol", "password": "carol-password"}, **addr).status_code == 302
    )


def test_an_address_spraying_usernames_is_locked_out(client, make_project):
    from accounts.throttle import MAX_FAILURES_PER_ADDRESS

    get_user_model().objects.create_user("dave", password="dave-password")
    addr = {"REMOTE_ADDR": "198.51.100.3"}
    for n in range(MAX_FAILURES_PER_ADDRESS):
        client.post("/login/", {"username": f"guess{n}", "password": "wrong"}, **addr)
    assert (
        client.post("/login/", {"username": "dave", "password": "dave-password"}, **addr).status_code == 429
    )


def test_parallel_attempts_check_no_more_passwords_than_the_limit():
    """Counted before the password is checked, atomically (on the suite's real Redis cache)."""
    from concurrent.futures import ThreadPoolExecutor

    from accounts.throttle import MAX_FAILURES_PER_USER, reserve_attempt

    with ThreadPoolExecutor(max_workers=40) as pool:
        allowed = list(pool.map(lambda n: reserve_attempt("erin-parallel", f"203.0.113.{n}"), range(40)))
    assert sum(allowed) == MAX_FAILURES_PER_USER


def test_a_successful_login_gives_its_attempt_back(client, make_project):
    get_user_model().objects.create_user("frank", password="right-password")
    addr = {"REMOTE_ADDR": "198.51.100.4"}
    for _ in range(4):
        client.post("/login/", {"username": "frank", "password": "wrong"}, **addr)
    assert (
        client.post("/login/", {"username": "frank", "password": "right-password"}, **addr).status_code == 302
    )
    client.logout()
    for _ in range(4):
        assert client.post("/login/", {"username": "frank", "password": "wrong"}, **addr).status_code == 200
    assert (
        client.post("/login/", {"username": "frank", "password": "right-password"}, **addr).status_code == 302
    )


def _settings_in_subprocess(env: dict, expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file-0123456789\n")
    password_file = tmp_path / "dbpass"
    password_file.write_text("db-pass-from-file")
    env = {
        "SECRET_KEY_FILE": str(secret_file),
        "DATABASE_URL": "postgres://lt@db.example:5432/lt",
        "DATABASE_PASSWORD_FILE": str(password_file),
    }
    assert _settings_in_subprocess(env, "settings.SECRET_KEY") == "from-a-file-0123456789"
    assert _settings_in_subprocess(env, "settings.DATABASES['default']['PASSWORD']") == "db-pass-from-file"


def test_cookies_are_secure_only_when_served_over_https():
    https = {"LIGHTTRACE_URL": "https://errors.example.com"}
    assert (
        _settings_in_subprocess(https, "(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)")
        == "(True, True)"
    )
    plain = {"LIGHTTRACE_URL": "http://127.0.0.1:8000"}
    assert _settings_in_subprocess(plain, "settings.SESSION_COOKIE_SECURE") == "False"


def test_operators_set_quotas_and_key_limits_in_the_admin(client, make_project):
    project, key = make_project()
    admin = get_user_model().objects.create_superuser("ops", "", "pw")
    client.force_login(admin)
    for url in (
        "/admin/projects/organization/",
        f"/admin/projects/organization/{project.organization_id}/change/",
        f"/admin/projects/project/{project.id}/change/",
        "/admin/usage/outcome/",
    ):
        assert client.get(url).status_code == 200, url
    member = user_with_membership(project, "plain")
    client.force_login(member)
    assert client.get("/admin/projects/organization/").status_code == 302  # not staff: back to login


def test_pages_answer_only_to_the_public_host_by_default():
    env = {"LIGHTTRACE_URL": "https://errors.example.com"}
    hosts = _settings_in_subprocess(env, "','.join(settings.ALLOWED_HOSTS)").split(",")
    assert "errors.example.com" in hosts and "127.0.0.1" in hosts and "*" not in hosts


def test_data_dir_and_the_files_in_it_are_private(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    env = {"DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}"}
    code = (
        "import django; django.setup(); from django.db import connection; "
        "connection.cursor().execute('PRAGMA user_version')"
    )
    subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        check=True, umask=0o022,
    )  # fmt: skip
    assert data_dir.stat().st_mode & 0o777 == 0o700
    written = [p for p in data_dir.iterdir() if p.is_file()]
    assert {p.name for p in written} >= {"secret_key", "db.sqlite3"}
    assert all(p.stat().st_mode & 0o077 == 0 for p in written), [
        (p.name, oct(p.stat().st_mode)) for p in written
    ]


def test_a_forged_host_header_is_refused(client, make_project):
    assert client.get("/login/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/login/", HTTP_HOST="127.0.0.1").status_code == 200


def test_pages_carry_a_strict_content_security_policy(client, make_project):
    first, second = client.get("/login/"), client.get("/login/")
    policy = first["Content-Security-Policy"]
    assert (
        "script-src 'self' 'nonce-" in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert policy != second["Content-Security-Policy"]  # a fresh nonce per response
    assert "camera=()" in first["Permissions-Policy"]


def test_hsts_is_on_when_served_over_https():
    https = {"LIGHTTRACE_URL": "https://errors.example.com"}
    assert _settings_in_subprocess(https, "settings.SECURE_HSTS_SECONDS") == "31536000"
    assert (
        _settings_in_subprocess({"LIGHTTRACE_URL": "http://127.0.0.1:8000"}, "settings.SECURE_HSTS_SECONDS")
        == "0"
    )
