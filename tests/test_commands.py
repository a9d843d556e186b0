"""Provisioning commands operators automate with."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, hash_token
from projects.models import OrganizationMember, Project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _served_url_apart(settings, tmp_path):
    """`serve` writes the URL it serves on into DATA_DIR; these tests keep it out of the run's."""
    settings.SERVED_URL_FILE = tmp_path / "served-url"


def _last_line(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_create_project_prints_dsn_last_and_is_idempotent(capsys):
    call_command("create_project", "acme", "api", "--platform", "python")
    dsn = _last_line(capsys)
    project = Project.objects.get(slug="api")
    key = project.keys.get()
    assert dsn == f"http://{key.public_key}@127.0.0.1:8000/{project.id}" or dsn.endswith(
        f"@{dsn.split('@')[1]}"
    )
    assert dsn.startswith("http") and dsn.endswith(f"/{project.id}") and key.public_key in dsn
    call_command("create_project", "acme", "api")
    assert _last_line(capsys) == dsn and Project.objects.count() == 1


def test_create_project_owner(capsys):
    user = get_user_model().objects.create_user("olga")
    call_command("create_project", "acme", "api", "--owner", "olga")
    project = Project.objects.get(slug="api")
    assert OrganizationMember.objects.get(user=user).role == "owner"
    assert user in project.team.members.all()


def test_create_api_token_creates_superuser_and_prints_token(capsys):
    call_command("create_api_token", "robot")
    token = _last_line(capsys)
    user = get_user_model().objects.get(username="robot")
    assert user.is_superuser and ApiToken.objects.get(user=user).token_hash == hash_token(token)


@pytest.mark.django_db(transaction=True)
def test_createsuperuser_noinput_works_with_env_password():
    env = {**os.environ, "DJANGO_SUPERUSER_PASSWORD": "s3cret-pass"}
    # A subprocess, as operators run it; it writes to the test database through DATABASE_URL.
    from django.db import connection

    env["DATABASE_URL"] = _database_url(connection)
    subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", "root2", "--email", "r@x.io"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    user = get_user_model().objects.get(username="root2")
    assert user.is_superuser and user.check_password("s3cret-pass")


def _database_url(connection) -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_queue_status_prints_depth_and_lag(capsys, clean_buffer):
    clean_buffer.put(b'{"p":1,"k":1,"r":1.0}\nx')
    call_command("queue_status")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "queue_depth 1" and lines[1].startswith("queue_lag_seconds ")


def test_serve_only_runs_the_roles_asked_for(monkeypatch, settings):
    import json as _json

    from django.core.management import CommandError

    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    started = {}
    monkeypatch.setattr("os.execv", lambda path, argv: started.update(_json.loads(argv[3])))
    call_command("serve", "--only", "worker,scheduler")
    assert sorted(started) == ["alerts", "scheduler", "worker"]  # the alert worker comes with workers
    assert "celery" in started["worker"][0] and "beat" in started["scheduler"]
    assert started["alerts"][-3:] == ["4", "--hostname", "alerts@%h"]
    with pytest.raises(CommandError, match="unknown role"):
        call_command("serve", "--only", "web,gpu")


def test_bootstrap_prints_the_generated_admin_password_once(settings, tmp_path):
    from io import StringIO

    settings.DATA_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("bootstrap", stdout=first)
    call_command("bootstrap", stdout=second)
    password = (tmp_path / "initial-admin.txt").read_text().splitlines()[1]
    assert f"password: {password}" in first.getvalue()
    assert password not in second.getvalue() and "initial-admin.txt" in second.getvalue()


def test_serve_embedded_runs_web_and_the_runner_without_celery(monkeypatch, settings):
    import json as _json

    settings.REDIS_URL = ""
    started = {}
    monkeypatch.setattr("os.execv", lambda path, argv: started.update(_json.loads(argv[3])))
    call_command("serve")
    assert sorted(started) == ["web", "worker"]
    assert started["worker"][-2:] == ["-m", "config.runner"]
    assert not any("celery" in part for command in started.values() for part in command)


def test_serve_starts_celery_without_its_banner_and_at_warning_level(monkeypatch, settings):
    import json as _json

    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    started = {}
    monkeypatch.setattr("os.execv", lambda path, argv: started.update(_json.loads(argv[3])))
    call_command("serve", "--only", "worker,scheduler")
    for command in started.values():
        assert "--quiet" in command
        assert command[command.index("--loglevel") + 1] == "WARNING"


def test_create_api_token_with_scopes(capsys):
    call_command("create_api_token", "ci-bot", "--scopes", "project:releases,org:read")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiToken.objects.get(token_hash=hash_token(token)).scopes == ["project:releases", "org:read"]
    with pytest.raises(CommandError, match="unknown scopes: project:everything"):
        call_command("create_api_token", "ci-bot", "--scopes", "project:everything")


def test_serve_runs_the_web_front_with_its_limits(monkeypatch, settings):
    import json as _json

    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.WEB_FRONT = {**settings.WEB_FRONT, "HEADER_SECONDS": 2.5, "MAX_CONNECTIONS": 77}
    started = {}
    monkeypatch.setattr("os.execv", lambda path, argv: started.update(_json.loads(argv[3])))
    call_command("serve", "--only", "web")
    web = " ".join(started["web"])
    assert "--interface rsgi config.front:front" in web  # bodies received before a thread runs them
    assert "--http1-header-read-timeout 2500" in web and "--backpressure 77" in web
    assert "--http 1" in web and "--blocking-threads" not in web


@pytest.mark.parametrize("workers, one_process", [(None, True), ("1", True), ("2", False)])
def test_serve_embedded_runs_one_web_worker_in_one_process(monkeypatch, settings, workers, one_process):
    """granian's CLI with one worker is two processes, one of them only watching the other (30 MB):
    the embedded default runs granian's server in the web process itself (config/web.py)."""
    import json as _json

    settings.REDIS_URL = ""
    settings.WEB_FRONT = {**settings.WEB_FRONT, "HEADER_SECONDS": 2.5, "MAX_CONNECTIONS": 77}
    if workers:
        monkeypatch.setenv("WEB_WORKERS", workers)
    else:
        monkeypatch.delenv("WEB_WORKERS", raising=False)
    started = {}
    monkeypatch.setattr("os.execv", lambda path, argv: started.update(_json.loads(argv[3])))
    call_command("serve", "--only", "web")
    web = " ".join(started["web"])
    assert ("-m config.web" in web) is one_process and ("config.front:front" in web) is not one_process
    if one_process:
        assert "--header-timeout-ms 2500" in web and "--backpressure 77" in web


def test_the_embedded_web_process_serves_the_api_without_psycopg_or_requests():
    """DRF imports django.contrib.postgres (psycopg) and requests when installed; the embedded web
    process never uses them (16 MB): config/web.py marks them absent, and the API still loads."""
    code = (
        "from config.web import hide_unused_modules; hide_unused_modules(); import django; django.setup(); "
        "import config.urls, rest_framework.serializers, sys; "
        "print(sorted(m for m in ('psycopg', 'urllib3') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", LIGHTTRACE_WITHOUT_CELERY_APP="1")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_commands_run_later_print_the_dsn_of_the_port_serve_listens_on(monkeypatch, settings, tmp_path):
    """`PORT=8731 make run`, then `manage.py create_project` from another shell without PORT: the
    DSN names port 8731, not the default 8000. An explicit PORT or LIGHTTRACE_URL still wins."""
    monkeypatch.setattr("os.execv", lambda path, argv: None)
    monkeypatch.delenv("LIGHTTRACE_URL", raising=False)
    settings.PORT = 8731
    call_command("serve")
    assert settings.SERVED_URL_FILE.read_text() == "http://127.0.0.1:8731\n"

    code = "import django; django.setup(); from django.conf import settings; print(settings.LIGHTTRACE_URL)"
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "LIGHTTRACE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATA_DIR=str(tmp_path))

    def url(**extra) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert url() == "http://127.0.0.1:8731"
    assert url(PORT="9000") == "http://127.0.0.1:9000"
    assert url(LIGHTTRACE_URL="https://errors.example.com") == "https://errors.example.com"
