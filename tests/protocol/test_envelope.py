"""Envelope framing (protocol doc section 5) against real SDK captures and edge cases."""

from __future__ import annotations

import base64

import orjson
import pytest

from ingest.protocol.decompress import decompress
from ingest.protocol.envelope import (
    JSON_ITEM_TYPES,
    Envelope,
    Item,
    normalize_event_id,
    parse_envelope,
    serialize_envelope,
    split_valid_items,
)
from ingest.protocol.errors import BadRequest, PayloadTooLarge, ProtocolError

from .sdk_fixtures import CAPTURE_IDS, CAPTURES, REFERENCE, Capture

WIRE_CAPTURES = [c for c in CAPTURES if c.wire_body is not None]
MAX = 200 * 1024 * 1024


def _request_body(capture: Capture) -> bytes:
    request = capture.request
    if "body_base64" in request:
        return base64.b64decode(request["body_base64"])
    return request["body_text"].encode()


@pytest.mark.parametrize("capture", CAPTURES, ids=CAPTURE_IDS)
def test_fixture_envelope_matches_recorded_types_and_reference(capture: Capture) -> None:
    env = parse_envelope(capture.envelope)
    assert [item.type for item in env.items] == capture.item_types
    ref_headers, ref_items = REFERENCE.parse_envelope(capture.envelope)
    assert env.headers == ref_headers
    assert len(env.items) == len(ref_items)
    for item, (ref_item_headers, ref_payload) in zip(env.items, ref_items, strict=True):
        assert item.payload == ref_payload
        ref_item_headers.pop("length", None)
        assert item.headers == ref_item_headers


@pytest.mark.parametrize("capture", CAPTURES, ids=CAPTURE_IDS)
def test_fixture_envelope_file_is_the_recorded_body(capture: Capture) -> None:
    assert _request_body(capture) == capture.envelope


@pytest.mark.parametrize("capture", WIRE_CAPTURES, ids=[c.name for c in WIRE_CAPTURES])
def test_fixture_wire_body_decompresses_and_parses(capture: Capture) -> None:
    assert capture.wire_body is not None
    body = decompress(capture.wire_body, capture.content_encoding, MAX)
    assert body == capture.envelope
    assert [item.type for item in parse_envelope(body).items] == capture.item_types


def test_wire_fixtures_cover_gzip_and_brotli() -> None:
    assert {c.content_encoding for c in WIRE_CAPTURES} == {"gzip", "br"}


@pytest.mark.parametrize("capture", CAPTURES, ids=CAPTURE_IDS)
def test_fixture_roundtrip_and_json_items_valid(capture: Capture) -> None:
    env = parse_envelope(capture.envelope)
    assert parse_envelope(serialize_envelope(env)) == env
    valid, reasons = split_valid_items(env)
    assert reasons == []
    assert valid == env.items
    for item in valid:
        if item.type in JSON_ITEM_TYPES:
            assert isinstance(item.parsed, dict)
        else:
            assert item.parsed is None


def test_node_items_without_length_and_python_items_with_length() -> None:
    by_name = {c.name: c for c in CAPTURES}
    node = parse_envelope(by_name["sentry.javascript.node-11.12.0/attachment.2"].envelope)
    assert [i.type for i in node.items] == ["event", "attachment", "attachment"]
    assert node.items[0].headers == {"type": "event"}
    python = parse_envelope(by_name["sentry.python-2.75.0/attachment"].envelope)
    assert all("length" not in item.headers for item in python.items)
    png = [i for i in node.items if i.headers.get("content_type") == "image/png"]
    assert png and png[0].payload.startswith(b"\x89PNG")


