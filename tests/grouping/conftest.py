"""Grouping tests are pure Python: no database and no Django settings."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK_FIXTURES = REPO / "tests" / "fixtures" / "sdk"


def shared_dir() -> Path:
    """``shared/`` beside the repository, where CI always lays it (never shipped, never copied in).

    ``LIGHTTRACE_SHARED_DIR`` points elsewhere, e.g. from a git worktree whose parent has no ``shared/``."""
    return Path(os.environ.get("LIGHTTRACE_SHARED_DIR") or REPO.parent / "shared")


def require_shared(relative: str) -> Path:
    """A path under ``shared/``; fails the test (never skips it) when it is missing, since CI has it."""
    path = shared_dir() / relative
    if not path.exists():
        pytest.fail(
            f"{path} is missing: Sentry's grouping corpus must lie in shared/ beside the repository "
            "(or set LIGHTTRACE_SHARED_DIR to the folder holding conformance/)",
            pytrace=False,
        )
    return path


# The suite-wide conftest has autouse fixtures that need Django settings (caches
# of the ingest app, Redis clean-up).  Grouping needs neither; these same-named
# fixtures replace them for this directory so the tests also run without Django.


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """No ingest caches to reset here."""


@pytest.fixture(scope="session", autouse=True)
def _remove_redis_keys_of_this_run() -> None:
    """No Redis keys are created here."""


def read_envelope_events(path: Path) -> list[dict[str, Any]]:
    """Event payloads of an envelope: header line, then items (``length`` optional)."""
    data = path.read_bytes()
    pos = data.index(b"\n") + 1
    events = []
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end == -1 else end
        line = data[pos:end]
        pos = end + 1
        if not line.strip():
            continue
        header = json.loads(line)
        if header.get("length") is not None:
            payload = data[pos : pos + int(header["length"])]
            pos += int(header["length"]) + 1
        else:
            end = data.find(b"\n", pos)
            end = len(data) if end == -1 else end
            payload, pos = data[pos:end], end + 1
        if header.get("type") == "event":
            events.append(json.loads(payload))
    return events


@pytest.fixture
def sdk_event() -> Callable[[str], dict[str, Any]]:
    """``sdk_event("sentry.python-2.75.0/recursion")`` -> a fresh copy of its event."""

    def load(name: str) -> dict[str, Any]:
        path = SDK_FIXTURES / f"{name}.envelope"
        events = read_envelope_events(path)
        assert events, f"{path} holds no event"
        return copy.deepcopy(events[0])

    return load
