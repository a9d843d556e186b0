"""Auth extraction (protocol doc section 2)."""

from __future__ import annotations

import base64

import pytest

from ingest.protocol.auth import AuthInfo, auth_from_dsn, combine_auth, extract_auth
from ingest.protocol.errors import AuthError, BadRequest

from .sdk_fixtures import CAPTURE_IDS, CAPTURES, FIXTURE_KEY, Capture

KEY = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


def _query(capture: Capture) -> dict[str, str]:
    # Django's QueryDict.get() returns the last value, so mimic that.
    return {name: values[-1] for name, values in capture.request["query_params"].items()}


@pytest.mark.parametrize("capture", CAPTURES, ids=CAPTURE_IDS)
def test_every_fixture_request_authenticates(capture: Capture) -> None:
    auth = extract_auth(capture.request["headers"], _query(capture))
    assert auth is not None
    assert auth.public_key == FIXTURE_KEY
    assert auth.sentry_version == "7"
    assert auth.client is not None and auth.client.startswith("sentry.")


def test_python_fixture_with_secret_ignores_secret() -> None:
    capture = next(c for c in CAPTURES if c.name == "sentry.python-2.75.0/dsn_with_secret")
    assert "sentry_secret" in capture.request["headers"]["X-Sentry-Auth"]
    auth = extract_auth(capture.request["headers"], {})
    assert auth == AuthInfo(FIXTURE_KEY, "7", "sentry.python/2.75.0")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=x/1"},
        {"x-sentry-auth": f"sentry sentry_key={KEY},sentry_version=7,sentry_client=x/1"},
        {"X-SENTRY-AUTH": f"SENTRY   sentry_version=7 ,  sentry_key={KEY} , sentry_client=x/1"},
        {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=x/1"},
        {"Authorization": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=x/1"},
        {"authorization": f"sentry sentry_key={KEY}, sentry_version=7, sentry_client=x/1"},
        {
            "X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=x/1, "
            "sentry_secret=whatever, sentry_timestamp=1795520626.7"
        },
    ],
)
def test_sentry_header_forms(headers: dict[str, str]) -> None:
    assert extract_auth(headers, {}) == AuthInfo(KEY, "7", "x/1")


@pytest.mark.parametrize("secret", ["secret", "", "a:b"])
def test_basic_auth_uses_part_before_colon(secret: str) -> None:
    token = base64.b64encode(f"{KEY}:{secret}".encode()).decode()
    assert extract_auth({"Authorization": f"Basic {token}"}, {}) == AuthInfo(KEY, None, None)
    assert extract_auth({"authorization": f"basic {token}"}, {}) == AuthInfo(KEY, None, None)


def test_query_string_form() -> None:
    query = {"sentry_version": "7", "sentry_key": KEY, "sentry_client": "sentry.javascript.browser/9"}
    assert extract_auth({}, query) == AuthInfo(KEY, "7", "sentry.javascript.browser/9")
    assert extract_auth({}, {"sentry_key": KEY}) == AuthInfo(KEY, None, None)


def test_no_auth_at_all_is_none() -> None:
    assert extract_auth({}, {}) is None
    assert extract_auth({"Content-Type": "text/plain"}, {"foo": "bar"}) is None
    # Another scheme may belong to a proxy in front of LightTrace.
    assert extract_auth({"Authorization": "Bearer abc"}, {}) is None


def test_upper_case_key_is_normalized_and_agreeing_forms_merge() -> None:
    headers = {"X-Sentry-Auth": f"Sentry sentry_key={KEY.upper()}, sentry_version=7"}
    query = {"sentry_key": KEY, "sentry_client": "x/2"}
    assert extract_auth(headers, query) == AuthInfo(KEY, "7", "x/2")


def test_old_style_version_is_accepted() -> None:
    auth = extract_auth({"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=2.0"}, {})
    assert auth == AuthInfo(KEY, "2.0", None)


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"X-Sentry-Auth": "Sentry sentry_version=7"}, {}),
        ({"X-Sentry-Auth": "Sentry "}, {}),
        ({"X-Sentry-Auth": f"Token sentry_key={KEY}"}, {}),
        ({"X-Sentry-Auth": f"sentry_key={KEY}"}, {}),
        ({"Authorization": "Sentry sentry_client=x"}, {}),
        ({"Authorization": "Basic !!!notbase64"}, {}),
        ({"Authorization": "Basic " + base64.b64encode(b":secret").decode()}, {}),
        ({"Authorization": "Basic " + base64.b64encode(b"\xff\xfe").decode()}, {}),
        ({}, {"sentry_key": ""}),
        ({"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=seven"}, {}),
        ({"X-Sentry-Auth": f"Sentry sentry_key={KEY}"}, {"sentry_key": OTHER}),
        ({"X-Sentry-Auth": f"Sentry sentry_key={KEY}", "Authorization": f"Sentry sentry_key={OTHER}"}, {}),
    ],
)
def test_unparseable_or_conflicting_auth_is_401(headers: dict[str, str], query: dict[str, str]) -> None:
    with pytest.raises(AuthError) as info:
        extract_auth(headers, query)
    assert info.value.status == 401


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=9"}, {}),
        ({}, {"sentry_key": KEY, "sentry_version": "10"}),
        ({"X-Sentry-Auth": "Sentry sentry_key=abc"}, {}),
        ({}, {"sentry_key": KEY + "0"}),
        ({}, {"sentry_key": "g123456789abcdef0123456789abcdef"}),
        ({}, {"sentry_key": "0123456789abcdef-0123456789abcde"}),
    ],
)
def test_bad_version_or_malformed_key_is_400(headers: dict[str, str], query: dict[str, str]) -> None:
    with pytest.raises(BadRequest) as info:
        extract_auth(headers, query)
    assert info.value.status == 400


def test_version_8_is_still_supported() -> None:
    assert extract_auth({}, {"sentry_key": KEY, "sentry_version": "8"}) == AuthInfo(KEY, "8", None)


@pytest.mark.parametrize(
    "dsn",
    [
        f"https://{KEY}@o1.ingest.example.com/42",
        f"http://{KEY}:secret@localhost:8000/42",
        f"https://{KEY.upper()}@lt.example.com/sentry/42",
        f" https://{KEY}@[::1]:9000/7 ",
    ],
)
def test_auth_from_dsn(dsn: str) -> None:
    assert auth_from_dsn(dsn) == AuthInfo(KEY, None, None)


@pytest.mark.parametrize(
    "dsn", ["", "not a dsn", "https://lt.example.com/42", f"{KEY}@host/1", "https://k@[::1/1", 42, None]
)
def test_auth_from_bad_dsn(dsn: object) -> None:
    with pytest.raises(AuthError):
        auth_from_dsn(dsn)  # type: ignore[arg-type]


def test_auth_from_dsn_with_malformed_key() -> None:
    with pytest.raises(BadRequest):
        auth_from_dsn("https://abc@host/1")


def test_combine_auth_with_envelope_dsn() -> None:
    request = AuthInfo(KEY, "7", "x/1")
    assert combine_auth(request, auth_from_dsn(f"https://{KEY}@h/1")) == request
    assert combine_auth(None, auth_from_dsn(f"https://{KEY}@h/1")) == AuthInfo(KEY, None, None)
    assert combine_auth(None, None) is None
    with pytest.raises(AuthError):
        combine_auth(request, auth_from_dsn(f"https://{OTHER}@h/1"))
