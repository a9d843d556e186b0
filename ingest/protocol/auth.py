"""Extract the Sentry public key from a request (protocol doc section 2).

Accepted forms, in Relay's order: ``X-Sentry-Auth``, ``Authorization: Sentry``,
``Authorization: Basic``, the query string, and (envelope endpoint only) the
envelope header's ``dsn`` (see :func:`auth_from_dsn` / :func:`combine_auth`).
``sentry_secret`` and ``sentry_timestamp`` are legacy and ignored on purpose:
browser SDKs ship the public key, so the secret proves nothing.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import AuthError, BadRequest

_HEX = "0123456789abcdef"
_MAX_VERSION = 8  # Relay rejects newer protocol versions with 400


@dataclass(frozen=True)
class AuthInfo:
    public_key: str
    sentry_version: str | None
    client: str | None


def extract_auth(headers: Mapping[str, str], query: Mapping[str, str]) -> AuthInfo | None:
    """Return the request's auth, or None when it carries none at all.

    Raises AuthError for unparseable auth or for several forms naming
    different keys, BadRequest for a malformed key or sentry_version > 8.
    """
    x_sentry_auth, authorization = _find_headers(headers)
    found: list[AuthInfo] = []
    if x_sentry_auth:
        found.append(_parse_sentry_header(x_sentry_auth, "X-Sentry-Auth"))
    if authorization:
        scheme, _, rest = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "sentry":
            found.append(_parse_sentry_header(authorization, "Authorization"))
        elif scheme == "basic":
            found.append(_parse_basic(rest.strip()))
        # Other schemes (Bearer, ...) may belong to a proxy in front of us: ignore.
    key = query.get("sentry_key")
    if key is not None:
        found.append(_make_auth(key, query.get("sentry_version"), query.get("sentry_client"), "query string"))
    return combine_auth(*found)


def auth_from_dsn(dsn: str) -> AuthInfo:
    """Auth from a full DSN string (the envelope header's ``dsn`` field)."""
    if not isinstance(dsn, str):
        raise AuthError("invalid dsn in envelope header")
    try:
        parts = urlsplit(dsn.strip())
        username = parts.username
        hostname = parts.hostname
    except ValueError as exc:  # e.g. a bad port or an unbalanced IPv6 bracket
        raise AuthError("invalid dsn in envelope header") from exc
    if not parts.scheme or not hostname or not username:
        raise AuthError("invalid dsn in envelope header")
    return AuthInfo(public_key=_normalize_key(username), sentry_version=None, client=None)


def combine_auth(*candidates: AuthInfo | None) -> AuthInfo | None:
    """Merge auth found in several places; they must all name the same key."""
    result: AuthInfo | None = None
    for info in candidates:
        if info is None:
            continue
        if result is None:
            result = info
            continue
        if info.public_key != result.public_key:
            raise AuthError("conflicting authentication: several different sentry keys")
        if result.sentry_version is None or result.client is None:
            result = AuthInfo(
                public_key=result.public_key,
                sentry_version=result.sentry_version or info.sentry_version,
                client=result.client or info.client,
            )
    return result


def _find_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    # A plain dict may use any case, and a Django META dict uses HTTP_* names;
    # scanning a dozen headers is cheaper than building a lowered copy.
    x_sentry_auth = authorization = None
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("x-sentry-auth", "http_x_sentry_auth"):
            x_sentry_auth = value
        elif lowered in ("authorization", "http_authorization"):
            authorization = value
    return x_sentry_auth, authorization


def _parse_sentry_header(value: str, where: str) -> AuthInfo:
    prefix, _, rest = value.strip().partition(" ")
    if prefix.lower() != "sentry":
        raise AuthError(f"invalid {where} header: expected 'Sentry ' prefix")
    fields: dict[str, str] = {}
    for pair in rest.split(","):
        name, sep, val = pair.partition("=")
        if sep:
            fields[name.strip()] = val.strip()
    key = fields.get("sentry_key")
    if not key:
        raise AuthError(f"invalid {where} header: missing sentry_key")
    return _make_auth(key, fields.get("sentry_version"), fields.get("sentry_client"), where)


def _parse_basic(token: str) -> AuthInfo:
    try:
        decoded = b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise AuthError("invalid Authorization: Basic header") from exc
    key = decoded.partition(":")[0]
    if not key:
        raise AuthError("invalid Authorization: Basic header: missing key")
    return _make_auth(key, None, None, "Authorization")


def _make_auth(key: str, version: str | None, client: str | None, where: str) -> AuthInfo:
    if not key:
        raise AuthError(f"missing sentry_key in {where}")
    if version is not None:
        version = version.strip() or None
    if version is not None:
        # Old clients sent "2.0"-style versions; only the major number matters.
        major = version.partition(".")[0]
        if not major.isascii() or not major.isdigit():
            raise AuthError(f"invalid sentry_version in {where}")
        if int(major) > _MAX_VERSION:
            raise BadRequest(f"unsupported sentry_version {version}")
    return AuthInfo(public_key=_normalize_key(key), sentry_version=version, client=client or None)


def _normalize_key(key: str) -> str:
    key = key.strip().lower()
    if len(key) != 32 or key.strip(_HEX):
        raise BadRequest("invalid sentry_key: expected 32 hex characters")
    return key