# --- accepted framings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"{}", []),
        (b"{}\n", []),
        (b'{"event_id":"x"}\n\n', []),
        (b'{}\n{"type":"event"}\n{"a":1}', [({"type": "event"}, b'{"a":1}')]),
        (b'{}\n{"type":"event"}\n{"a":1}\n', [({"type": "event"}, b'{"a":1}')]),
        (b'{}\n{"type":"event","length":7}\n{"a":1}', [({"type": "event"}, b'{"a":1}')]),
        (b'{}\n{"type":"event","length":7}\n{"a":1}\n', [({"type": "event"}, b'{"a":1}')]),
        (b'{}\n{"type":"x","length":null}\nab\n', [({"type": "x"}, b"ab")]),
        (b'{}\n{"type":"a","length":0}\n\n{"type":"b"}\n', [({"type": "a"}, b""), ({"type": "b"}, b"")]),
        (b'{}\n{"type":"a"}', [({"type": "a"}, b"")]),
        (b'{}\n{"type":"a"}\n', [({"type": "a"}, b"")]),
        (b'{}\n{"type":"a","length":4}\n\n\r\n\x00\n', [({"type": "a"}, b"\n\r\n\x00")]),
        (
            b'{}\n{"type":"a","length":2}\nab\n{"type":"b"}\ncd',
            [({"type": "a"}, b"ab"), ({"type": "b"}, b"cd")],
        ),
        (b'{}\n{"type":"future_type","x":[1]}\n\xff\xfe', [({"type": "future_type", "x": [1]}, b"\xff\xfe")]),
    ],
)
def test_accepted_framing(body: bytes, expected: list[tuple[dict, bytes]]) -> None:
    env = parse_envelope(body)
    assert [(item.headers, item.payload) for item in env.items] == expected


def test_envelope_header_is_kept() -> None:
    env = parse_envelope(b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@h/1","x":{}}')
    assert env.headers == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "dsn": "https://k@h/1", "x": {}}


