"""Browser JavaScript frames, message parameterisation and other strategies."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from issues.grouping import compute_grouping
from issues.grouping.normalize import module_from_url
from issues.grouping.parameterization import normalize_message


def browser_error(script: str, function: str = "Object.submitOrder") -> dict[str, Any]:
    return {
        "platform": "javascript",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "Cannot read properties of undefined (reading 'id')",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "HTMLButtonElement.<anonymous>",
                                "abs_path": script,
                                "filename": script,
                            },
                            {
                                "function": function,
                                "abs_path": script,
                                "filename": script,
                                "lineno": 1,
                                "colno": 99,
                            },
                        ]
                    },
                }
            ]
        },
    }


def test_revision_hashes_in_script_urls_do_not_split_issues():
    first = browser_error("https://shop.example.com/static/js/main.4f3a9c1e.min.js")
    second = browser_error("https://shop.example.com/static/js/main.0b7d22aa.min.js?v=2")
    assert compute_grouping(first).primary_hash == compute_grouping(second).primary_hash
    other_script = browser_error("https://shop.example.com/static/js/checkout.4f3a9c1e.min.js")
    assert compute_grouping(other_script).primary_hash != compute_grouping(first).primary_hash


@pytest.mark.parametrize(
    ("url", "module"),
    [
        ("https://cdn.example.com/static/js/app.4f3a9c1e.min.js", "app"),
        ("http://google.com/js/v1.0/foo/bar/baz.js", "foo/bar/baz"),
        ("https://x.io/assets/9f86d081884c7d659a2feaa0c55ad015/vendor/lib.js", "vendor/lib"),
        ("webpack:///./src/components/Cart.tsx", "src/components/Cart"),
    ],
)
def test_module_from_url(url, module):
    assert module_from_url(url) == module


def test_browser_function_names_are_trimmed_across_browsers():
    chrome = browser_error("https://shop.example.com/app.js", "Object.submitOrder")
    firefox = browser_error("https://shop.example.com/app.js", "submitOrder")
    assert compute_grouping(chrome).primary_hash == compute_grouping(firefox).primary_hash


def test_low_quality_frames_are_dropped():
    event = browser_error("https://shop.example.com/app.js")
    with_native = copy.deepcopy(event)
    frames = with_native["exception"]["values"][0]["stacktrace"]["frames"]
    frames.insert(1, {"function": "Array.forEach", "abs_path": "[native code]", "filename": "[native code]"})
    assert compute_grouping(with_native).primary_hash == compute_grouping(event).primary_hash


def test_context_line_wins_over_a_source_mapped_function_name():
    def frame(function: str) -> dict[str, Any]:
        return {
            "function": function,
            "abs_path": "webpack:///./src/cart.js",
            "filename": "./src/cart.js",
            "context_line": "  total += item.price * item.qty;",
            "data": {"sourcemap": "https://shop.example.com/app.js.map"},
        }

    def event(function: str) -> dict[str, Any]:
        stack = {"frames": [frame(function)]}
        return {
            "platform": "javascript",
            "exception": {"values": [{"type": "TypeError", "stacktrace": stack}]},
        }

    assert compute_grouping(event("a")).primary_hash == compute_grouping(event("addToCart")).primary_hash


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Order 1234 not found", "Order <int> not found"),
        ("Upstream 10.0.0.12 timed out after 30ms", "Upstream <ip> timed out after <duration>"),
        ("request 3fa85f64-5717-4562-b3fc-2c963f66afa6 failed", "request <uuid> failed"),
        ("mail bob@example.com bounced", "mail <email> bounced"),
        ("GET https://api.example.com/v1/orders?id=3 failed", "GET <url> failed"),
        ("at 2024-05-01T10:00:00Z retry", "at <date> retry"),
        ("pointer 0xdeadbeef freed twice", "pointer <hex> freed twice"),
        ("ratio was 0.75 instead", "ratio was <float> instead"),
        ("user='bob' admin=true", "user=<quoted_str> admin=<bool>"),
        ("line one\n\nline two\nline three", "line one\nline two..."),
        ("nothing variable here", "nothing variable here"),
    ],
)
def test_parameterization(message, expected):
    assert normalize_message(message) == expected


def test_message_event_uses_the_template_first():
    event = {"logentry": {"message": "Hello %s", "params": ["Ann"], "formatted": "Hello Ann"}}
    result = compute_grouping(event)
    assert result.variants[0].name == "default"
    assert result.variants[0].component.iter_values() == ["Hello %s"]


def test_legacy_message_string_and_tags_as_dict():
    event = {"message": "Disk 3 is full", "tags": {"host": "db-1"}}
    other = {"message": "Disk 4 is full", "tags": [["host", "db-2"]]}
    assert compute_grouping(event).primary_hash == compute_grouping(other).primary_hash


def test_checksum_is_used_as_is_or_hashed():
    assert compute_grouping({"checksum": "0" * 32, "message": "x"}).hashes == ["0" * 32]
    hashed = compute_grouping({"checksum": "not a hash"})
    assert hashed.variants[0].name == "hashed_checksum" and len(hashed.primary_hash) == 32


def test_csp_reports_group_by_directive_and_host():
    def report(uri: str) -> dict[str, Any]:
        return {
            "csp": {
                "effective_directive": "script-src",
                "blocked_uri": uri,
                "violated_directive": "script-src",
            }
        }

    assert (
        compute_grouping(report("https://evil.example/a.js")).primary_hash
        == compute_grouping(report("https://evil.example/b.js")).primary_hash
    )
    assert (
        compute_grouping(report("https://evil.example/a.js")).primary_hash
        != compute_grouping(report("https://other.example/a.js")).primary_hash
    )


def test_threads_use_the_crashed_thread():
    def thread(function: str, crashed: bool) -> dict[str, Any]:
        stack = {"frames": [{"function": function, "module": "worker", "in_app": True}]}
        return {"id": function, "crashed": crashed, "stacktrace": stack}

    event = {"platform": "java", "threads": {"values": [thread("idle", False), thread("crash", True)]}}
    result = compute_grouping(event)
    assert result.variants[0].component.iter_values() == ["worker", "crash"]
