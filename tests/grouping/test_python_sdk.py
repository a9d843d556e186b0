"""Grouping of real Python SDK captures (sentry-sdk 2.75)."""

from __future__ import annotations

import copy
from typing import Any

from issues.grouping import compute_grouping

PY = "sentry.python-2.75.0/"


def primary(event: dict[str, Any]) -> str:
    return compute_grouping(event).primary_hash


def frames(event: dict[str, Any], exc: int = -1) -> list[dict[str, Any]]:
    return event["exception"]["values"][exc]["stacktrace"]["frames"]


def test_same_event_twice_gives_the_same_hashes(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    assert compute_grouping(event).hashes == compute_grouping(copy.deepcopy(event)).hashes


def test_code_added_above_the_bug_does_not_split_the_issue(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    shifted = copy.deepcopy(event)
    for frame in frames(shifted):
        frame["lineno"] += 7
        frame["pre_context"] = ["# a new comment"] + frame.get("pre_context", [])
    shifted["event_id"] = "0" * 32
    assert primary(shifted) == primary(event)


def test_renamed_in_app_function_splits_the_issue(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    renamed = copy.deepcopy(event)
    frames(renamed)[-1]["function"] = "charge_credit_card"
    assert primary(renamed) != primary(event)


def test_changed_raising_line_splits_the_issue(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    changed = copy.deepcopy(event)
    frames(changed)[-1]["context_line"] = '            raise ValueError("amount must be positive")'
    assert primary(changed) != primary(event)


def test_exception_value_is_ignored_when_the_stack_trace_counts(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    other = copy.deepcopy(event)
    other["exception"]["values"][0]["value"] = "something else entirely"
    assert primary(other) == primary(event)
    exc = compute_grouping(event).variants[0].component.values[0]
    value = [c for c in exc.values if c.id == "value"][0]
    assert not value.contributes
    assert value.hint == "ignored because stack trace takes precedence"


def test_system_frames_do_not_change_the_app_hash(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    wrapped = copy.deepcopy(event)
    outer = {
        "filename": "gunicorn/workers/sync.py",
        "abs_path": "/usr/lib/python3.11/site-packages/gunicorn/workers/sync.py",
        "module": "gunicorn.workers.sync",
        "function": "handle_request",
        "context_line": "respiter = self.wsgi(environ, resp.start_response)",
        "lineno": 178,
        "in_app": False,
    }
    frames(wrapped).insert(0, outer)
    result = compute_grouping(wrapped)
    assert result.primary_hash == primary(event)
    assert len(result.hashes) == 2  # app first, then system


def test_recursion_depth_does_not_matter(sdk_event):
    event = sdk_event(PY + "recursion")
    stack = frames(event)
    walk = [f for f in stack if f["function"] == "walk" and f["lineno"] == 50]
    assert len(walk) == 5
    deeper = copy.deepcopy(event)
    frames(deeper)[1:1] = copy.deepcopy(walk) * 3
    shallower = copy.deepcopy(event)
    del frames(shallower)[2:5]
    assert primary(deeper) == primary(event) == primary(shallower)
    stack_component = compute_grouping(event).variants[0].component.values[0].values[0]
    hints = [f.hint for f in stack_component.values]
    assert hints.count("ignored due to recursion") == 4


def test_deep_recursion_error_groups_quickly(sdk_event):
    event = sdk_event(PY + "recursion_error_deep")
    assert len(frames(event)) > 900
    assert compute_grouping(event).primary_hash


def test_chained_exception_uses_every_exception(sdk_event):
    event = sdk_event(PY + "captured_chained_exception")
    types = [e["type"] for e in event["exception"]["values"]]
    assert types == ["ValueError", "RuntimeError"]
    result = compute_grouping(event)
    chain = result.variants[0].component.values[0]
    assert chain.id == "chained_exception"
    assert [c.find("type").values for c in chain.values] == [["ValueError"], ["RuntimeError"]]

    other_cause = copy.deepcopy(event)
    other_cause["exception"]["values"][0]["type"] = "TypeError"
    assert primary(other_cause) != result.primary_hash

    other_cause_stack = copy.deepcopy(event)
    assert frames(other_cause_stack, 0)[-1]["function"] == "parse_quantity"
    frames(other_cause_stack, 0)[-1]["function"] = "parse_amount"
    assert primary(other_cause_stack) != result.primary_hash


def _exception_group(children: list[dict[str, Any]]) -> dict[str, Any]:
    group_frames = [
        {
            "filename": "app.py",
            "module": "app",
            "function": "run",
            "context_line": "validate(order)",
            "in_app": True,
        }
    ]
    values = []
    for idx, child in enumerate(children, start=1):
        child = copy.deepcopy(child)
        child["mechanism"] = {
            "type": "chained",
            "source": f"exceptions[{idx - 1}]",
            "exception_id": idx,
            "parent_id": 0,
        }
        values.append(child)
    values.reverse()
    values.append(
        {
            "type": "ExceptionGroup",
            "value": "validation failed",
            "mechanism": {"type": "generic", "exception_id": 0, "is_exception_group": True},
            "stacktrace": {"frames": group_frames},
        }
    )
    return {"platform": "python", "exception": {"values": values}}


def test_group_of_identical_errors_groups_like_one_error(sdk_event):
    error = sdk_event(PY + "exception_group")["exception"]["values"][1]
    assert error["type"] == "ValueError"
    error = {k: v for k, v in error.items() if k != "mechanism"}
    single = {"platform": "python", "exception": {"values": [error]}}
    group_of_two = _exception_group([error, error])
    assert primary(group_of_two) == primary(single)


def test_group_of_different_errors_keeps_each_kind_and_the_group(sdk_event):
    event = sdk_event(PY + "exception_group")
    result = compute_grouping(event)
    chain = result.variants[0].component.values[0]
    assert chain.id == "chained_exception"
    assert [c.find("type").values[0] for c in chain.values] == ["ValueError", "KeyError", "ExceptionGroup"]


def test_custom_fingerprint_with_default_splits_the_default_group(sdk_event):
    event = sdk_event(PY + "custom_fingerprint")
    assert event["fingerprint"] == ["{{ default }}", "payment-gateway", "stripe"]
    result = compute_grouping(event)
    assert result.variants[0].type == "salted_component"
    plain = copy.deepcopy(event)
    del plain["fingerprint"]
    other_part = copy.deepcopy(event)
    other_part["fingerprint"] = ["{{ default }}", "payment-gateway", "adyen"]
    assert len({result.primary_hash, primary(plain), primary(other_part)}) == 3


def test_custom_fingerprint_without_default_replaces_grouping(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    event["fingerprint"] = ["payments", "{{ error.type }}"]
    result = compute_grouping(event)
    fingerprint = [v for v in result.variants if v.name == "custom_fingerprint"]
    assert fingerprint and fingerprint[0].values == ["payments", "ValueError"]
    assert result.hashes == [fingerprint[0].hash]
    assert all(not v.contributes for v in result.variants if v.name in ("app", "system"))
    other_stack = copy.deepcopy(event)
    frames(other_stack)[-1]["function"] = "somewhere_else"
    assert primary(other_stack) == result.primary_hash


def test_logging_messages_group_by_template(sdk_event):
    event = sdk_event(PY + "logging_message")
    assert event["logentry"]["message"] == "Payment failed for user %s"
    other = copy.deepcopy(event)
    other["logentry"]["params"] = [9000]
    other["logentry"]["formatted"] = "Payment failed for user 9000"
    assert primary(other) == primary(event)
    different = copy.deepcopy(event)
    different["logentry"]["message"] = "Refund failed for user %s"
    assert primary(different) != primary(event)


def test_messages_without_template_are_parameterized(sdk_event):
    event = sdk_event(PY + "capture_message")
    event["logentry"] = {"formatted": "Cache warmup finished with 3 misses in 120ms"}
    other = copy.deepcopy(event)
    other["logentry"] = {"formatted": "Cache warmup finished with 17 misses in 9ms"}
    result = compute_grouping(event)
    assert result.primary_hash == primary(other)
    assert result.variants[0].component.values[0].values == [
        "Cache warmup finished with <int> misses in <duration>"
    ]


def test_exception_without_stack_uses_parameterized_value():
    base = {
        "platform": "python",
        "exception": {"values": [{"type": "KeyError", "value": "order 17 missing"}]},
    }
    other = copy.deepcopy(base)
    other["exception"]["values"][0]["value"] = "order 18 missing"
    different = copy.deepcopy(base)
    different["exception"]["values"][0]["value"] = "customer 17 missing"
    assert primary(base) == primary(other) != primary(different)
