"""Property tests: a secret planted anywhere never survives scrubbing.

Each example plants one secret in one string field of an event, written the way code and people
write secrets into text: after any run of HTTP auth scheme words (``token Bearer <secret>``, the
overlap that once let a bearer token through), after ``Authorization:``, as ``name=value``, as a
quoted ``'name': value`` or JSON ``"name": "value"`` with a sensitive name, as a URL password, as
Basic credentials, or as a card number, with text around it. The event goes through the worker's
path (normalize, then scrub) and the secret must appear nowhere in the result, ``_meta`` included.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.protocol.normalize import normalize_event
from ingest.protocol.scrub import scrub_event

EXAMPLES = int(os.environ.get("LT_HYPOTHESIS_EXAMPLES", "300"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Long enough for every rule (a Token credential needs 16 characters and a digit).
SECRETS = st.builds(
    lambda head, body, digit: f"{head}{body}{digit}",
    st.sampled_from(["sk", "Zq", "ghp", "xoxb", "AKIA"]),
    st.text(alphabet=ALNUM, min_size=14, max_size=40),
    st.sampled_from("0123456789"),
)
SCHEME_WORDS = st.lists(
    st.sampled_from(["Bearer", "bearer", "BEARER", "Token", "token", "TOKEN", "Basic", "basic"]),
    min_size=1,
    max_size=3,
)
BLANKS = st.sampled_from([" ", "  ", "\t", " \t "])
SENSITIVE_NAMES = st.sampled_from(
    ["password", "passwd", "api_key", "apiKey", "x-api-key", "secret", "client_secret", "access_token",
     "auth_token", "session_id", "private_key", "credentials", "PASSWORD", "Api-Key"]
)  # fmt: skip
PREFIXES = st.sampled_from(["", "bad ", "error: ", "request failed (", "GET /x with ", "note\n"])
SUFFIXES = st.sampled_from(["", " for user bob", ") retrying", ", then", "; next", "\nmore"])


def _luhn_completed(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:  # these digits are doubled once the check digit is appended
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return digits + str((10 - total % 10) % 10)


CARDS = st.builds(
    lambda first, rest, sep: (
        sep.join(_group(_luhn_completed(first + rest))) if sep else _luhn_completed(first + rest)
    ),
    st.sampled_from("23456"),
    st.text(alphabet="0123456789", min_size=14, max_size=14),
    st.sampled_from(["", " ", "-"]),
)


def _group(number: str) -> list[str]:
    return [number[i : i + 4] for i in range(0, len(number), 4)]


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str]:
    """(text holding the secret, the secret)."""
    secret = draw(SECRETS)
    kind = draw(st.sampled_from(["scheme", "authorization", "kv", "quoted", "json", "url", "basic", "card"]))
    if kind == "scheme":
        blank = draw(BLANKS)
        text = blank.join([*draw(SCHEME_WORDS), secret])
    elif kind == "authorization":
        text = f"Authorization: {draw(st.sampled_from(['Bearer', 'Token', 'bearer']))}{draw(BLANKS)}{secret}"
    elif kind == "kv":
        text = f"{draw(SENSITIVE_NAMES)}{draw(st.sampled_from(['=', ' = ', '= ']))}{secret}"
    elif kind == "quoted":
        text = f"{{'{draw(SENSITIVE_NAMES)}': '{secret}', 'user': 'bob'}}"
    elif kind == "json":
        text = orjson.dumps({"user": "bob", draw(SENSITIVE_NAMES): secret}).decode()
    elif kind == "url":
        text = f"postgres://app:{secret}@db.internal:5432/shop"
    elif kind == "basic":
        secret = base64.b64encode(f"bob:{secret}".encode()).decode().rstrip("=")
        text = f"{draw(st.sampled_from(['Basic', 'basic', 'Authorization: Basic']))}{draw(BLANKS)}{secret}"
    else:
        secret = draw(CARDS)
        text = f"card {secret}"
    return draw(PREFIXES) + text + draw(SUFFIXES), secret


def _frame(**fields: Any) -> dict[str, Any]:
    return {"function": "charge", "module": "shop.pay", "filename": "shop/pay.py", "lineno": 3, **fields}


# Every string field of an event a secret can end up in, as the SDK sends it.
FIELDS = {
    "message": lambda s: {"message": s},
    "logentry": lambda s: {"logentry": {"message": "failed: %s", "params": [s]}},
    "logentry.formatted": lambda s: {"logentry": {"formatted": s}},
    "exception.value": lambda s: {"exception": {"values": [{"type": "AuthError", "value": s}]}},
    "exception.mechanism": lambda s: {
        "exception": {
            "values": [{"type": "E", "value": "x", "mechanism": {"type": "generic", "description": s}}]
        }
    },
    "breadcrumb.message": lambda s: {"breadcrumbs": {"values": [{"category": "log", "message": s}]}},
    "breadcrumb.data": lambda s: {
        "breadcrumbs": {"values": [{"category": "http", "data": {"url": s, "note": s}}]}
    },
    "extra": lambda s: {"extra": {"note": s, "nested": {"list": [s]}}},
    "contexts": lambda s: {"contexts": {"app": {"detail": s}, "custom": {"deep": {"text": s}}}},
    "request.headers": lambda s: {"request": {"headers": {"X-Note": s, "Referer": s}}},
    "request.headers (pairs)": lambda s: {"request": {"headers": [["X-Note", s]]}},
    "request.data (text)": lambda s: {"request": {"data": s}},
    "request.data (dict)": lambda s: {"request": {"data": {"comment": s, "items": [s]}}},
    "request.query_string": lambda s: {"request": {"query_string": s}},
    "request.query_string (pairs)": lambda s: {"request": {"query_string": [["q", s]]}},
    "request.cookies": lambda s: {"request": {"cookies": s}},
    "request.cookies (dict)": lambda s: {"request": {"cookies": {"theme": s}}},
    "request.url": lambda s: {"request": {"url": "https://shop.example/pay?note=" + s}},
    "request.env": lambda s: {"request": {"env": {"SERVER_NOTE": s}}},
    "tags": lambda s: {"tags": {"note": s}},
    "tags (pairs)": lambda s: {"tags": [["note", s]]},
    "user": lambda s: {"user": {"id": s, "username": s, "email": s, "data": {"note": s}}},
    "frame.vars": lambda s: {
        "exception": {
            "values": [{"type": "E", "value": "x", "stacktrace": {"frames": [_frame(vars={"arg": s})]}}]
        }
    },
    "frame.context": lambda s: {
        "exception": {
            "values": [
                {
                    "type": "E",
                    "value": "x",
                    "stacktrace": {"frames": [_frame(context_line=s, pre_context=[s])]},
                }
            ]
        }
    },
    "thread.frame.vars": lambda s: {
        "threads": {"values": [{"id": 1, "stacktrace": {"frames": [_frame(vars={"local": [s, {"k": s}]})]}}]}
    },
    "transaction": lambda s: {"transaction": s},
    "server_name": lambda s: {"server_name": s},
    "culprit": lambda s: {"culprit": s},
}


@PROFILE
@given(planted(), st.sampled_from(sorted(FIELDS)))
def test_a_planted_secret_never_survives(plant: tuple[str, str], field: str) -> None:
    text, secret = plant
    raw = {"platform": "python", "level": "error", **FIELDS[field](text)}
    event = normalize_event(raw, event_id="a" * 32, received=1795520700.0)
    assert secret in orjson.dumps(event).decode()  # planted where normalizing keeps it
    scrub_event(event)
    stored = orjson.dumps(event).decode()
    assert secret not in stored, (field, text)
    # What may have been escaped on the way (JSON text, query strings) must not carry it either.
    assert secret.replace("-", "").replace(" ", "") not in stored.replace("-", "").replace(" ", ""), (
        field,
        text,
    )


@PROFILE
@given(planted())
def test_a_planted_secret_never_survives_in_the_sdks_own_meta(plant: tuple[str, str]) -> None:
    text, secret = plant
    raw = {
        "message": "x",
        "_meta": {"message": {"": {"val": text, "rem": [["!limit", "s", 0, 1]], "note": text}}},
    }
    event = normalize_event(raw, event_id="b" * 32, received=1795520700.0)
    scrub_event(event)
    assert secret not in orjson.dumps(event).decode()
