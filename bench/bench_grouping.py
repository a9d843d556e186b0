"""Grouping speed: microseconds per event (prints figures; not a test).

    .venv/bin/python bench/bench_grouping.py [--seconds 2]

Measures ``compute_grouping`` on a real Python SDK capture
(``scope_enrichment``) and on a synthetic 15-frame Python error, both warm
(caches filled, as in a long-running ingest worker) and cold (every cache of
the grouping package cleared before each call); then the same with typical
project rules (fingerprint and stack-trace) under the worker's rule budget,
a 200-frame event with them, and the CPU time one event of a pathological
(but allowed) rule set costs before the budget stops it.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from issues.grouping import (  # noqa: E402
    DEFAULT_CONFIG_ID,
    RuleBudget,
    compute_grouping,
    engine,
    glob,
    parse_enhancements,
    parse_fingerprint_rules,
)
from issues.grouping.budget import running  # noqa: E402
from issues.grouping.config import get_config  # noqa: E402
from tests.grouping.test_rule_budget import slow_rules  # noqa: E402

FIXTURE = ROOT / "tests/fixtures/sdk/sentry.python-2.75.0/scope_enrichment.envelope"
# The worker's default (GROUPING_RULES_BUDGET_MS in the settings).
BUDGET = RuleBudget(0.005, 0.00005)
TYPICAL_FINGERPRINT_RULES = """
error.type:DatabaseUnavailable -> system-down
error.type:OrderNotFound error.value:"*not found*" -> order-not-found, {{ default }}
stack.module:shop.orders.* stack.function:handle_step_1? -> orders, {{ default }}
message:"*timeout*" -> timeouts
logger:payments level:error -> payments-errors title="Payment failed: {{ error.value }}"
tags.server_name:web-* error.type:ConnectionError -> web-connections
stack.abs_path:**/vendor/** -> vendored
"""
TYPICAL_STACK_RULES = """
stack.module:django.* -app
stack.module:shop.* +app
stack.function:handle_step_1* -group
family:python stack.abs_path:**/site-packages/** -app
error.type:OrderNotFound stack.module:shop.orders.* max-frames=5
stack.module:shop.orders.step? ^-group
[ stack.module:shop.* ] | stack.function:handle_* category=handler
"""


def load_envelope_event(path: Path) -> dict[str, Any]:
    """First ``event`` item of an envelope (newline framed, optional ``length``)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    idx = 1
    while idx < len(lines):
        header = json.loads(lines[idx])
        length = header.get("length")
        if length is None:
            payload = lines[idx + 1]
            idx += 2
        else:
            start = sum(len(x) + 1 for x in lines[: idx + 1])
            payload = data[start : start + length]
            idx = data[: start + length].count(b"\n") + 1
        if header.get("type") == "event":
            return dict(json.loads(payload))
    raise SystemExit(f"no event item in {path}")


def synthetic_event(frames: int = 15) -> dict[str, Any]:
    stack = []
    for i in range(frames):
        in_app = i >= frames - 6
        module = f"shop.orders.step{i}" if in_app else f"django.core.handlers.layer{i}"
        base = "/srv/app/shop/orders" if in_app else "/usr/local/lib/python3.11/site-packages/django"
        stack.append(
            {
                "filename": f"{module.replace('.', '/')}.py",
                "abs_path": f"{base}/step{i}.py",
                "function": f"handle_step_{i}",
                "module": module,
                "lineno": 100 + i,
                "context_line": f"    result = handle_step_{i + 1}(request, order_id=order.id)",
                "pre_context": ["def f():", "    pass"],
                "post_context": ["", "return result"],
                "vars": {"request": "<WSGIRequest>", "order_id": "1234"},
                "in_app": in_app,
            }
        )
    return {
        "platform": "python",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "OrderNotFound",
                    "value": "Order 1234 for customer 8f14e45f-ceea-4672-9c8c-29e25fd9d1c1 not found",
                    "module": "shop.orders.errors",
                    "mechanism": {"type": "django", "handled": False},
                    "stacktrace": {"frames": stack},
                }
            ]
        },
        "tags": [["server_name", "web-1"], ["transaction", "/orders/{id}"]],
    }


def startup_ms() -> float:
    """Parsing and compiling the built-in rule sets (once per process)."""
    engine.base_enhancements.cache_clear()
    engine._combined_from_text.cache_clear()
    engine._combined_from_object.cache_clear()
    engine._builtin_fingerprints.cache_clear()
    glob.compile_glob.cache_clear()
    start = time.perf_counter()
    compute_grouping({"message": "warm up"})
    return (time.perf_counter() - start) * 1e3


def _ab(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ab") for _ in range(n))


def pathological_event_ms() -> tuple[float, float]:
    """CPU ms of one event under the budget, and of the same event without any project rules: the
    slow rule sets of tests/grouping/test_rule_budget.py (64 KiB each, fingerprint and stack-trace),
    against 8 KiB of random a/b text as message and value and 300 frames (without a budget this
    runs for many minutes)."""
    rng = random.Random(14)
    fp = parse_fingerprint_rules(slow_rules('message:"{glob}" -> hang{n}'))
    enh = parse_enhancements(slow_rules('stack.function:"{glob}" -app'))
    frames = [{"function": _ab(rng, 1000), "module": "m", "filename": "m.py"} for _ in range(300)]
    exception = {"type": "E", "value": _ab(rng, 8192), "stacktrace": {"frames": frames}}
    event = {"platform": "python", "message": _ab(rng, 8192), "exception": {"values": [exception]}}
    compute_grouping(event, fingerprint_rules=fp, enhancements=enh, budget=BUDGET)  # parses the rules once
    start = time.thread_time()
    result = compute_grouping(event, fingerprint_rules=fp, enhancements=enh, budget=BUDGET)
    spent = time.thread_time() - start
    assert result.rules_over_budget
    start = time.thread_time()
    compute_grouping(event)
    return spent * 1e3, (time.thread_time() - start) * 1e3


def _clear_caches(enhancements: Any) -> None:
    """Per-frame rule results and message caches; project rules stay parsed and compiled, as they
    do in a worker (once per process and rule text)."""
    engine.clear_runtime_caches()
    if enhancements is not None:
        engine._combined_enhancements(get_config(DEFAULT_CONFIG_ID).enhancements_base, enhancements)


def rule_sections_us(event: dict[str, Any], cold: bool, **rules: Any) -> float:
    """Median CPU us per event inside rule evaluation: what the budget counts."""
    spent = []
    for _ in range(21):
        if cold:
            _clear_caches(rules.get("enhancements"))
        deadline = RuleBudget(3600.0).start()
        with running(deadline):
            compute_grouping(event, **{k: v for k, v in rules.items() if k != "budget"})
        spent.append(deadline.spent * 1e6)
    return statistics.median(spent)


def measure(event: dict[str, Any], seconds: float, cold: bool, **rules: Any) -> tuple[float, float, int]:
    """(best, median) microseconds per event over batches of 50 calls, and the call count.

    The machine is shared, so the best batch is the figure least disturbed by
    other processes; the median shows the typical cost under that load.
    """
    batches: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(batches) < 5:
        spent = 0.0
        for _ in range(50):
            if cold:
                _clear_caches(rules.get("enhancements"))
            start = time.perf_counter()
            compute_grouping(event, **rules)
            spent += time.perf_counter() - start
        batches.append(spent / 50 * 1e6)
    return min(batches), statistics.median(batches), len(batches) * 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    cases = {
        "python scope_enrichment (real SDK capture)": load_envelope_event(FIXTURE),
        "python synthetic, 15 frames": synthetic_event(15),
    }
    print(f"startup: parsing and compiling the built-in rules takes {startup_ms():.1f} ms once per process")
    print("warm = frames and messages seen before; cold = per-frame rule results and message caches cleared")
    rules = {
        "fingerprint_rules": parse_fingerprint_rules(TYPICAL_FINGERPRINT_RULES),
        "enhancements": parse_enhancements(TYPICAL_STACK_RULES),
        "budget": BUDGET,
    }
    cases["python synthetic, 200 frames"] = synthetic_event(200)
    for name, event in cases.items():
        for with_rules in (False, True):
            kwargs = rules if with_rules else {}
            compute_grouping(copy.deepcopy(event), **kwargs)  # warm up
            for label, cold in (("warm", False), ("cold", True)):
                best, median, calls = measure(event, args.seconds, cold, **kwargs)
                counted = ""
                if with_rules:
                    counted = f"; rule evaluation (what the budget counts) {rule_sections_us(event, cold, **kwargs):.0f} us"
                print(
                    f"{name}{', typical rules + budget' if with_rules else ''}, {label}: "
                    f"best {best:6.1f} us/event, median {median:6.1f} us/event ({calls} calls){counted}"
                )
    spent, plain = pathological_event_ms()
    print(
        f"pathological rules (2 x 64 KiB; 8 KiB message and value, 300 frames): "
        f"{spent:.1f} ms of CPU per event with a {BUDGET.cpu_seconds * 1e3:.0f} ms + 0.05 ms per frame budget "
        f"(two tries, then grouping without the rules, which alone takes {plain:.1f} ms)"
    )


if __name__ == "__main__":
    main()
