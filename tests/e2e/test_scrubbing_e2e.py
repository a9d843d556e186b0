"""Secrets sent through the real Python SDK are gone from everything LightTrace stored."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_secrets.py"
SECRETS = re.compile(rb"SECRET-[A-Z]+-\d\d|4111[ -]?1111[ -]?1111[ -]?1111|U0VDUkVULUhEUi0wOA==")


def test_no_secret_survives_in_the_database(live_stack):
    dsn = live_stack.create_project("py-secrets")
    done = subprocess.run(
        [sys.executable, str(APP), dsn, "SECRET"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    live_stack.wait_for_count("py-secrets", 2)
    dump = subprocess.run(
        ["pg_dump", "--no-owner", live_stack.env["DATABASE_URL"]],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    assert b"charge failed, retry with Bearer" in _stored_payloads(live_stack)  # the non-secret part stays
    leaks = [line[:300] for line in dump.splitlines() if SECRETS.search(line)]
    assert leaks == []
    # Event payloads are zstd-compressed in the dump; look inside every one of them as well.
    payloads = _stored_payloads(live_stack)
    leaks = [payloads[max(0, m.start() - 120) : m.end() + 20] for m in SECRETS.finditer(payloads)]
    assert leaks == [], b"\n---\n".join(leaks).decode(errors="replace")
    assert b"[Filtered]" in _stored_payloads(live_stack)


def _stored_payloads(live_stack) -> bytes:
    rows = live_stack.sql("SELECT data FROM issues_event")
    rows += live_stack.sql("SELECT data FROM issues_attachment")
    decompressor = zstandard.ZstdDecompressor()
    out = []
    for (data,) in rows:
        raw = bytes(data)
        try:
            out.append(decompressor.decompress(raw))
        except zstandard.ZstdError:
            out.append(raw)
    return b"\n".join(out)