# --- rejected framings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "empty request body"),
        (b"\n", "invalid envelope header JSON"),
        (b"not json\n", "invalid envelope header JSON"),
        (b"[]\n", "envelope header is not a JSON object"),
        (b'"str"', "envelope header is not a JSON object"),
        (b'{"a":"\xff"}\n', "envelope header is not valid UTF-8"),
        (b'{}\n{"type":"event"\n{}', "item 1: invalid item header JSON"),
        (b'{}\n{"type":"a","length":1}\na\n{bad}\n', "item 2: invalid item header JSON"),
        (b'{}\n{"type":"\xc3\x28"}\n{}', "item 1: item header is not valid UTF-8"),
        (b"{}\n[1]\n", "item 1: item header is not a JSON object"),
        (b'{}\n{"length":2}\nab', "item 1: item header without type"),
        (b'{}\n{"type":3}\nab', "item 1: item header without type"),
        (b'{}\n{"type":""}\nab', "item 1: item header without type"),
        (b'{}\n{"type":"a","length":-1}\nab', "item 1: invalid length -1"),
        (b'{}\n{"type":"a","length":1.5}\nab', "item 1: invalid length 1.5"),
        (b'{}\n{"type":"a","length":"2"}\nab', "item 1: invalid length '2'"),
        (b'{}\n{"type":"a","length":true}\nab', "item 1: invalid length True"),
        (b'{}\n{"type":"a","length":10}\nab', "item 1: unexpected end of envelope"),
        (b'{}\n{"type":"a","length":1}\nab', "item 1: payload not followed by a newline"),
        (b'{}\n{"type":"a","length":1}\na\r\n', "item 1: payload not followed by a newline"),
        (b'{}\n{"type":"a"}\nx\n\n{"type":"b"}\ny', "item 2: blank line where an item header was expected"),
    ],
)
def test_rejected_framing(body: bytes, reason: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_envelope(body)
    assert info.value.reason.startswith(reason), info.value.reason
    assert info.value.status == 400


def test_too_many_items() -> None:
    body = b"{}\n" + b'{"type":"client_report"}\n{}\n' * 4
    assert len(parse_envelope(body, max_items=4).items) == 4
    with pytest.raises(PayloadTooLarge):
        parse_envelope(body, max_items=3)


def test_parse_only_raises_protocol_errors_on_truncations_of_fixtures() -> None:
    for capture in CAPTURES[:20]:
        body = capture.envelope
        for cut in range(0, len(body), max(1, len(body) // 50)):
            try:
                parse_envelope(body[:cut])
            except ProtocolError:
                pass


# --- serialization -----------------------------------------------------------------------


def test_serialize_writes_length_and_roundtrips_binary() -> None:
    env = Envelope(
        {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"},
        [
            Item({"type": "attachment", "filename": "a.bin"}, b"\n\x00binary\nwith newlines\n"),
            Item({"type": "x"}, b""),
        ],
    )
    data = serialize_envelope(env)
    lines = data.split(b"\n")
    assert orjson.loads(lines[1]) == {"type": "attachment", "filename": "a.bin", "length": 23}
    assert parse_envelope(data) == env
    assert env.items[0].headers == {"type": "attachment", "filename": "a.bin"}  # not mutated


def test_serialize_ignores_stale_length() -> None:
    env = Envelope({}, [Item({"type": "x", "length": 99}, b"abc")])
    assert parse_envelope(serialize_envelope(env)).items == [Item({"type": "x"}, b"abc")]


# --- event ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("9ec79c33ec9942ab8353589fcb2e04dc", "9ec79c33ec9942ab8353589fcb2e04dc"),
        ("9EC79C33EC9942AB8353589FCB2E04DC", "9ec79c33ec9942ab8353589fcb2e04dc"),
        ("9ec79c33-ec99-42ab-8353-589fcb2e04dc", "9ec79c33ec9942ab8353589fcb2e04dc"),
        ("9EC79C33-EC99-42AB-8353-589FCB2E04DC", "9ec79c33ec9942ab8353589fcb2e04dc"),
        ("9ec79c33ec9942ab8353589fcb2e04d", None),
        ("9ec79c33ec9942ab8353589fcb2e04dcc", None),
        ("9ec79c33ec9942ab8353589fcb2e04dg", None),
        ("9ec79c33-ec9942ab-8353-589fcb2e04dc", None),
        ("9ec79c33ec-99-42ab-8353-589fcb2e04dc", None),
        ("{9ec79c33-ec99-42ab-8353-589fcb2e04}", None),
        (" 9ec79c33ec9942ab8353589fcb2e04dc", None),
        ("+ec79c33ec9942ab8353589fcb2e04dc", None),
        ("9ec79c33_ec9942ab8353589fcb2e04dc", None),
        ("", None),
        (None, None),
        (123, None),
        (["9ec79c33ec9942ab8353589fcb2e04dc"], None),
    ],
)
def test_normalize_event_id(value: object, expected: str | None) -> None:
    assert normalize_event_id(value) == expected


# --- split_valid_items -------------------------------------------------------------------


def test_split_valid_items_drops_bad_json_and_keeps_opaque_items() -> None:
    deep = b"[" * 2000 + b"]" * 2000
    env = Envelope(
        {},
        [
            Item({"type": "event"}, b'{"message": "ok"}'),
            Item({"type": "event"}, b"{not json"),
            Item({"type": "session"}, b"[1, 2]"),
            Item({"type": "transaction"}, deep),
            Item({"type": "attachment"}, b"{not json"),
            Item({"type": "brand_new_type"}, b"\xff"),
            Item({"type": "client_report"}, b""),
            Item({"type": "check_in"}, b'"string"'),
            Item({"type": "log"}, b'{"items": [{"body": "x"}]}'),
        ],
    )
    valid, reasons = split_valid_items(env)
    assert [item.type for item in valid] == ["event", "attachment", "brand_new_type", "log"]
    assert valid[0].parsed == {"message": "ok"}
    assert valid[1].parsed is None
    assert len(reasons) == 5
    assert reasons[0].startswith("item 2 (event): invalid JSON: ")
    assert reasons[1] == "item 3 (session): expected a JSON object, got array"
    assert reasons[2].startswith("item 4 (transaction): invalid JSON: ")
    assert reasons[3].startswith("item 7 (client_report): invalid JSON: ")
    assert reasons[4] == "item 8 (check_in): expected a JSON object, got string"


def test_split_valid_items_rejects_invalid_utf8_payload() -> None:
    env = Envelope({}, [Item({"type": "event"}, b'{"a": "\xff"}')])
    valid, reasons = split_valid_items(env)
    assert valid == []
    assert reasons[0].startswith("item 1 (event): invalid JSON: ")
