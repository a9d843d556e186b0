"""Sentry envelope framing (protocol doc section 5).

    Envelope = Header { "\\n" Item } [ "\\n" ]
    Item     = ItemHeader "\\n" Payload

``Item.headers`` never contains ``length``: it is framing, not metadata, and
:func:`serialize_envelope` always writes the real one, so that
``parse_envelope(serialize_envelope(e)) == e``. Use ``len(item.payload)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import BadRequest, PayloadTooLarge

_HEX = "0123456789abcdef"
_WHITESPACE = b" \t\r\n"

# Item types whose payload must be one JSON object (Relay parses these too).
# Attachments, replay recordings, profiles, statsd and unknown types are opaque.
JSON_ITEM_TYPES = frozenset(
    {
        "event",
        "transaction",
        "feedback",
        "session",
        "sessions",
        "client_report",
        "check_in",
        "user_report",
        "user_feedback",
        "log",
        "otel_log",
        "span",
        "otel_span",
        "trace_metric",
        "replay_event",
    }
)


@dataclass
class Item:
    headers: dict[str, Any]
    payload: bytes
    # Set by split_valid_items() for JSON item types, so nobody parses twice.
    parsed: Any = field(default=None, compare=False, repr=False)

    @property
    def type(self) -> str:
        kind: str = self.headers["type"]  # parse_envelope refuses an item without a str type
        return kind


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[Item]


def parse_envelope(body: bytes, *, max_items: int = 1000) -> Envelope:
    """Split an envelope into its header and items; raises BadRequest."""
    if not body:
        raise BadRequest("empty request body")
    end = len(body)
    line, pos = _read_line(body, 0)
    headers = _load_header(line, "envelope header")
    items: list[Item] = []
    while pos < end:
        number = len(items) + 1
        line, pos = _read_line(body, pos)
        if not line.strip(_WHITESPACE):
            # Tolerated only as trailing padding, like the reference parser.
            if body[pos:].strip(_WHITESPACE):
                raise BadRequest(f"item {number}: blank line where an item header was expected")
            break
        if number > max_items:
            raise PayloadTooLarge(f"too many items in envelope (more than {max_items})")
        item_headers = _load_header(line, f"item {number}")
        item_type = item_headers.get("type")
        if not isinstance(item_type, str) or not item_type:
            raise BadRequest(f"item {number}: item header without type")
        length = item_headers.pop("length", None)
        if length is None:
            # Node omits length on JSON items: the payload runs to the next newline.
            payload, pos = _read_line(body, pos)
        else:
            payload, pos = _read_sized(body, pos, length, number)
        items.append(Item(item_headers, payload))
    return Envelope(headers, items)


def serialize_envelope(env: Envelope) -> bytes:
    parts = [orjson.dumps(env.headers), b"\n"]
    for item in env.items:
        headers = dict(item.headers)
        headers["length"] = len(item.payload)
        parts += (orjson.dumps(headers), b"\n", item.payload, b"\n")
    return b"".join(parts)


def normalize_event_id(value: object) -> str | None:
    """32 hex or dashed 36-char UUID -> 32 lowercase hex; anything else None."""
    if not isinstance(value, str):
        return None
    if len(value) == 36:
        if value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
            return None
        value = value.replace("-", "")
    if len(value) != 32:
        return None
    value = value.lower()
    # str.strip() removes every hex char from both ends: empty means all-hex.
    return None if value.strip(_HEX) else value


def split_valid_items(env: Envelope) -> tuple[list[Item], list[str]]:
    """Keep items whose JSON payload parses to an object; explain the others.

    The parsed object is stored in ``item.parsed``. Opaque item types are
    kept untouched.
    """
    valid: list[Item] = []
    reasons: list[str] = []
    for number, item in enumerate(env.items, 1):
        item_type = item.headers.get("type")
        if item_type not in JSON_ITEM_TYPES:
            valid.append(item)
            continue
        try:
            parsed = orjson.loads(item.payload)
        except Exception as exc:  # orjson: JSONDecodeError, incl. its depth limit
            reasons.append(f"item {number} ({item_type}): invalid JSON: {exc}")
            continue
        if not isinstance(parsed, dict):
            kind = _json_kind(parsed)
            reasons.append(f"item {number} ({item_type}): expected a JSON object, got {kind}")
            continue
        item.parsed = parsed
        valid.append(item)
    return valid, reasons


def _read_line(body: bytes, pos: int) -> tuple[bytes, int]:
    newline = body.find(b"\n", pos)
    if newline == -1:
        return body[pos:], len(body)
    return body[pos:newline], newline + 1


def _read_sized(body: bytes, pos: int, length: object, number: int) -> tuple[bytes, int]:
    # bool is an int subclass, but "length": true is no length.
    if type(length) is not int or length < 0:
        raise BadRequest(f"item {number}: invalid length {length!r}")
    stop = pos + length
    if stop > len(body):
        raise BadRequest(
            f"item {number}: unexpected end of envelope (declared length {length}, "
            f"only {len(body) - pos} bytes left)"
        )
    if stop < len(body):
        if body[stop] != 0x0A:
            raise BadRequest(f"item {number}: payload not followed by a newline")
        return body[pos:stop], stop + 1
    return body[pos:stop], stop


def _load_header(line: bytes, where: str) -> dict[str, Any]:
    if where == "envelope header":
        prefix, what = "", "envelope header"
    else:
        prefix, what = f"{where}: ", "item header"
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in str(exc):
            raise BadRequest(f"{prefix}{what} is not valid UTF-8") from exc
        raise BadRequest(f"{prefix}invalid {what} JSON") from exc
    if not isinstance(value, dict):
        raise BadRequest(f"{prefix}{what} is not a JSON object")
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"
