"""The CPU budget for a project's own rules (issues/grouping/budget.py): a rule set that is allowed
(within the size caps) but costs minutes per event stops within its budget, and the event is grouped
as if the project had no rules; normal rules never reach it."""

from __future__ import annotations

import copy
import random
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from issues.grouping import (
    GroupingMemo,
    RuleBudget,
    compute_grouping,
    parse_enhancements,
    parse_fingerprint_rules,
)
from issues.grouping.budget import RulesOverBudget, running

BUDGET = RuleBudget(cpu_seconds=0.005, cpu_seconds_per_frame=0.00005)


def slow_rules(template: str) -> str:
    """64 KiB of allowed rules (each under 1,000 characters), distinct so that no rule reuses the
    automaton of another, matching nothing so that all are tried. On a random a/b string each keeps
    hundreds of pattern positions alive per character: about 0.6 s per rule and value."""
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < 63 * 1024:
        glob = "*a" + "?" * (950 - len(lines)) + "c*"
        lines.append(template.format(glob=glob, n=len(lines)))
    return "\n".join(lines)


def _ab(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ab") for _ in range(n))


@pytest.fixture
def large_event() -> dict:
    rng = random.Random(14)
    frames = [{"function": _ab(rng, 1000), "module": "shop.m", "filename": "m.py"} for _ in range(300)]
    exception = {"type": "E", "value": _ab(rng, 8192), "stacktrace": {"frames": frames}}
    return {"platform": "python", "message": _ab(rng, 8192), "exception": {"values": [exception]}}


@pytest.fixture
def alarm() -> Iterator[None]:
    """Turns a hang (the behaviour without a budget: many minutes) into a failure."""

    def hang(signum, frame):
        raise TimeoutError("grouping with the rules did not stop")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("kind", ["fingerprint", "stack-trace"])
def test_pathological_rules_stop_within_the_budget(kind, large_event, alarm) -> None:
    parsed: dict[str, Any]
    if kind == "fingerprint":
        parsed = {"fingerprint_rules": parse_fingerprint_rules(slow_rules('message:"{glob}" -> hang{n}'))}
    else:
        parsed = {"enhancements": parse_enhancements(slow_rules('stack.function:"{glob}" -app'))}
    compute_grouping(large_event, **parsed, budget=BUDGET)  # parses and compiles the rules (not budgeted)
    start = time.thread_time()
    result = compute_grouping(large_event, **parsed, budget=BUDGET)
    spent = time.thread_time() - start
    plain = compute_grouping(large_event)
    assert result.rules_over_budget
    assert (result.hashes, result.title) == (plain.hashes, plain.title)
    # Two tries of 5 ms + 300 frames x 50 us each, then grouping without the rules (~5 ms here):
    # 50 ms and checks between clock reads. 1 s leaves room for a slow, shared machine.
    assert spent < 1.0


def test_over_budget_with_the_memo_gives_the_plain_result(large_event, alarm) -> None:
    rules = parse_fingerprint_rules(slow_rules('message:"{glob}" -> hang{n}'))
    memo = GroupingMemo()
    result = compute_grouping(copy.deepcopy(large_event), fingerprint_rules=rules, memo=memo, budget=BUDGET)
    assert result.rules_over_budget
    assert result.hashes == compute_grouping(large_event).hashes


def test_normal_rules_stay_within_the_budget_and_group_as_without_one() -> None:
    fingerprint_rules = parse_fingerprint_rules(
        'error.type:OrderNotFound error.value:"*not found*" -> order-not-found\n'
        "stack.module:shop.* stack.function:handle_* -> orders, {{ default }}\n"
        'message:"*time?out*" -> timeouts\n'
    )
    enhancements = parse_enhancements("stack.module:django.* -app\nstack.module:shop.* +app\n")
    frames = [
        {
            "function": f"handle_{i}",
            "module": "shop.orders" if i % 2 else "django.core",
            "filename": f"f{i}.py",
        }
        for i in range(200)
    ]
    exception = {"type": "Boom", "value": "it broke " * 900, "stacktrace": {"frames": frames}}
    event = {"platform": "python", "exception": {"values": [exception]}}
    rules: dict[str, Any] = {"fingerprint_rules": fingerprint_rules, "enhancements": enhancements}
    budgeted = compute_grouping(event, **rules, budget=BUDGET)
    assert not budgeted.rules_over_budget
    unbudgeted = compute_grouping(event, **rules)
    assert budgeted.hashes == unbudgeted.hashes
    assert budgeted.hashes != compute_grouping(event).hashes  # the rules did apply


def test_only_rule_evaluation_counts_and_a_clock_past_the_limit_stops_it() -> None:
    """A clock that jumps 1 s at each reading: rules are evaluated in sections (each reading twice
    at least) and the second try is refused as well, so the event ends up grouped without them."""
    ticks = iter(range(10**6))
    budget = RuleBudget(cpu_seconds=0.5, clock=lambda: float(next(ticks)))
    rules = parse_fingerprint_rules("\n".join(f'message:"*x*{i}?*" -> r{i}' for i in range(600)))
    event = {"platform": "python", "message": "y" * 2000}
    result = compute_grouping(event, fingerprint_rules=rules, budget=budget)
    assert result.rules_over_budget
    assert result.hashes == compute_grouping(event).hashes
    # Without rules the budget is never consulted: no section, no clock reading.
    untouched = RuleBudget(cpu_seconds=0.0, clock=lambda: pytest.fail("clock read without rules"))
    assert not compute_grouping(event, budget=untouched).rules_over_budget


def test_the_deadline_raises_only_inside_a_rule_section() -> None:
    readings = iter([0.0, 10.0, 20.0])
    deadline = RuleBudget(cpu_seconds=1.0, clock=lambda: next(readings)).start()
    with running(deadline):
        deadline.spend(10_000)  # outside a section: nothing is measured
        with pytest.raises(RulesOverBudget), deadline.section():
            deadline.spend(10_000)
