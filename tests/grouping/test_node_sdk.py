"""Grouping of real Node.js SDK captures (@sentry/node 10 and 11)."""

from __future__ import annotations

import copy
from typing import Any

from issues.grouping import compute_grouping

N11 = "sentry.javascript.node-11.12.0/"
N10 = "sentry.javascript.node-10.78.0/"


def primary(event: dict[str, Any]) -> str:
    return compute_grouping(event).primary_hash


def frames(event: dict[str, Any], exc: int = -1) -> list[dict[str, Any]]:
    return event["exception"]["values"][exc]["stacktrace"]["frames"]


def test_capture_message_synthetic_exception_groups_by_its_stack(sdk_event):
    event = sdk_event(N11 + "capture_message.2")
    exc = event["exception"]["values"][0]
    assert exc["mechanism"]["synthetic"] is True and "type" not in exc
    result = compute_grouping(event)
    assert result.variants[0].name == "app" and result.variants[0].contributes

    other_text = copy.deepcopy(event)
    other_text["exception"]["values"][0]["value"] = "Cache warmup finished with 99 misses"
    other_text["message"] = "Cache warmup finished with 99 misses"
    typed = copy.deepcopy(event)
    typed["exception"]["values"][0]["type"] = "Error"
    assert primary(other_text) == primary(typed) == result.primary_hash

    moved = copy.deepcopy(event)
    frames(moved)[-1]["context_line"] = "    Sentry.captureMessage('warmup done', 'info');"
    assert primary(moved) != result.primary_hash


def test_synthetic_type_is_marked_as_ignored(sdk_event):
    event = sdk_event(N11 + "capture_message.2")
    event["exception"]["values"][0]["type"] = "Error"
    exc = compute_grouping(event).variants[0].component.values[0]
    type_comp = exc.find("type")
    assert type_comp is not None and not type_comp.contributes
    assert "synthetic" in (type_comp.hint or "")


def test_node10_capture_message_is_a_message_event(sdk_event):
    event = sdk_event(N10 + "capture_message.2")
    assert "exception" not in event
    result = compute_grouping(event)
    assert result.variants[0].name == "default"
    other = copy.deepcopy(event)
    other["message"] = "Cache warmup finished with 42 misses"
    assert primary(other) == result.primary_hash


def test_anonymous_and_object_prefixed_functions_are_normalised(sdk_event):
    event = sdk_event(N11 + "captured_chained_exception.2")
    renamed = copy.deepcopy(event)
    for exc in renamed["exception"]["values"]:
        for frame in exc["stacktrace"]["frames"]:
            if frame.get("function") == "Object.?":
                frame["function"] = "<anonymous>"
            elif frame.get("function") == "Object.captured_chained_exception":
                frame["function"] = "Module.captured_chained_exception"
    assert primary(renamed) == primary(event)

    comps = compute_grouping(event).variants[0].component.find("stacktrace")
    anonymous = [
        f for f in comps.values if f.find("context_line") and f.find("context_line").values == ["main();"]
    ]
    function = anonymous[0].find("function")
    assert function.values == ["?"] and not function.contributes
    assert function.hint == "ignored because the function name is unknown"


def test_real_function_rename_splits(sdk_event):
    event = sdk_event(N11 + "unhandled_exception.2")
    renamed = copy.deepcopy(event)
    frames(renamed)[-1]["function"] = "chargeCardNow"
    assert primary(renamed) != primary(event)


def test_line_and_column_changes_do_not_split(sdk_event):
    event = sdk_event(N11 + "unhandled_exception.2")
    moved = copy.deepcopy(event)
    for frame in frames(moved):
        frame["lineno"] = frame.get("lineno", 0) + 30
        frame["colno"] = frame.get("colno", 0) + 4
    assert primary(moved) == primary(event)


def test_chained_error_with_cause_uses_both(sdk_event):
    event = sdk_event(N11 + "captured_chained_exception.2")
    result = compute_grouping(event)
    chain = result.variants[0].component.values[0]
    assert chain.id == "chained_exception"
    assert sorted(c.find("type").values[0] for c in chain.values) == ["Error", "SyntaxError"]
    other_cause = copy.deepcopy(event)
    other_cause["exception"]["values"][0]["type"] = "TypeError"
    assert primary(other_cause) != result.primary_hash


def test_aggregate_error_of_two_kinds(sdk_event):
    event = sdk_event(N11 + "exception_group.2")
    chain = compute_grouping(event).variants[0].component.values[0]
    assert [c.find("type").values[0] for c in chain.values] == ["TypeError", "Error", "AggregateError"]
    assert primary(sdk_event(N10 + "exception_group.2")) == primary(event)
