"""Hostile clients against the real server (`manage.py serve`: granian, the web front, a real worker),
on the embedded default and on PostgreSQL + Redis: slow bodies, bodies that never come, chunked
trickles, header trickles and idle connections must not stall the SDKs, the pages or /_health/."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import pytest

from tests.e2e.stack import LiveStack, base_env, free_port, manage, migrate

pytestmark = pytest.mark.e2e
TIMEOUT = 2  # WEB_BODY_TIMEOUT_SECONDS and WEB_HEADER_TIMEOUT_SECONDS of the embedded stack here
SDK_APP = """
import sys, time, sentry_sdk
sentry_sdk.init(dsn=sys.argv[1], default_integrations=False)
started = time.monotonic()
sentry_sdk.capture_message(sys.argv[2])
sentry_sdk.flush(timeout=10)
print(time.monotonic() - started)
"""


@pytest.fixture(scope="module")
def embedded_stack(tmp_path_factory):
    port = free_port()
    env = base_env(tmp_path_factory.mktemp("hostile-data"), port)
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(WEB_BODY_TIMEOUT_SECONDS=str(TIMEOUT), WEB_HEADER_TIMEOUT_SECONDS=str(TIMEOUT))
    migrate(env)
    stack = LiveStack(
        url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "hostile")
    )
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(params=["embedded", "postgresql"])
def stack(request) -> LiveStack:
    return request.getfixturevalue("embedded_stack" if request.param == "embedded" else "live_stack")


def port_of(stack: LiveStack) -> int:
    return int(stack.url.rsplit(":", 1)[1])


def project_of(stack: LiveStack, slug: str) -> tuple[str, str, str]:
    dsn = stack.projects.get(slug) or stack.create_project(slug)
    return dsn, dsn.split("//", 1)[1].split("@", 1)[0], dsn.rsplit("/", 1)[1]


def slow_heads(project: str, key: str) -> dict[str, tuple[bytes, bytes]]:
    """Kinds of slow client: (what they send first, what they send every second after)."""
    path = f"/api/{project}/envelope/"
    return {
        "trickle": (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n".encode(), b"a"),
        "silent": (f"POST {path}?sentry_key={key} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n".encode(), b""),
        "chunked": (
            f"POST {path}?sentry_key={key} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
            b"1\r\na\r\n",
        ),
        "headers": (f"POST {path} HTTP/1.1\r\n".encode(), b"X"),
        "idle": (b"", b""),
    }  # fmt: skip


class SlowClients:
    """Holds `count` slow connections open in one thread (round robin over the kinds), sending each
    one's tick every second and opening a new one whenever the server answers or closes one."""

    def __init__(self, port: int, kinds: dict[str, tuple[bytes, bytes]], count: int) -> None:
        self.port, self.kinds = port, kinds
        self.slots = [list(kinds)[i % len(kinds)] for i in range(count)]
        self.sockets: list[socket.socket | None] = [None] * count
        self.endings: Counter[str] = Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowClients:
        for slot in range(len(self.slots)):
            self._open(slot)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        for conn in self.sockets:
            if conn is not None:
                conn.close()

    def open_count(self) -> int:
        return sum(conn is not None for conn in self.sockets)

    def _open(self, slot: int) -> None:
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        conn.sendall(self.kinds[self.slots[slot]][0])
        self.sockets[slot] = conn

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            for slot, conn in enumerate(self.sockets):
                ending = _ending(conn) if conn is not None else "not open"
                if ending is None and conn is not None:
                    try:
                        conn.sendall(self.kinds[self.slots[slot]][1])
                        continue
                    except OSError:
                        ending = "closed"
                self.endings[f"{self.slots[slot]}: {ending}"] += 1
                if conn is not None:
                    conn.close()
                self.sockets[slot] = None
                try:
                    self._open(slot)
                except OSError:
                    pass


def _ending(conn: socket.socket) -> str | None:
    """None while the server neither answered nor closed; else the status code or 'closed'."""
    try:
        data = conn.recv(64, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    except OSError:
        return "closed"
    return data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"


def timed(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int | str, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, headers=headers or {}), timeout=5
        ) as r:
            r.read()
            status: int | str = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        status = type(exc).__name__
    return status, time.monotonic() - started


def sdk_send(dsn: str, message: str) -> float:
    """The real sentry-sdk sends one message; returns the seconds from capture to flushed."""
    done = subprocess.run(
        [sys.executable, "-c", SDK_APP, dsn, message], capture_output=True, text=True, timeout=60, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def test_200_slow_connections_stall_neither_sdks_nor_pages_nor_health(stack):
    dsn, key, project = project_of(stack, "hostile-flood")
    envelope = b'{}\n{"type":"event"}\n{"message":"plain post during the flood"}\n'
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}
    kinds = {k: v for k, v in slow_heads(project, key).items() if k != "idle"}
    results: dict[str, list] = {"sdk": [], "post": [], "health": [], "login": []}
    with SlowClients(port_of(stack), kinds, 200) as slow:
        time.sleep(1.5)
        assert slow.open_count() == 200
        for round_ in range(3):
            results["sdk"].append(sdk_send(dsn, f"sent during the flood {round_}"))
            results["post"].append(timed(f"{stack.url}/api/{project}/envelope/", envelope, auth))
            results["health"].append(timed(f"{stack.url}/_health/"))
            results["login"].append(timed(f"{stack.url}/login/"))
        assert slow.open_count() >= 190  # still held: the answers above came while they were open
    assert max(results["sdk"]) < 1.0, results
    for name in ("post", "health", "login"):
        assert all(status == 200 and seconds < 1.0 for status, seconds in results[name]), (name, results)
    stack.wait_for_count("hostile-flood", 6)  # 3 from the SDK, 3 plain posts: all stored


def test_each_kind_of_slow_client_is_cut_off_with_a_reason(embedded_stack):
    _, key, project = project_of(embedded_stack, "hostile-kinds")
    kinds = slow_heads(project, key)
    started = time.monotonic()
    with SlowClients(port_of(embedded_stack), kinds, len(kinds)) as slow:
        deadline = started + 3 * TIMEOUT + 5
        while time.monotonic() < deadline and len({e.split(":")[0] for e in slow.endings}) < len(kinds):
            time.sleep(0.2)
        endings = dict(slow.endings)
    firsts = {ending.split(": ")[0]: ending.split(": ")[1] for ending in endings}
    # Bodies too slow (or never sent) get 408; headers that never end and idle connections are closed.
    assert firsts == {
        "trickle": "408",
        "silent": "408",
        "chunked": "408",
        "headers": "closed",
        "idle": "closed",
    }, endings
    assert time.monotonic() - started < 3 * TIMEOUT + 5


def test_a_refused_key_or_an_oversized_body_is_answered_before_the_body(stack):
    _, key, project = project_of(stack, "hostile-early")
    heads = {
        401: f"POST /api/{project}/envelope/?sentry_key={uuid.uuid4().hex} HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 10000000\r\n\r\n",
        413: f"POST /api/{project}/envelope/?sentry_key={key} HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n",
        403: f"POST /api/{int(project) + 1000}/envelope/?sentry_key={key} HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 10000000\r\n\r\n",
    }
    for status, head in heads.items():
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port_of(stack)), timeout=5) as conn:
            conn.sendall(head.encode())  # and not one byte of the body
            answer = b""
            while chunk := conn.recv(4096):  # the server closes after answering
                answer += chunk
        assert answer.split(b" ", 2)[1] == str(status).encode(), answer
        assert b"connection: close" in answer.lower() and b'"detail"' in answer
        assert time.monotonic() - started < 1.0
