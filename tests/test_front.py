"""config/front.py in process, with a stand-in for granian's RSGI scope and protocol: what is answered
before the body, what a slow body gets, and the WSGI environ the application sees."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import orjson
import pytest

from config.front import Front, _environ
from ingest.keys import lookup_key


class Headers:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)

    def get(self, name: str, default=None):
        return next((value for key, value in self.pairs if key == name), default)


@dataclass
class Scope:
    method: str
    path: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    query_string: str = ""
    proto: str = "http"
    http_version: str = "1.1"
    scheme: str = "http"
    server: str = "127.0.0.1:8000"
    client: str = "10.1.2.3:5555"
    authority: str | None = None

    @property
    def headers(self) -> Headers:
        return Headers(self.pairs)


class Proto:
    """Gives the body in `chunks`, `pause` seconds apart; records the answer."""

    def __init__(self, chunks: list[bytes] | None = None, pause: float = 0.0) -> None:
        self.chunks, self.pause = chunks, pause
        self.answer: tuple[int, list, bytes] | None = None

    def __aiter__(self):
        if self.chunks is None:
            raise AssertionError("the body was read")
        return self._stream()

    async def _stream(self):
        for chunk in self.chunks or []:
            await asyncio.sleep(self.pause)
            yield chunk
        await asyncio.sleep(3600 if self.pause else 0)
        yield b""

    def response_bytes(self, status: int, headers: list, body: bytes) -> None:
        self.answer = (status, headers, body)


def serve(front: Front, scope: Scope, proto: Proto) -> tuple[int, dict, dict]:
    asyncio.run(front.__rsgi__(scope, proto))
    assert proto.answer is not None
    status, headers, body = proto.answer
    return status, dict(headers), orjson.loads(body)


@pytest.fixture
def front(settings):
    settings.WEB_FRONT = {**settings.WEB_FRONT, "BODY_START_SECONDS": 0.2, "MAX_BODY_BYTES": 1000}
    front = Front()
    yield front
    front.__rsgi_del__(None)


@pytest.mark.django_db
def test_an_unknown_key_is_answered_from_the_event_loop_without_the_body(front, fixture_project):
    project, _ = fixture_project
    assert lookup_key(uuid.uuid4().hex) is None  # the set of existing keys is loaded
    scope = Scope(
        "POST",
        f"/api/{project.id}/envelope/",
        [("content-length", "10000000"), ("x-sentry-auth", f"Sentry sentry_key={uuid.uuid4().hex}")],
    )
    status, headers, body = serve(front, scope, Proto(chunks=None))
    assert (status, body["detail"]) == (401, "unknown public key")
    assert headers["connection"] == "close" and headers["Access-Control-Allow-Origin"] == "*"


def test_a_body_that_does_not_come_is_408_and_the_connection_closes(front):
    scope = Scope("POST", "/login/", [("content-length", "500"), ("content-type", "text/plain")])
    status, headers, body = serve(front, scope, Proto([b"a", b"b"], pause=0.15))
    assert status == 408 and body["detail"].startswith("request body too slow: 1 bytes")
    assert headers["connection"] == "close"


def test_a_body_over_the_cap_is_413_before_it_is_read(front):
    scope = Scope("POST", "/login/", [("content-length", "5000")])
    status, headers, body = serve(front, scope, Proto(chunks=None))
    assert status == 413 and "larger than 1000 bytes" in body["detail"]


def test_the_wsgi_environ_is_what_granian_would_build():
    scope = Scope(
        "POST",
        "/organizations/caf\u00e9/",
        [
            ("host", "lt.example"),
            ("content-type", "application/json"),
            ("content-length", "4"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("accept", "text/html"),
            ("accept", "application/json"),
            ("x_forwarded_proto", "https"),
        ],
        query_string="q=is%3Aunresolved&x=1",
        client="[::1]:4242",
    )
    environ = _environ(scope, b"{}{}")
    assert environ["PATH_INFO"] == "/organizations/caf\u00e9/".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "q=is%3Aunresolved&x=1"
    assert (environ["REQUEST_METHOD"], environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == (
        "POST",
        "application/json",
        "4",
    )
    assert environ["wsgi.input"].read() == b"{}{}"
    assert environ["HTTP_COOKIE"] == "a=1; b=2" and environ["HTTP_ACCEPT"] == "text/html,application/json"
    assert environ["HTTP_HOST"] == "lt.example" and environ["REMOTE_ADDR"] == "::1"
    assert "HTTP_X_FORWARDED_PROTO" not in environ  # an underscore must not pass for a dash
