"""The real sentry-cli (PyPI `sentry-cli` 3.8.2) triaging issues that the real sentry-sdk reported."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_app.py"
CLI = Path(sys.executable).parent / "sentry-cli"


def sentry_cli(stack, *args: str) -> str:
    env = {
        **os.environ,
        "SENTRY_URL": stack.url,
        "SENTRY_AUTH_TOKEN": stack.token,
        "SENTRY_ORG": "e2e",
        "SENTRY_PROJECT": "cli",
        "SENTRY_DISABLE_UPDATE_CHECK": "1",
        "SENTRY_LOAD_DOTENV": "0",
    }
    done = subprocess.run([str(CLI), "issues", *args], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, f"sentry-cli issues {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def statuses(stack) -> dict[str, str]:
    return {i["shortId"]: i["status"] for i in stack.issues("cli", query="")}


def test_sentry_cli_lists_resolves_mutes_and_unresolves(live_stack):
    assert CLI.exists() or shutil.which("sentry-cli"), "pip install sentry-cli==3.8.2 (dev dependency)"
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True).stdout
    assert version.strip() == "sentry-cli 3.8.2"
    dsn = live_stack.create_project("cli")
    for scenario in ("unhandled", "chained", "logged_message"):
        done = subprocess.run([sys.executable, str(APP), dsn, scenario], capture_output=True, timeout=120)
        assert done.returncode in (0, 1)  # "unhandled" exits with its exception
    issues = live_stack.wait_for_count("cli", 3)
    by_short = {i["shortId"]: i["id"] for i in issues}
    assert sorted(by_short) == ["CLI-1", "CLI-2", "CLI-3"]

    listing = sentry_cli(live_stack, "list")
    assert all(short in listing for short in by_short) and "unresolved" in listing

    sentry_cli(live_stack, "resolve", "-i", by_short["CLI-1"])
    sentry_cli(live_stack, "mute", "-i", by_short["CLI-2"])
    assert statuses(live_stack) == {"CLI-1": "resolved", "CLI-2": "ignored", "CLI-3": "unresolved"}
    assert "ignored" in sentry_cli(live_stack, "list", "--query", "is:ignored")

    sentry_cli(live_stack, "unresolve", "-s", "muted")  # selects by status: the muted one
    assert statuses(live_stack) == {"CLI-1": "resolved", "CLI-2": "unresolved", "CLI-3": "unresolved"}
    sentry_cli(live_stack, "resolve", "--all")  # Sentry's default selection: every unresolved issue
    assert set(statuses(live_stack).values()) == {"resolved"}
    sentry_cli(live_stack, "unresolve", "-s", "resolved")
    assert set(statuses(live_stack).values()) == {"unresolved"}
    sentry_cli(live_stack, "mute", "--all")
    assert set(statuses(live_stack).values()) == {"ignored"}

    activity = live_stack.api(f"/api/0/issues/{by_short['CLI-2']}/")["activity"]
    newest_first = ["set_ignored", "set_unresolved", "set_resolved", "set_unresolved", "set_ignored"]
    assert [a["type"] for a in activity] == newest_first
    assert {a["user"]["username"] for a in activity} == {"e2e-bot"}
