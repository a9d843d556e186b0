"""Project fingerprint rules and stack-trace rules: parsing and effect."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from issues.grouping import RuleSyntaxError, compute_grouping, parse_enhancements, parse_fingerprint_rules
from issues.grouping.fingerprint_rules import FingerprintRules

PY = "sentry.python-2.75.0/"


def frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    return event["exception"]["values"][-1]["stacktrace"]["frames"]


# -- fingerprint rules -------------------------------------------------------------------------


def test_fingerprint_rule_text_is_parsed():
    rules = parse_fingerprint_rules(
        """
        # comment lines and blank lines are fine

        error.type:DatabaseUnavailable -> system-down
        stack.function:"charge *" !stack.module:vendor.* -> {{ default }}, payments title="Charge failed: {{ error.value }}"
        tags.region:eu-* level:error -> eu-errors
        """
    )
    assert len(rules.rules) == 3
    first, second, third = rules.rules
    assert first.fingerprint == ("system-down",)
    assert [(m.key, m.pattern, m.negated) for m in second.matchers] == [
        ("function", "charge *", False),
        ("module", "vendor.*", True),
    ]
    assert second.fingerprint == ("{{ default }}", "payments")
    assert second.attributes == {"title": "Charge failed: {{ error.value }}"}
    assert third.matchers[0].key == "tags.region"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("error.type:Foo", 1, '"->"'),
        ("\n\nbogus:Foo -> x", 3, 'unknown matcher "bogus"'),
        ("error.type:Foo ->", 1, "at least one fingerprint value"),
        ('error.type:Foo -> x colour="red"', 1, 'unknown attribute "colour"'),
        ("-> x", 1, "at least one matcher"),
        ('error.type:"Foo -> x', 1, "unterminated"),
    ],
)
def test_fingerprint_rule_errors_name_the_line(text, line, fragment):
    with pytest.raises(RuleSyntaxError) as info:
        parse_fingerprint_rules(text)
    assert info.value.line == line
    assert fragment in info.value.message


def test_fingerprint_rule_replaces_grouping_and_sets_title(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    rules = parse_fingerprint_rules('error.type:ValueError -> bad-input title="Bad input: {{ error.value }}"')
    result = compute_grouping(event, fingerprint_rules=rules)
    server = [v for v in result.variants if v.name == "custom_server_fingerprint"]
    assert server and server[0].values == ["bad-input"]
    assert result.hashes == [server[0].hash]
    assert result.title == "Bad input: Invalid amount -5 for order ord_1001"
    assert server[0].matched_rule == 'type:"ValueError" -> "bad-input" title="Bad input: {{ error.value }}"'


def test_fingerprint_rule_that_does_not_match_changes_nothing(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    rules = parse_fingerprint_rules("error.type:KeyError -> keys\nlogger:nope -> x")
    assert compute_grouping(event, fingerprint_rules=rules).hashes == compute_grouping(event).hashes
    assert compute_grouping(event, fingerprint_rules=rules).title is None


def test_fingerprint_rule_matchers_cover_message_frames_and_tags(sdk_event):
    message_event = sdk_event(PY + "logging_message")
    rules = parse_fingerprint_rules('message:"payment failed*" logger:payments -> payments-log')
    assert compute_grouping(message_event, fingerprint_rules=rules).variants[-1].values == ["payments-log"]

    crash = sdk_event(PY + "unhandled_exception")
    by_frame = parse_fingerprint_rules(
        "stack.function:charge_card stack.abs_path:**/py_scenarios.py -> {{ function }}"
    )
    assert compute_grouping(crash, fingerprint_rules=by_frame).variants[-1].values == ["charge_card"]

    crash["tags"] = [["region", "eu-west-1"]]
    by_tag = parse_fingerprint_rules("tags.region:eu-* -> {{ tags.region }}, {{ level }}")
    assert compute_grouping(crash, fingerprint_rules=by_tag).variants[-1].values == ["eu-west-1", "error"]


def test_hybrid_server_rule_salts_the_default_hash(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    rules = parse_fingerprint_rules("error.type:ValueError -> {{ default }}, {{ transaction }}")
    result = compute_grouping(event, fingerprint_rules=rules)
    assert result.variants[0].type == "salted_component"
    assert result.primary_hash != compute_grouping(event).primary_hash


def test_fingerprint_rules_from_json_config():
    rules = FingerprintRules.from_config(
        [
            {"matchers": [["type", "SoftTimeLimitExceeded"]], "fingerprint": ["soft-timelimit"]},
            {"matchers": [["!nonsense", "x"]], "fingerprint": ["skipped"]},
            "garbage",
        ]
    )
    assert len(rules.rules) == 1
    event = {"exception": {"values": [{"type": "SoftTimeLimitExceeded", "value": "x"}]}}
    result = compute_grouping(event, fingerprint_rules=rules)
    assert [v.name for v in result.variants if v.contributes] == ["custom_server_fingerprint"]


def test_builtin_chunk_load_rule_applies_to_javascript_only():
    event = {
        "platform": "javascript",
        "exception": {"values": [{"type": "ChunkLoadError", "value": "Loading chunk 7 failed"}]},
    }
    result = compute_grouping(event)
    assert [v.name for v in result.variants if v.contributes] == ["built_in_fingerprint"]
    python = dict(event, platform="python")
    assert [v.name for v in compute_grouping(python).variants if v.contributes] == ["app"]


# -- stack-trace rules -------------------------------------------------------------------------


def test_stacktrace_rule_text_is_parsed():
    rules = parse_enhancements(
        """
        stack.module:vendor.* -app
        stack.function:assert_* -group   # trailing comment
        family:javascript stack.abs_path:**/node_modules/** -app
        stack.function:wrapped_view ^-group -group
        [ category:ui ] | category:system category=internals
        error.type:DatabaseError max-frames=3 min-frames=2
        """
    )
    assert [r.text for r in rules.rules] == [
        "module:vendor.* -app",
        "function:assert_* -group",
        "family:javascript path:**/node_modules/** -app",
        "function:wrapped_view ^-group -group",
        "[ category:ui ] | category:system category=internals",
        "type:DatabaseError max-frames=3 min-frames=2",
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("stack.function:foo", 1, "at least one action"),
        ("# ok\nstack.colour:red -app", 2, 'unknown matcher "stack.colour"'),
        ("stack.function:foo +bogus", 1, 'unknown action "+bogus"'),
        ("-app stack.function:foo", 1, "matchers must come before actions"),
        ("app:perhaps -group", 1, "yes or no"),
        ("stack.function:foo max-frames=many", 1, "invalid value"),
        ("stack.function:foo | [ error.type:X ] -app", 1, "cannot test the exception"),
    ],
)
def test_stacktrace_rule_errors_name_the_line(text, line, fragment):
    with pytest.raises(RuleSyntaxError) as info:
        parse_enhancements(text)
    assert info.value.line == line
    assert fragment in info.value.message
    assert str(info.value).startswith(f"line {line}:")


def _app_values(event: dict[str, Any], rules: str | None = None) -> list[str]:
    enhancements = parse_enhancements(rules) if rules else None
    result = compute_grouping(event, enhancements=enhancements)
    app = [v for v in result.variants if v.name == "app"][0]
    assert app.component is not None
    return app.component.iter_values() if app.contributes else []


def test_minus_app_rule_moves_frames_out_of_the_app_hash(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    before = _app_values(event)
    assert "<module>" in before
    after = _app_values(event, "stack.function:<module> -app")
    assert "<module>" not in after and "charge_card" in after
    result = compute_grouping(event, enhancements=parse_enhancements("stack.function:<module> -app"))
    frame = result.variants[0].component.find("stacktrace").values[0]
    assert frame.hint.startswith(
        "ignored because it is not in-app (marked out of app by custom stack trace rule"
    )


def test_group_rules_with_ranges(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    assert [f["function"] for f in frames(event)] == ["<module>", "unhandled_exception", "charge_card"]
    assert "charge_card" not in _app_values(event, "stack.function:charge_card -group")
    up = _app_values(event, "stack.function:unhandled_exception ^-group")
    assert "charge_card" not in up and "unhandled_exception" in up and "<module>" in up
    down = _app_values(event, "stack.function:unhandled_exception v-group")
    assert "<module>" not in down and "charge_card" in down


def test_plus_group_brings_back_a_recursive_frame(sdk_event):
    event = sdk_event(PY + "recursion")
    base = _app_values(event)
    assert base.count("walk") == 2  # the recursive calls count once, plus the raising frame
    assert _app_values(event, "stack.function:walk +group").count("walk") == 6


def test_max_and_min_frames(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    only_last = _app_values(event, "error.type:ValueError max-frames=1")
    assert "charge_card" in only_last and "<module>" not in only_last
    result = compute_grouping(event, enhancements=parse_enhancements("error.type:ValueError min-frames=5"))
    stack = result.variants[0].component.find("stacktrace")
    assert not stack.contributes and "fewer than 5" in stack.hint
    exc = result.variants[0].component.values[0]
    assert exc.find("value").contributes  # without a stack trace the value counts


def test_family_and_path_rules_for_javascript():
    event = {
        "platform": "node",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "x is undefined",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "handler",
                                "module": "app",
                                "abs_path": "/srv/app/index.js",
                                "in_app": True,
                            },
                            {
                                "function": "parse",
                                "module": "qs",
                                "abs_path": "/srv/app/vendored/qs/index.js",
                                "in_app": True,
                            },
                        ]
                    },
                }
            ]
        },
    }
    assert _app_values(event) == ["app", "handler", "qs", "parse", "TypeError"]
    rule = "family:javascript stack.abs_path:**/vendored/** -app"
    assert _app_values(event, rule) == ["app", "handler", "TypeError"]
    assert _app_values(event, "family:native stack.abs_path:**/vendored/** -app") == _app_values(event)


def test_builtin_rules_mark_site_packages_out_of_app(sdk_event):
    event = sdk_event(PY + "unhandled_exception")
    frame = copy.deepcopy(frames(event)[-1])
    frame.update(
        abs_path="/usr/lib/python3.11/site-packages/stripe/api.py",
        module="stripe.api",
        function="request",
        in_app=True,
    )
    frames(event).append(frame)
    assert "request" not in _app_values(event)


def test_categories_feed_later_rules():
    event = {
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": "E",
                    "stacktrace": {
                        "frames": [
                            {"function": "outer", "module": "app.main", "in_app": True},
                            {"function": "helper", "module": "app.util", "in_app": True},
                        ]
                    },
                }
            ]
        },
    }
    rules = "stack.module:app.util category=plumbing\ncategory:plumbing -group"
    assert _app_values(event, rules) == ["app.main", "outer", "E"]
