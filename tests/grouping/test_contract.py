"""The interface the rest of LightTrace relies on, and robustness against odd input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import issues.grouping as grouping
from issues.grouping import (
    DEFAULT_CONFIG_ID,
    GroupingComponent,
    GroupingResult,
    GroupingVariant,
    compute_grouping,
    get_config_ids,
)

from .conftest import require_shared

REPO = Path(__file__).resolve().parents[2]


def test_public_names_and_default_config():
    assert DEFAULT_CONFIG_ID == "newstyle:2023-01-11"
    assert DEFAULT_CONFIG_ID in get_config_ids()
    for name in grouping.__all__:
        assert hasattr(grouping, name)


def test_result_shape(sdk_event):
    event = sdk_event("sentry.python-2.75.0/unhandled_exception")
    event["exception"]["values"][0]["stacktrace"]["frames"].insert(
        0, {"function": "bootstrap", "module": "runner", "filename": "runner.py", "in_app": False}
    )
    result = compute_grouping(event)
    assert isinstance(result, GroupingResult)
    assert result.config_id == DEFAULT_CONFIG_ID
    assert result.primary_hash == result.hashes[0]
    assert len(result.hashes) == len(set(result.hashes)) == 2
    names = [v.name for v in result.variants]
    assert names == ["app", "system"]
    for variant in result.variants:
        assert isinstance(variant, GroupingVariant)
        assert isinstance(variant.component, GroupingComponent)
        assert variant.hash == variant.component.get_hash()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["hashes"] == result.hashes and data["primary_hash"] == result.primary_hash
    assert data["variants"][0]["component"]["id"] == "app"


def test_component_tree_explains_what_counted(sdk_event):
    event = sdk_event("sentry.python-2.75.0/unhandled_exception")
    event["exception"]["values"][0]["stacktrace"]["frames"].insert(
        0, {"function": "bootstrap", "module": "runner", "filename": "runner.py", "in_app": False}
    )
    app = compute_grouping(event).variants[0].component
    stack = app.find("stacktrace")
    first = stack.values[0]
    assert not first.contributes and first.hint == "ignored because it is not in-app"
    frame = stack.values[-1]
    by_id = {c.id: c for c in frame.values}
    assert by_id["module"].contributes and by_id["function"].contributes and by_id["context_line"].contributes
    assert not by_id["filename"].contributes
    assert by_id["filename"].hint == "ignored because the module takes precedence"
    assert app.iter_values()[-1] == "ValueError"


def test_identical_app_and_system_hashes_are_listed_once(sdk_event):
    result = compute_grouping(sdk_event("sentry.python-2.75.0/unhandled_exception"))
    system = [v for v in result.variants if v.name == "system"][0]
    assert not system.contributes and "matches the app variant" in system.hint
    assert len(result.hashes) == 1


def test_empty_event_falls_back():
    result = compute_grouping({})
    assert result.variants[-1].name == "fallback"
    assert result.hashes == ["d41d8cd98f00b204e9800998ecf8427e"]


def test_unknown_config_id_uses_the_default():
    assert compute_grouping({"message": "x"}, config_id="nope").config_id == DEFAULT_CONFIG_ID


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "string",
        {"exception": "boom"},
        {"exception": {"values": "nope"}},
        {"exception": {"values": [None, 3, {"type": 5, "value": {"a": 1}, "stacktrace": "x"}]}},
        {
            "exception": [
                {"type": "E", "stacktrace": {"frames": [None, "x", {"function": 3, "in_app": "yes"}]}}
            ]
        },
        {"exception": {"values": [{"type": "E", "mechanism": {"exception_id": 0, "parent_id": 0}}] * 3}},
        {"threads": {"values": [{"crashed": True, "stacktrace": {"frames": {}}}]}},
        {"stacktrace": {"frames": [{"abs_path": 1, "lineno": "7", "context_line": ["x"]}]}},
        {"logentry": {"message": 1, "params": "x"}, "tags": "x", "fingerprint": "x"},
        {"fingerprint": [None, 1, "{{ tags.x }}", {"a": 1}], "tags": [["x"], ["a", "b", "c"], [1, 2]]},
        {"fingerprint": ["{{ default }}", "x"], "platform": 7, "sdk": "x", "checksum": 5},
        {"csp": {"blocked_uri": 3}, "hpkp": [], "template": {"filename": 1}},
        {"exception": {"values": [{"type": "E", "value": "x" * 100_000}]}},
    ],
)
def test_never_raises_on_odd_input(event: Any):
    result = compute_grouping(event)
    assert result.hashes and all(len(h) == 32 for h in result.hashes)
    json.dumps(result.to_dict())


def test_exception_group_cycles_do_not_hang():
    values = [
        {"type": "A", "mechanism": {"exception_id": 0, "parent_id": 1, "is_exception_group": True}},
        {"type": "B", "mechanism": {"exception_id": 1, "parent_id": 0, "is_exception_group": True}},
    ]
    assert compute_grouping({"exception": {"values": values}}).primary_hash


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
interesting_keys = st.sampled_from(
    [
        "exception",
        "values",
        "stacktrace",
        "frames",
        "function",
        "module",
        "in_app",
        "type",
        "value",
        "mechanism",
        "threads",
        "logentry",
        "message",
        "fingerprint",
        "tags",
        "platform",
        "exception_id",
        "parent_id",
        "is_exception_group",
    ]
)
event_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(interesting_keys, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, event_like))
def test_never_raises_on_generated_input(event: Any):
    result = compute_grouping(event)
    assert len(result.primary_hash) == 32


def test_command_line_prints_one_hash_per_line(sdk_event):
    lines = [
        json.dumps(sdk_event("sentry.python-2.75.0/unhandled_exception")),
        "not json",
        json.dumps({"message": "x", "_grouping": {"enhancements": "stack.function:x -group"}}),
        json.dumps(
            {
                "exception": {"values": [{"type": "E"}]},
                "_fingerprinting_rules": [{"matchers": [["type", "E"]], "fingerprint": ["e"]}],
            }
        ),
    ]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.run(
        [sys.executable, "-m", "issues.grouping"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=True,
    )
    out = proc.stdout.splitlines()
    assert len(out) == 4 and all(len(h) == 32 for h in out)
    assert out[3] == compute_grouping({"fingerprint": ["e"]}).primary_hash


def test_conformance_with_sentry_corpus():
    scorer = require_shared("conformance/grouping_conformance.py")
    cmd = f"{sys.executable} -m issues.grouping"
    proc = subprocess.run(
        [
            sys.executable,
            str(scorer),
            "--grouper-batch-cmd",
            cmd,
            "--exclude-requires",
            "custom_enhancements,server_fingerprinting_rules",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["balanced_score"] >= 0.97
