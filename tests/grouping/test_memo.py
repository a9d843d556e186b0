"""The grouping memo gives the same hashes and title as grouping every event from scratch."""

from __future__ import annotations

import copy
import json

from issues.grouping import GroupingMemo, compute_grouping, parse_enhancements, parse_fingerprint_rules
from issues.grouping.builtin_rules import FINGERPRINT_BASES

from .conftest import require_shared


def _same(event: dict, memo: GroupingMemo, **kwargs) -> tuple:
    plain = compute_grouping(copy.deepcopy(event), **kwargs)
    memoized = compute_grouping(copy.deepcopy(event), memo=memo, **kwargs)
    assert (memoized.hashes, memoized.title, memoized.config_id) == (
        plain.hashes,
        plain.title,
        plain.config_id,
    )
    return tuple(plain.hashes)


def _variants(event: dict):
    yield event
    values = (
        (event.get("exception") or {}).get("values") if isinstance(event.get("exception"), dict) else None
    )
    if isinstance(values, list) and values and all(isinstance(v, dict) for v in values):
        for replacement in ("something else 42", "ChunkLoadError: Loading chunk 7 failed", "", None):
            changed = copy.deepcopy(event)
            for v in changed["exception"]["values"]:
                v["value"] = replacement
            yield changed
    tagged = copy.deepcopy(event)
    tagged["tags"] = {"transaction": "/other", "region": "eu"}
    yield tagged
    yield dict(copy.deepcopy(event), platform="javascript")


def test_memo_agrees_with_plain_grouping_on_the_sentry_corpus():
    corpus = require_shared("conformance/sentry-grouping/inputs")
    memo = GroupingMemo()
    events = [json.loads(p.read_text()) for p in sorted(corpus.glob("*.json"))]
    assert len(events) >= 40
    for _ in range(2):  # the second round is answered from the memo wherever it may be
        for event in events:
            for variant in _variants(event):
                _same(variant, memo)
    assert memo.shared, "nothing was shared: the memo is not doing its job"


def _python_event(value: str | None, with_stack: bool = True) -> dict:
    frames = [{"function": f"f{i}", "module": "shop.app", "filename": "shop/app.py", "lineno": i, "in_app": True}
              for i in range(5)]  # fmt: skip
    exc: dict = {"type": "KeyError", "value": value}
    if with_stack:
        exc["stacktrace"] = {"frames": frames}
    return {"platform": "python", "exception": {"values": [exc]}}


def test_values_shared_only_when_a_stack_trace_makes_them_irrelevant():
    memo = GroupingMemo()
    first = compute_grouping(_python_event("order 1"), memo=memo)
    second = compute_grouping(_python_event("order 2"), memo=memo)
    assert second.hashes == first.hashes and second.variants == []  # answered from the memo

    no_stack = [
        compute_grouping(_python_event(v, with_stack=False), memo=memo).hashes for v in ("a", "b", "a")
    ]
    assert no_stack[0] != no_stack[1] and no_stack[0] == no_stack[2]


def test_a_value_rule_still_decides_per_event():
    memo = GroupingMemo()
    rules = parse_fingerprint_rules('error.value:"*order 7*" -> order-seven title="Order {{ error.value }}"')
    a = compute_grouping(_python_event("order 7 failed"), fingerprint_rules=rules, memo=memo)
    b = compute_grouping(_python_event("order 8 failed"), fingerprint_rules=rules, memo=memo)
    c = compute_grouping(_python_event("order 7 again"), fingerprint_rules=rules, memo=memo)
    assert a.hashes != b.hashes and a.hashes == c.hashes
    assert (a.title, c.title) == ("Order order 7 failed", "Order order 7 again")


def test_stack_trace_rules_on_values_disable_sharing():
    memo = GroupingMemo()
    enh = parse_enhancements('error.value:"*secret*" -app')
    _same(_python_event("secret 1"), memo, enhancements=enh)
    _same(_python_event("public 1"), memo, enhancements=enh)
    assert not memo.shared


def test_builtin_rules_reading_tags_or_values_are_javascript_only():
    # memo.tags_matter and the early lookup in compute_memoized rely on this.
    for text in FINGERPRINT_BASES.values():
        for line in text.splitlines():
            if any(m in line for m in ("tags.", "value:", "message:")):
                assert "family:javascript" in line, line


def test_a_type_read_out_of_the_value_still_groups_per_type():
    memo = GroupingMemo()
    events = [_python_event(v) for v in ("TypeError: a", "KeyError: b", "TypeError: c")]
    for event in events:
        del event["exception"]["values"][0]["type"]
    hashes = [_same(e, memo) for e in events]
    assert hashes[0] != hashes[1] and hashes[0] == hashes[2]
