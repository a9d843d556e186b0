"""The real sentry-cli 3.8.2 (PyPI `sentry-cli`) against a live LightTrace: the CI release step and
the commands teams use to check their set-up, with exit codes and output asserted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.stack import manage

pytestmark = pytest.mark.e2e
SENTRY_CLI = Path(sys.executable).parent / "sentry-cli"


@pytest.fixture(scope="module")
def cli(live_stack, tmp_path_factory):
    """Runs sentry-cli with the stack's URL and token, from an empty home (no ~/.sentryclirc)."""
    assert SENTRY_CLI.exists() or shutil.which("sentry-cli"), "pip install sentry-cli==3.8.2 (dev extras)"
    dsn = live_stack.create_project("cli-web", platform="python", org="cli-org")
    live_stack.create_project("cli-api", platform="node", org="cli-org")
    home = tmp_path_factory.mktemp("cli-home")
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "SENTRY_URL": live_stack.url,
        "SENTRY_AUTH_TOKEN": live_stack.token,
        "SENTRY_ORG": "cli-org",
        "SENTRY_PROJECT": "cli-web",
        "SENTRY_DSN": dsn,
        "SENTRY_DISABLE_UPDATE_CHECK": "1",
        "SENTRY_LOAD_DOTENV": "0",
    }

    def run(*args: str, token: str | None = None, login: bool = False) -> subprocess.CompletedProcess:
        run_env = {**env, "SENTRY_AUTH_TOKEN": token} if token else env
        if login:  # `login` stores the token it is given: no token in the environment, none on disk
            run_env = {k: v for k, v in run_env.items() if k != "SENTRY_AUTH_TOKEN"}
        # cwd: `login` writes a .sentryclirc into the working folder, never into the checkout.
        return subprocess.run(
            [str(SENTRY_CLI), *args], env=run_env, cwd=home, capture_output=True, text=True, timeout=120
        )

    return run


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_version_is_the_one_under_test(cli):
    assert "sentry-cli 3.8.2" in ok(cli("--version"))


def test_info_names_the_user_and_scopes(cli):
    out = ok(cli("info"))
    assert "Default Organization: cli-org" in out and "Default Project: cli-web" in out
    assert "Method: Auth Token" in out and "User: " in out and "- project:releases" in out


def test_info_fails_with_a_bad_token(cli):
    done = cli("info", token="0" * 64)
    assert done.returncode == 1


def test_login_with_a_token_checks_it_and_stores_it(cli, live_stack):
    out = ok(cli("--auth-token", live_stack.token, "login", login=True))
    assert "Valid token for user" in out
    refused = cli("--auth-token", "f" * 64, "login", login=True)
    assert refused.returncode == 1 and "401" in refused.stderr + refused.stdout


def test_organizations_and_projects_list(cli):
    orgs = ok(cli("organizations", "list"))
    assert "cli-org" in orgs
    projects = ok(cli("projects", "list"))
    assert "cli-web" in projects and "cli-api" in projects


def test_release_step_of_a_ci_pipeline(cli, live_stack):
    version = f"shop@{uuid.uuid4().hex[:8]}+build.7"
    assert (
        ok(cli("releases", "new", version, "-p", "cli-web", "-p", "cli-api")).strip()
        == f"Created release {version}"
    )
    info = ok(cli("releases", "info", version, "--show-projects"))
    assert version in info and "cli-web" in info and "cli-api" in info
    listed = ok(cli("releases", "list"))
    assert version in listed and "(unreleased)" in listed
    assert ok(cli("releases", "finalize", version)).strip() == f"Finalized release {version}"
    release = live_stack.api(f"/api/0/organizations/cli-org/releases/{version.replace('+', '%2B')}/")
    assert release["dateReleased"] is not None
    (row,) = [line for line in ok(cli("releases", "list")).splitlines() if version in line]
    assert "ago" in row and "(unreleased)" not in row
    assert version in ok(cli("releases", "list", "--raw")).splitlines()
    assert ok(cli("deploys", "new", "-r", version, "-e", "production", "-n", "canary")).strip() == (
        "Created new deploy canary for 'production'"
    )
    deploys = ok(cli("deploys", "list", "-r", version))
    assert "production" in deploys and "canary" in deploys
    assert ok(cli("releases", "archive", version)).strip() == f"Archived release {version}"
    assert version not in ok(cli("releases", "list", "--raw")).splitlines()
    assert ok(cli("releases", "restore", version)).strip() == f"Restored release {version}"
    assert version in ok(cli("releases", "list", "--raw")).splitlines()
    assert ok(cli("releases", "delete", version)).strip() == f"Deleted release {version}!"
    assert cli("releases", "info", version).returncode == 1
    again = ok(cli("releases", "delete", version))
    assert "does not exist" in again


def test_send_event_then_events_list_and_the_release_it_created(cli, live_stack):
    release = f"cli-{uuid.uuid4().hex[:8]}"
    out = cli("send-event", "-m", "Checkout failed for cart 7", "--release", release, "-E", "staging")
    assert out.returncode == 0, out.stderr
    live_stack.wait_for(
        lambda: live_stack.api(f"/api/0/projects/cli-org/cli-web/issues/?query=release:{release}"),
        what="the sent event",
    )
    events = ok(cli("events", "list", "--show-tags"))
    assert "Checkout failed for cart 7" in events and f"release: {release}" in events
    info = ok(cli("releases", "info", release))
    assert release in info and "Last event" in info
    listed = ok(cli("releases", "list", "-p", "cli-web"))
    assert release in listed
    environments = live_stack.api("/api/0/projects/cli-org/cli-web/environments/")
    assert "staging" in [e["name"] for e in environments]
    # The issue it opened names the release: deleting it is refused, as Sentry refuses it.
    refused = cli("releases", "delete", release)
    assert refused.returncode == 1 and "referenced by active issues" in refused.stderr, refused.stderr
    assert release in ok(cli("releases", "info", release))


def test_another_organizations_token_sees_nothing(cli, live_stack):
    manage(
        live_stack.env, "create_project", "cli-other", "shop", "--owner", "cli-outsider"
    ) if False else None
    manage(
        live_stack.env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.get_or_create(username='cli-outsider')",
    )
    manage(live_stack.env, "create_project", "cli-other", "shop", "--owner", "cli-outsider")
    token = manage(live_stack.env, "create_api_token", "cli-outsider")
    orgs = ok(cli("organizations", "list", token=token))
    assert "cli-other" in orgs and "cli-org" not in orgs
    assert cli("projects", "list", token=token).returncode == 1
    assert cli("releases", "list", token=token).returncode == 1
    refused = cli("releases", "new", "x-1", "-p", "cli-web", token=token)
    assert refused.returncode == 1 and "organization" in refused.stderr.lower()
    assert cli("events", "list", token=token).returncode == 1
