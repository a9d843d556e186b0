"""Scrubbing (ingest.protocol.scrub): pure Python, no database, no Django."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.protocol.scrub import (
    DEFAULT_SCRUB_CONFIG,
    FILTERED,
    ScrubConfig,
    scrub_event,
    scrub_log,
    scrub_string,
)
from ingest.protocol.scrub import event as scrub_event_module

SDK = Path(__file__).resolve().parent.parent / "fixtures" / "sdk"


# --------------------------------------------------------------------------------------------------
# Fixture events, in the normalised shape scrub_event receives
# --------------------------------------------------------------------------------------------------


def _items(path: Path, item_type: str) -> list[dict]:
    """Payloads of one item type: the line after each item header (these captures have no
    newlines inside payloads)."""
    lines = path.read_bytes().split(b"\n")
    found = []
    for i, line in enumerate(lines[1:], start=1):
        if not line.startswith(b"{"):
            continue
        header = orjson.loads(line)
        if isinstance(header, dict) and header.get("type") == item_type and i + 1 < len(lines):
            found.append(orjson.loads(lines[i + 1]))
    return found


def _normalised_like(event: dict) -> dict:
    """The shapes the normaliser produces: tags and headers as [key, value] pairs, breadcrumbs
    and exceptions as {"values": [...]}."""
    event = copy.deepcopy(event)
    for key in ("breadcrumbs", "exception"):
        if isinstance(event.get(key), list):
            event[key] = {"values": event[key]}
    if isinstance(event.get("tags"), dict):
        event["tags"] = [[k, v] for k, v in event["tags"].items()]
    request = event.get("request")
    if isinstance(request, dict):
        if isinstance(request.get("headers"), dict):
            request["headers"] = [[k, v] for k, v in request["headers"].items()]
        if isinstance(request.get("cookies"), dict):
            request["cookies"] = [[k, v] for k, v in request["cookies"].items()]
    return event


PY_SCOPE = _normalised_like(_items(SDK / "sentry.python-2.75.0/scope_enrichment.envelope", "event")[0])
NODE_REQUEST = _normalised_like(
    _items(SDK / "sentry.javascript.node-11.12.0/session_request_aggregates.1.envelope", "event")[0]
)
NODE_SCOPE = _normalised_like(
    _items(SDK / "sentry.javascript.node-11.12.0/scope_enrichment.2.envelope", "event")[0]
)
PY_LOGS = _items(SDK / "sentry.python-2.75.0/structured_logs.2.envelope", "log")[0]["items"]
NODE_LOGS = _items(SDK / "sentry.javascript.node-11.12.0/structured_logs.2.envelope", "log")[0]["items"]
BASES = {"python-scope": PY_SCOPE, "node-request": NODE_REQUEST, "node-scope": NODE_SCOPE}


def _dump(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _first_frame(event: dict) -> dict:
    values = event.setdefault("exception", {"values": [{"type": "Error", "value": "x"}]})["values"]
    stacktrace = values[-1].setdefault("stacktrace", {"frames": []})
    if not stacktrace["frames"]:
        stacktrace["frames"].append({"function": "f", "filename": "app.py", "lineno": 1})
    return stacktrace["frames"][-1]


# --------------------------------------------------------------------------------------------------
# The corpus: secrets seeded in every part of an event
# --------------------------------------------------------------------------------------------------

# Every string that must not survive, and the text around them that must.
SECRETS = [
    "S3CR3T-BEARER-hdr",
    "S3CR3T-cookie-hdr",
    "S3CR3T-setcookie",
    "S3CR3T-apikey-hdr",
    "S3CR3T-csrf-hdr",
    "S3CR3T-referer-token",
    "S3CR3T-cookie-sid",
    "S3CR3T-cookie-csrf",
    "S3CR3T-qs-apikey",
    "S3CR3T-qs-access",
    "S3CR3T-form-pw",
    "S3CR3T-url-pw",
    "S3CR3T-env-auth",
    "S3CR3T-extra-pw",
    "S3CR3T-nested",
    "S3CR3T-dsn-pw",
    "4111-1111-1111-1111",
    "S3CR3T-ctx-stripe",
    "5555 5555 5555 4444",
    "S3CR3T-crumb-bearer",
    "S3CR3T-crumb-pw",
    "S3CR3T-crumb-sid",
    "S3CR3T-var-pw",
    "S3CR3T-var-repr",
    "S3CR3T-var-nested",
    "S3CR3T-var-obj",
    "S3CR3T-var-dict",
    "S3CR3T-tag",
    "S3CR3T-param-bearer",
    "dXNlcjpTM0NSM1QtYmFzaWM=",  # base64 of "user:S3CR3T-basic"
    "S3CR3T-exc-pw",
    "378282246310005",
    "S3CR3T-user-ssn",
    "S3CR3T-user-pin-token",
    "S3CR3T-message-pw",
    "S3CR3T-data-json",
    "S3CR3T-ctx-dict",
]
KEPT = [
    "theme=dark",
    "text/html",
    "https://shop.example.com/reset?token=",
    "&step=2",
    "page=2",
    "username=jane",
    "https://jane:",
    "@shop.example.com/checkout",
    "postgres://app:",
    "@db.internal:5432/app",
    "card  used",  # the card number goes, the words around it stay (see below)
    "Authorization: Bearer ",
    "db.internal",
    "jane@example.com",
    "login for jane with Bearer ",
    "Payment failed for card ",
    "janie",
    "paid with ",
    "Basic ",
    "https://api.example.com/cart?session_id=",
    "&page=1",
    "release-notes",
]


def seed_secrets(event: dict) -> dict:
    """Inject the corpus into a copy of a normalised fixture event."""
    event = copy.deepcopy(event)
    request = event.setdefault("request", {})
    request["url"] = "https://jane:S3CR3T-url-pw@shop.example.com/checkout"
    headers = request.setdefault("headers", [])
    if isinstance(headers, dict):
        headers = request["headers"] = [[k, v] for k, v in headers.items()]
    headers += [
        ["Authorization", "Bearer S3CR3T-BEARER-hdr"],
        ["Cookie", "sessionid=S3CR3T-cookie-hdr; theme=dark"],
        ["Set-Cookie", "csrftoken=S3CR3T-setcookie; Path=/"],
        ["X-Api-Key", "S3CR3T-apikey-hdr"],
        ["X-CSRFToken", "S3CR3T-csrf-hdr"],
        ["Referer", "https://shop.example.com/reset?token=S3CR3T-referer-token&step=2"],
        ["Proxy-Authorization", "Basic dXNlcjpTM0NSM1QtYmFzaWM="],
        ["Accept", "text/html"],
    ]
    request["cookies"] = "sessionid=S3CR3T-cookie-sid; theme=dark; csrftoken=S3CR3T-cookie-csrf"
    request["query_string"] = "page=2&api_key=S3CR3T-qs-apikey&access_token=S3CR3T-qs-access"
    request["data"] = "username=jane&password=S3CR3T-form-pw"
    request["env"] = {"HTTP_AUTHORIZATION": "Token S3CR3T-env-auth", "SERVER_NAME": "web-7"}

    extra = event.setdefault("extra", {})
    extra["db_password"] = "S3CR3T-extra-pw"
    extra["nested"] = {"deep": {"client_secret": "S3CR3T-nested", "ok": "release-notes"}}
    extra["dsn"] = "postgres://app:S3CR3T-dsn-pw@db.internal:5432/app"
    extra["note"] = "card 4111-1111-1111-1111 used"
    extra["request_body"] = '{"password": "S3CR3T-data-json", "user": "jane@example.com"}'
    extra["curl"] = "curl -H 'Authorization: Basic dXNlcjpTM0NSM1QtYmFzaWM=' https://shop.example.com/"

    contexts = event.setdefault("contexts", {})
    contexts["payment"] = {"display": "paid with 5555 5555 5555 4444", "stripe_token": "S3CR3T-ctx-stripe"}
    contexts["session"] = {"id": "S3CR3T-ctx-dict"}

    crumbs = event.setdefault("breadcrumbs", {"values": []})["values"]
    crumbs += [
        {"category": "http", "message": "Authorization: Bearer S3CR3T-crumb-bearer", "level": "info"},
        {
            "category": "auth",
            "data": {
                "password": "S3CR3T-crumb-pw",
                "url": "https://api.example.com/cart?session_id=S3CR3T-crumb-sid&page=1",
            },
        },
    ]

    frame = _first_frame(event)
    frame["vars"] = dict(
        frame.get("vars") or {},
        password="'S3CR3T-var-pw'",
        config="{'api_key': 'S3CR3T-var-repr', 'host': 'db.internal'}",
        request={"headers": {"Authorization": "S3CR3T-var-nested"}},
        user="<User email='jane@example.com' password='S3CR3T-var-obj'>",
        secrets={"a": "S3CR3T-var-dict"},
    )

    tags = event.setdefault("tags", [])
    tags += [["session_token", "S3CR3T-tag"], ["region_extra", "eu"]]

    event["logentry"] = {
        "message": "login for %s with %s",
        "params": ["jane", "Bearer S3CR3T-param-bearer"],
        "formatted": "login for jane with Bearer S3CR3T-param-bearer",
    }
    event["message"] = "retry with password=S3CR3T-message-pw"
    event["exception"]["values"].append(
        {
            "type": "PaymentError",
            "value": "Payment failed for card 378282246310005 via https://svc:S3CR3T-exc-pw@pay.internal",
        }
    )
    user = event.setdefault("user", {})
    user["data"] = {"ssn": "S3CR3T-user-ssn", "nickname": "janie", "pin_token": "S3CR3T-user-pin-token"}
    return event


@pytest.mark.parametrize("base", sorted(BASES))
def test_no_seeded_secret_survives(base: str) -> None:
    event = scrub_event(seed_secrets(BASES[base]))
    dumped = _dump(event)
    leaked = [secret for secret in SECRETS if secret in dumped]
    assert leaked == []
    dumped_without_meta = _dump({k: v for k, v in event.items() if k != "_meta"})
    missing = [kept for kept in KEPT if kept.replace("  ", f" {FILTERED} ") not in dumped_without_meta]
    assert missing == []


@pytest.mark.parametrize("base", sorted(BASES))
def test_fixture_content_survives(base: str) -> None:
    """The fixture events themselves carry no secrets: scrubbing changes nothing in them."""
    original = BASES[base]
    event = scrub_event(copy.deepcopy(original))
    assert event == original


def test_precise_replacements() -> None:
    event = scrub_event(seed_secrets(PY_SCOPE))
    request = event["request"]
    headers = dict((name, value) for name, value in request["headers"])
    assert headers["Authorization"] == FILTERED
    assert headers["Cookie"] == FILTERED
    assert headers["Set-Cookie"] == FILTERED
    assert headers["X-Api-Key"] == FILTERED
    assert headers["Referer"] == f"https://shop.example.com/reset?token={FILTERED}&step=2"
    assert headers["Proxy-Authorization"] == FILTERED  # the whole header: name contains "auth"
    assert headers["Accept"] == "text/html"
    assert request["cookies"] == f"sessionid={FILTERED}; theme=dark; csrftoken={FILTERED}"
    assert request["query_string"] == f"page=2&api_key={FILTERED}&access_token={FILTERED}"
    assert request["data"] == f"username=jane&password={FILTERED}"
    assert request["url"] == f"https://jane:{FILTERED}@shop.example.com/checkout"
    assert request["env"] == {"HTTP_AUTHORIZATION": FILTERED, "SERVER_NAME": "web-7"}
    extra = event["extra"]
    assert extra["dsn"] == f"postgres://app:{FILTERED}@db.internal:5432/app"
    assert extra["note"] == f"card {FILTERED} used"
    assert extra["nested"] == {"deep": {"client_secret": FILTERED, "ok": "release-notes"}}
    assert extra["request_body"] == f'{{"password": "{FILTERED}", "user": "jane@example.com"}}'
    assert event["contexts"]["session"] == FILTERED  # a dict under a sensitive key goes entirely
    frame_vars = event["exception"]["values"][0]["stacktrace"]["frames"][-1]["vars"]
    assert frame_vars["password"] == FILTERED
    assert frame_vars["config"] == f"{{'api_key': '{FILTERED}', 'host': 'db.internal'}}"
    assert frame_vars["request"] == {"headers": {"Authorization": FILTERED}}
    assert frame_vars["user"] == f"<User email='jane@example.com' password='{FILTERED}'>"
    assert frame_vars["secrets"] == FILTERED
    assert ["session_token", FILTERED] in event["tags"]
    assert ["region_extra", "eu"] in event["tags"]
    assert event["logentry"] == {
        "message": "login for %s with %s",
        "params": ["jane", f"Bearer {FILTERED}"],
        "formatted": f"login for jane with Bearer {FILTERED}",
    }
    assert event["message"] == f"retry with password={FILTERED}"
    assert event["exception"]["values"][-1]["value"] == (
        f"Payment failed for card {FILTERED} via https://svc:{FILTERED}@pay.internal"
    )
    assert event["user"]["data"] == {"ssn": FILTERED, "nickname": "janie", "pin_token": FILTERED}


def test_secrets_hard_coded_in_source_lines_go_and_the_code_stays() -> None:
    event = copy.deepcopy(PY_SCOPE)
    frame = _first_frame(event)
    frame["context_line"] = "    db.connect(password='hunter2-in-source')"
    frame["pre_context"] = ["API_TOKEN = 'Bearer abc123'", "    total = price * quantity"]
    scrub_event(event)
    assert frame["context_line"] == f"    db.connect(password='{FILTERED}')"
    assert frame["pre_context"] == [f"API_TOKEN = '{FILTERED}'", "    total = price * quantity"]


# --------------------------------------------------------------------------------------------------
# _meta
# --------------------------------------------------------------------------------------------------


def _resolve(event: Any, keys: list[str]) -> Any:
    node = event
    for key in keys:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _meta_leaves(meta: dict, prefix: list[str] | None = None) -> list[tuple[list[str], dict]]:
    out = []
    for key, value in meta.items():
        if key == "":
            out.append((prefix or [], value))
        elif isinstance(value, dict):
            out.extend(_meta_leaves(value, (prefix or []) + [key]))
    return out


def test_meta_shape_for_a_header() -> None:
    event: dict[str, Any] = {
        "request": {
            "headers": [
                ["Host", "example.com"],
                ["Accept", "*/*"],
                ["User-Agent", "curl/8"],
                ["X-Password", "hunter2-1234"],
            ]
        }
    }
    scrub_event(event)
    assert event["request"]["headers"][3] == ["X-Password", FILTERED]
    assert event["_meta"] == {
        "request": {"headers": {"3": {"1": {"": {"rem": [["@password:filter", "s", 0, 10]], "len": 12}}}}}
    }


def test_meta_ranges_point_at_the_replacements() -> None:
    event = scrub_event(seed_secrets(NODE_REQUEST))
    leaves = _meta_leaves(event["_meta"])
    assert len(leaves) > 30
    rules = set()
    for keys, leaf in leaves:
        assert leaf["rem"], keys
        value = _resolve(event, keys)
        for entry in leaf["rem"]:
            rules.add(entry[0])
            assert entry[1] in ("s", "x")
            if len(entry) == 4:
                assert value[entry[2] : entry[3]] == FILTERED, (keys, value, entry)
            if entry[1] == "x":
                assert value is None
    assert {"@password:filter", "@creditcard:filter", "@bearer:filter", "@urlauth:filter"} <= rules


def test_meta_len_is_original_length() -> None:
    event = scrub_event({"extra": {"password": "12345", "token": {"a": 1, "b": 2}, "msg": "x Bearer abcdef"}})
    meta = event["_meta"]["extra"]
    assert meta["password"][""] == {"rem": [["@password:filter", "s", 0, 10]], "len": 5}
    assert meta["token"][""] == {"rem": [["@password:filter", "s", 0, 10]], "len": 2}
    assert meta["msg"][""] == {"rem": [["@bearer:filter", "s", 9, 19]], "len": 15}
    assert event["extra"]["msg"] == f"x Bearer {FILTERED}"


def test_meta_merges_with_sdk_meta() -> None:
    event: dict[str, Any] = {
        "extra": {"password": "hunter2", "long": "trimmed…"},
        "_meta": {
            "extra": {
                "password": {"": {"len": 300, "rem": [["!limit", "s", 7, 8]]}},
                "long": {"": {"len": 9000, "val": "the original secret text"}},
            }
        },
    }
    scrub_event(event)
    meta = event["_meta"]["extra"]
    assert meta["password"][""] == {
        "len": 300,
        "rem": [["!limit", "s", 7, 8], ["@password:filter", "s", 0, 10]],
    }
    assert meta["long"][""] == {"len": 9000}  # SDK-sent original values are dropped
    assert "the original secret text" not in _dump(event)


def test_meta_absent_when_nothing_scrubbed() -> None:
    event = copy.deepcopy(PY_SCOPE)
    scrub_event(event)
    assert "_meta" not in event


# --------------------------------------------------------------------------------------------------
# Key names
# --------------------------------------------------------------------------------------------------

SENSITIVE_NAMES = [
    "password",
    "PASSWORD",
    "db_password",
    "passwd",
    "pwd",
    "mysql_pwd",
    "secret",
    "client_secret",
    "api_key",
    "apiKey",
    "X-Api-Key",
    "api.key",
    "token",
    "access_token",
    "refresh-token",
    "auth",
    "Authorization",
    "Proxy-Authorization",
    "http.request.header.authorization",
    "credentials",
    "cookie",
    "Set-Cookie",
    "HTTP_COOKIE",
    "session",
    "sessionid",
    "PHPSESSID",
    "connect.sid",
    "sentrysid",
    "csrf",
    "csrftoken",
    "X-CSRFToken",
    "xsrf",
    "XSRF-TOKEN",
    "private_key",
    "privateKey",
    "ssn",
    "user_ssn",
    "customerSSN",
    "otp",
    "two-factor",
    "two_factor",
    "_vercel_jwt",
    "su",
    "sudo",
]
PLAIN_NAMES = [
    "className",
    "business_name",
    "process_name",
    "inside",
    "sidebar",
    "user",
    "email",
    "message",
    "status",
    "total",
    "order_id",
    "keyboard",
    "result",
    "issue",
    "public_key",
]


@pytest.mark.parametrize("name", SENSITIVE_NAMES)
def test_sensitive_names_everywhere(name: str) -> None:
    event: dict[str, Any] = {
        "extra": {name: "v4lue-1"},
        "tags": [[name, "v4lue-2"]],
        "request": {
            "headers": [[name, "v4lue-3"]],
            "query_string": f"{name}=v4lue-4&a=b",
            "data": {name: "v4lue-5"},
        },
        "breadcrumbs": {"values": [{"message": f"retry {name}=v4lue-6", "data": {name: "v4lue-7"}}]},
        "contexts": {"app": {name: "v4lue-8"}},
    }
    dumped = _dump(scrub_event(event))
    assert "v4lue" not in dumped
    assert "a=b" in dumped


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names_are_left_alone(name: str) -> None:
    event: dict[str, Any] = {
        "extra": {name: "v4lue-1"},
        "tags": [[name, "v4lue-2"]],
        "message": f"{name}=v4lue-3",
    }
    assert scrub_event(copy.deepcopy(event)) == event


def test_values_under_plain_keys_are_not_guessed_at() -> None:
    event: dict[str, Any] = {
        "extra": {
            "nickname": "hunter2",
            "email": "jane@example.com",
            "order": "4111111111111112",  # 16 digits, not Luhn-valid
            "phone": "+1 555 123 4567",
            "hex": "acdf796d693f4b2eade9d9733e7ce842",
            "ms": "1795520626775",
            "text": "the password was changed; tokens are rotated",
        }
    }
    assert scrub_event(copy.deepcopy(event)) == event


def test_modules_and_sdk_names_are_not_key_names() -> None:
    event: dict[str, Any] = {
        "modules": {"oauthlib": "3.2.2", "pyjwt": "2.8.0", "django-session-security": "2.6"}
    }
    assert scrub_event(copy.deepcopy(event)) == event


def test_null_bool_and_empty_values_under_sensitive_keys_stay() -> None:
    event: dict[str, Any] = {
        "extra": {"password": None, "is_authenticated": True, "token": "", "session": {}}
    }
    assert scrub_event(copy.deepcopy(event)) == event


def test_numbers_under_sensitive_keys() -> None:
    event = scrub_event({"extra": {"pin_token": 123456}})
    assert event["extra"]["pin_token"] == FILTERED
    assert event["_meta"]["extra"]["pin_token"][""] == {"rem": [["@password:filter", "s", 0, 10]]}


def test_query_string_as_pairs_and_cookies_as_pairs() -> None:
    event: dict[str, Any] = {
        "request": {
            "query_string": [["page", "2"], ["api_key", "k3y"], ["next", "https://u:pw@h/"]],
            "cookies": [["theme", "dark"], ["sessionid", "s1d"]],
        }
    }
    scrub_event(event)
    assert event["request"]["query_string"] == [
        ["page", "2"],
        ["api_key", FILTERED],
        ["next", f"https://u:{FILTERED}@h/"],
    ]
    assert event["request"]["cookies"] == [["theme", "dark"], ["sessionid", FILTERED]]
    assert event["_meta"]["request"]["query_string"]["1"]["1"][""]["rem"] == [
        ["@password:filter", "s", 0, 10]
    ]


def test_headers_as_dict() -> None:
    event: dict[str, Any] = {
        "request": {"headers": {"Authorization": "Bearer x", "Cookie": "a=b", "Accept": "*/*"}}
    }
    scrub_event(event)
    assert event["request"]["headers"] == {"Authorization": FILTERED, "Cookie": FILTERED, "Accept": "*/*"}


def test_urlencoded_values_are_decoded_and_reencoded() -> None:
    event: dict[str, Any] = {
        "request": {
            "query_string": "next=https%3A%2F%2Fu%3Apw%40host%2F&pass%77ord=x&q=a+b",
            "data": "note=paid+with+4111+1111+1111+1111&x=1",
        }
    }
    scrub_event(event)
    qs = event["request"]["query_string"]
    assert "pw%40" not in qs and "pass%77ord=x" not in qs
    assert qs.endswith("&q=a+b")
    assert qs.startswith("next=https%3A%2F%2Fu%3A")
    assert event["request"]["data"] == "note=paid+with+[Filtered]&x=1"


def test_json_text_body() -> None:
    event: dict[str, Any] = {
        "request": {"data": '{"user": {"name": "jane", "password": "pw1"}, "items": [1, 2]}'}
    }
    scrub_event(event)
    assert orjson.loads(event["request"]["data"]) == {
        "user": {"name": "jane", "password": FILTERED},
        "items": [1, 2],
    }
    assert event["_meta"]["request"]["data"][""]["rem"] == [["@password:filter", "s"]]


def test_processing_errors_quoting_sensitive_fields() -> None:
    event: dict[str, Any] = {
        "errors": [
            {"type": "invalid_data", "name": "request.cookies", "value": "'sid=abc'"},
            {"type": "invalid_data", "name": "contexts.os", "value": "'linux'"},
        ]
    }
    scrub_event(event)
    assert event["errors"][0]["value"] == FILTERED
    assert event["errors"][1]["value"] == "'linux'"


# --------------------------------------------------------------------------------------------------
# Project configuration
# --------------------------------------------------------------------------------------------------


def test_safe_fields_are_never_scrubbed() -> None:
    config = ScrubConfig(safe_fields=("session_token", "Authorization"))
    event: dict[str, Any] = {
        "tags": [["session_token", "keep-me-1"]],
        "extra": {"session_token": {"a": "keep-me-2"}, "password": "drop-me"},
        "request": {"headers": [["Authorization", "Bearer keep-me-3"]]},
        "message": "session_token=keep-me-4 password=drop-me-too",
    }
    scrub_event(event, config)
    dumped = _dump(event)
    for kept in ("keep-me-1", "keep-me-2", "keep-me-3", "keep-me-4"):
        assert kept in dumped
    assert "drop-me" not in dumped


def test_extra_fields_are_scrubbed_with_their_own_rule() -> None:
    config = ScrubConfig(extra_fields=("order_ref", "Customer-Number"))
    event: dict[str, Any] = {
        "extra": {"order_ref": "OR-1", "OrderRef2": "OR-2", "customer_number": 42, "other": "keep"},
        "request": {"headers": [["X-Order-Ref", "OR-3"]], "query_string": "order-ref=OR-4&x=1"},
        "message": "lookup order_ref=OR-5",
    }
    scrub_event(event, config)
    assert "OR-" not in _dump({k: v for k, v in event.items() if k != "_meta"})
    assert event["extra"]["customer_number"] == FILTERED
    assert event["extra"]["other"] == "keep"
    assert event["_meta"]["extra"]["order_ref"][""]["rem"] == [["@usersecret:filter", "s", 0, 10]]
    # without the config these are not sensitive
    plain: dict[str, Any] = {"extra": {"order_ref": "OR-1"}}
    assert scrub_event(copy.deepcopy(plain)) == plain


def test_ip_addresses_removed_only_when_configured() -> None:
    def make() -> dict:
        return {
            "user": {"id": "42", "ip_address": "203.0.113.9"},
            "request": {
                "env": {"REMOTE_ADDR": "203.0.113.9", "SERVER_NAME": "web"},
                "headers": [
                    ["X-Forwarded-For", "203.0.113.9, 10.0.0.1"],
                    ["X-Real-IP", "203.0.113.9"],
                    ["Host", "h"],
                ],
            },
        }

    kept = scrub_event(make())
    assert "203.0.113.9" in _dump(kept)
    assert "_meta" not in kept

    event = scrub_event(make(), ScrubConfig(scrub_ip_addresses=True))
    assert "203.0.113.9" not in _dump(event)
    assert event["user"] == {"id": "42", "ip_address": None}
    assert event["request"]["env"] == {"REMOTE_ADDR": None, "SERVER_NAME": "web"}
    assert event["request"]["headers"][2] == ["Host", "h"]
    assert event["_meta"]["user"]["ip_address"][""] == {"rem": [["@ip:filter", "x"]], "len": 11}
    assert event["_meta"]["request"]["headers"]["0"]["1"][""]["rem"] == [["@ip:filter", "s", 0, 10]]


def test_disabled_config_changes_nothing() -> None:
    event = seed_secrets(PY_SCOPE)
    assert scrub_event(copy.deepcopy(event), ScrubConfig(enabled=False)) == event


# --------------------------------------------------------------------------------------------------
# In-string patterns
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", f"Authorization: Bearer {FILTERED}"),
        ("bearer abc, then more", f"bearer {FILTERED}, then more"),
        ("Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", f"Token {FILTERED}"),
        ("your token expired", "your token expired"),
        ("Basic dXNlcjpwYXNz", f"Basic {FILTERED}"),
        ("Basic auth failed", "Basic auth failed"),
        ("https://user:pass@host/path", f"https://user:{FILTERED}@host/path"),
        ("redis://:s3cret@cache:6379/0", f"redis://:{FILTERED}@cache:6379/0"),
        ("pg://u:p@ss@db/x", f"pg://u:{FILTERED}@db/x"),
        (
            "https://0123456789abcdef@o1.ingest.sentry.io/42",
            "https://0123456789abcdef@o1.ingest.sentry.io/42",
        ),
        ("mail jane@example.com", "mail jane@example.com"),
        ("4111111111111111", FILTERED),
        ("card 4111 1111 1111 1111.", f"card {FILTERED}."),
        ("card 4111-1111-1111-1111", f"card {FILTERED}"),
        ("amex 3782 822463 10005", f"amex {FILTERED}"),
        ("4111 1111 1111 1112", "4111 1111 1111 1112"),
        ("id 41111111111111111111111", "id 41111111111111111111111"),
        ("x4111111111111111", "x4111111111111111"),
        ("two cards 4111 1111 1111 1111 5555 5555 5555 4444", f"two cards {FILTERED} {FILTERED}"),
        ("qty 3 card 4111111111111111 7", f"qty 3 card {FILTERED} 7"),
        ("?next=/a&access_token=abc123&x=1", f"?next=/a&access_token={FILTERED}&x=1"),
        ("{'password': 'it''s', 'a': 1}", f"{{'password': '{FILTERED}''s', 'a': 1}}"),
        ('{"apiKey":"k-123","b":2}', f'{{"apiKey":"{FILTERED}","b":2}}'),
        ("Config(secret=b'xyz', debug=True)", f"Config(secret=b'{FILTERED}', debug=True)"),
        ("password = hunter2 please", f"password = {FILTERED} please"),
        ("SELECT * FROM t WHERE id = %s", "SELECT * FROM t WHERE id = %s"),
        ("", ""),
    ],
)
def test_scrub_string(text: str, expected: str) -> None:
    assert scrub_string(text) == expected
    assert scrub_string(expected) == expected


def test_luhn_only() -> None:
    assert scrub_string("4111111111111111") == FILTERED
    for n in (0, 2, 3, 4, 5, 6, 7, 8, 9):  # only the check digit 1 makes it Luhn-valid
        candidate = "411111111111111" + str(n)
        assert scrub_string(candidate) == candidate


# --------------------------------------------------------------------------------------------------
# Logs
# --------------------------------------------------------------------------------------------------


def test_scrub_log_records_from_fixtures_unchanged() -> None:
    for record in PY_LOGS + NODE_LOGS:
        assert scrub_log(copy.deepcopy(record)) == record


def test_scrub_log() -> None:
    record = copy.deepcopy(PY_LOGS[0])
    record["body"] = "Charging 4111 1111 1111 1111 for alice with Bearer S3CR3T-log-bearer"
    attrs = record["attributes"]
    attrs["http.request.header.authorization"] = {"value": "Bearer S3CR3T-log-hdr", "type": "string"}
    attrs["sentry.message.parameter.password"] = {"value": "S3CR3T-log-param", "type": "string"}
    attrs["sentry.message.parameter.pin_token"] = {"value": 987654, "type": "integer"}
    attrs["db.url"] = {"value": "postgres://app:S3CR3T-log-url@db/app", "type": "string"}
    attrs["client.address"] = {"value": "198.51.100.7", "type": "string"}
    scrub_log(record, ScrubConfig(scrub_ip_addresses=True))
    dumped = _dump(record)
    assert "S3CR3T" not in dumped and "4111" not in dumped and "198.51.100.7" not in dumped
    assert record["body"] == f"Charging {FILTERED} for alice with Bearer {FILTERED}"
    assert attrs["sentry.message.parameter.pin_token"] == {"value": FILTERED, "type": "string"}
    assert attrs["db.url"]["value"] == f"postgres://app:{FILTERED}@db/app"
    assert attrs["sentry.message.parameter.user"] == {"value": "alice", "type": "string"}
    meta = record["_meta"]
    assert meta["attributes"]["sentry.message.parameter.password"]["value"][""] == {
        "rem": [["@password:filter", "s", 0, 10]],
        "len": 16,
    }
    assert meta["attributes"]["client.address"]["value"][""]["rem"] == [["@ip:filter", "s", 0, 10]]
    assert meta["body"][""]["len"] == 68
    assert scrub_log(copy.deepcopy(record)) == record


# --------------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------------


def test_deep_nesting_no_recursion_error() -> None:
    depth = 20_000
    root: dict = {}
    node = root
    for i in range(depth):
        child: Any = {} if i % 2 else []
        if isinstance(node, dict):
            node["k"] = child
        else:
            node.append(child)
        node = child
    node_list = node if isinstance(node, list) else node.setdefault("l", [])
    node_list.append("Bearer deep-secret")
    node_list.append({"password": "deep-pw"})
    event: dict[str, Any] = {"extra": root}
    scrub_event(event)
    assert node_list == [f"Bearer {FILTERED}", {"password": FILTERED}]


def test_fail_closed_on_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(scrub_event_module, "walk", broken)
    event: dict[str, Any] = {"event_id": "a" * 32, "extra": {"note": "Bearer abc"}, "message": "hello"}
    assert scrub_event(event) is event
    assert event == {"event_id": "a" * 32, "extra": {"note": FILTERED}, "message": FILTERED}


def test_clean_string_memory_is_per_config_and_never_hides_a_secret() -> None:
    text = "lookup order_ref=OR-77 for cart"
    for _ in range(3):
        event: dict[str, Any] = {"extra": {"note": text}}
        assert scrub_event(event)["extra"]["note"] == text  # remembered as clean
    event = {"extra": {"note": text}}
    scrub_event(event, ScrubConfig(extra_fields=("order_ref",)))
    assert event["extra"]["note"] == f"lookup order_ref={FILTERED} for cart"
    for _ in range(3):  # a string with a secret is scrubbed every time
        event = {"extra": {"note": "Bearer abc"}, "breadcrumbs": {"values": [{"message": "Bearer abc"}]}}
        scrub_event(event)
        assert event["extra"]["note"] == event["breadcrumbs"]["values"][0]["message"] == f"Bearer {FILTERED}"


def test_returns_same_object_and_accepts_non_dicts() -> None:
    event: dict = {"extra": {"password": "x1"}}
    assert scrub_event(event) is event
    for junk in (None, 1, "str", [1, 2]):
        assert scrub_event(junk) == junk  # type: ignore[arg-type]
        assert scrub_log(junk) == junk  # type: ignore[arg-type]


@pytest.mark.parametrize("base", sorted(BASES))
def test_idempotent_on_corpus(base: str) -> None:
    once = scrub_event(seed_secrets(BASES[base]))
    twice = scrub_event(copy.deepcopy(once))
    assert twice == once


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

_EVENT_KEYS = [
    "request",
    "headers",
    "cookies",
    "query_string",
    "data",
    "env",
    "user",
    "ip_address",
    "extra",
    "contexts",
    "tags",
    "frames",
    "vars",
    "context_line",
    "values",
    "_meta",
    "",
    "rem",
    "len",
    "val",
    "password",
    "api_key",
    "Authorization",
    "session",
    "safe_one",
    "custom_secret_field",
    "errors",
    "name",
    "value",
    "attributes",
    "body",
    "modules",
]
_SECRETISH_TEXT = st.sampled_from(
    [
        "Bearer abc.def",
        "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
        "Basic dXNlcjpwYXNz",
        "https://u:p@h/x",
        "//a:b@c@d",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111 5555555555554444",
        "password=x&token=y",
        "{'secret': 'z', 'k': [1]}",
        '{"password": "p"}',
        "a=b; sessionid=c",
        FILTERED,
        f"password={FILTERED}",
        "%5BFiltered%5D",
        "pass%77ord=1&a=%ZZ",
        "Bearer [Filtered]x",
        "\ud800 password=q",
    ]
)
_TEXT = st.one_of(
    st.text(max_size=30), _SECRETISH_TEXT, st.builds(lambda a, b: a + b, st.text(max_size=8), _SECRETISH_TEXT)
)
_KEY = st.one_of(st.sampled_from(_EVENT_KEYS), st.text(max_size=10))
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    _TEXT,
)
_JSON = st.recursive(
    _SCALAR,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(st.tuples(_TEXT, children).map(list), max_size=4),  # [name, value] pairs
        st.dictionaries(_KEY, children, max_size=6),
    ),
    max_leaves=40,
)
_CONFIGS = st.sampled_from(
    [
        DEFAULT_SCRUB_CONFIG,
        ScrubConfig(scrub_ip_addresses=True),
        ScrubConfig(extra_fields=("custom_secret", "data"), safe_fields=("safe_one", "cookies")),
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.dictionaries(_KEY, _JSON, max_size=8), config=_CONFIGS)
def test_property_never_raises_and_is_idempotent(event: dict, config: ScrubConfig) -> None:
    once = scrub_event(copy.deepcopy(event), config)
    assert isinstance(once, dict)
    json.dumps(once)  # still JSON (json, not orjson: the strategy includes lone surrogates)
    twice = scrub_event(copy.deepcopy(once), config)
    assert twice == once


@settings(max_examples=200, deadline=None)
@given(record=st.dictionaries(_KEY, _JSON, max_size=6), attrs=st.dictionaries(_KEY, _JSON, max_size=6))
def test_property_logs_never_raise_and_are_idempotent(record: dict, attrs: dict) -> None:
    record["attributes"] = {k: {"value": v, "type": "string"} if len(k) % 2 else v for k, v in attrs.items()}
    once = scrub_log(copy.deepcopy(record))
    twice = scrub_log(copy.deepcopy(once))
    assert twice == once


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_property_scrub_string_idempotent(text: str) -> None:
    once = scrub_string(text)
    assert scrub_string(once) == once


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=10), suffix=st.text(max_size=10))
def test_property_secret_gone_rest_kept(prefix: str, suffix: str) -> None:
    event: dict[str, Any] = {"extra": {"note": f"{prefix} Bearer s3cr3tT0k3n {suffix}"}}
    scrub_event(event)
    note = event["extra"]["note"]
    assert "s3cr3tT0k3n" not in note
    assert note.startswith(prefix) and note.endswith(suffix)


@pytest.mark.parametrize("scheme", ["token", "Token", "BASIC", "basic", "bearer"])
def test_secret_after_a_refused_scheme_word_is_scrubbed(scheme: str) -> None:
    event: dict[str, Any] = {"exception": {"values": [{"value": f"bad {scheme} Bearer s3cr3tT0k3n for bob"}]}}
    scrub_event(event)
    value = event["exception"]["values"][0]["value"]
    assert "s3cr3tT0k3n" not in value and value.endswith(" for bob")
