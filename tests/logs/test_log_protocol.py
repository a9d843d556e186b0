"""The `log` item's records checked and typed (ingest/protocol/logs.py): pure."""

from ingest.protocol.logs import container_records, flatten, record_problem, typed_record
from logs.query.attributes import attribute_type

NOW = 1795521300.0


def test_container_needs_an_items_list():
    assert container_records({"items": [1]}) == ([1], [])
    assert container_records({"items": "x"})[1] and container_records([])[1]


def test_records_without_text_body_cannot_be_stored():
    assert record_problem({"body": "x"}) is None
    assert record_problem({"body": 3}) == "body missing or not a string"
    assert record_problem([]) == "not a JSON object"


def test_levels_and_severity_numbers():
    def level(**raw):
        typed = typed_record({"body": "b", **raw}, NOW)
        return typed["level"], typed["severity_number"]

    assert level(level="warn") == ("warn", 13)
    assert level(level="warning", severity_number=14) == ("warn", 14)
    assert level(severity_number=18) == ("error", 18)
    assert level(level="nonsense") == ("info", 9)
    assert level(level="fatal", severity_number=True) == ("fatal", 21)


def test_timestamps_in_the_future_or_invalid_become_the_arrival():
    assert typed_record({"body": "b", "timestamp": NOW - 5}, NOW)["timestamp"] == NOW - 5
    assert typed_record({"body": "b", "timestamp": NOW + 86400}, NOW)["timestamp"] == NOW
    assert typed_record({"body": "b", "timestamp": "yesterday"}, NOW)["timestamp"] == NOW
    assert typed_record({"body": "b", "timestamp": float("nan")}, NOW)["timestamp"] == NOW


def test_ids_are_lowercase_hex_of_their_length_or_empty():
    typed = typed_record(
        {"body": "b", "trace_id": "7E8CCFE1-FF7F-4CA6-857D-5820B8FA5645", "span_id": "xyz"}, NOW
    )
    assert typed["trace_id"] == "7e8ccfe1ff7f4ca6857d5820b8fa5645" and typed["span_id"] == ""


def test_attributes_keep_their_types():
    raw = {
        "body": "b\x00",
        "attributes": {
            "s": {"value": "x", "type": "string"},
            "i": {"value": 3, "type": "integer"},
            "big": {"value": "9007199254740993", "type": "integer"},  # OTLP JSON sends int64 as text
            "d": {"value": 2, "type": "double"},
            "b": {"value": True, "type": "boolean"},
            "arr": {"value": [1, 2], "type": "array"},
            "bare": 5,
            "none": {"value": None, "type": "string"},
            "": {"value": "no key", "type": "string"},
        },
    }
    record = flatten(typed_record(raw, NOW))
    assert record.body == "b\ufffd"
    assert record.attributes == {
        "s": "x",
        "i": 3,
        "big": 9007199254740993,
        "d": 2.0,
        "b": True,
        "arr": "[1,2]",
        "bare": 5,
    }
    assert [attribute_type(v) for v in (True, 1, 1.0, "x")] == ["boolean", "integer", "double", "string"]


def test_template_comes_from_its_attribute():
    raw = {"body": "b", "attributes": {"sentry.message.template": {"value": "T {x}", "type": "string"}}}
    assert flatten(typed_record(raw, NOW)).template == "T {x}"
