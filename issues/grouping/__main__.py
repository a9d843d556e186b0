"""Command line: group events read as JSON lines from stdin.

    python -m issues.grouping [--json] < events.jsonl

Prints one line per input line: the primary grouping hash (or, with
``--json``, the whole grouping result).  Inputs may carry the private keys
``_fingerprinting_rules`` (rules in JSON form) and ``_grouping``
(``{"enhancements": "<rule text>"}``); they are applied as project settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from . import DEFAULT_CONFIG_ID, GroupingMemo, compute_grouping, get_config_ids
from .enhancements import Enhancements
from .errors import RuleSyntaxError
from .fingerprint_rules import FingerprintRules

_enhancement_cache: dict[str, Enhancements | None] = {}
_fingerprint_cache: dict[str, FingerprintRules | None] = {}


def _enhancements_for(event: Mapping[str, Any]) -> Enhancements | None:
    grouping = event.get("_grouping")
    text = grouping.get("enhancements") if isinstance(grouping, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        return None
    if text not in _enhancement_cache:
        try:
            _enhancement_cache[text] = Enhancements.from_text(text)
        except RuleSyntaxError as exc:
            print(f"ignoring invalid stack-trace rules: {exc}", file=sys.stderr)
            _enhancement_cache[text] = None
    return _enhancement_cache[text]


def _fingerprint_rules_for(event: Mapping[str, Any]) -> FingerprintRules | None:
    raw = event.get("_fingerprinting_rules")
    if not raw:
        return None
    key = json.dumps(raw, sort_keys=True)
    if key not in _fingerprint_cache:
        rules = FingerprintRules.from_config(raw)
        _fingerprint_cache[key] = rules if rules else None
    return _fingerprint_cache[key]


def group_line(line: str, config_id: str, full: bool, memo: GroupingMemo | None = None) -> str:
    try:
        event: Any = json.loads(line)
    except ValueError:
        event = {}
    if not isinstance(event, Mapping):
        event = {}
    result = compute_grouping(
        event,
        config_id=config_id,
        fingerprint_rules=_fingerprint_rules_for(event),
        enhancements=_enhancements_for(event),
        memo=memo,
    )
    return json.dumps(result.to_dict()) if full else result.primary_hash


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m issues.grouping", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG_ID, choices=get_config_ids())
    parser.add_argument("--json", action="store_true", help="print the full grouping result as JSON")
    parser.add_argument("--memo", action="store_true", help="reuse results across lines, as the worker does")
    args = parser.parse_args(argv)
    memo = GroupingMemo() if args.memo else None
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        out.write(group_line(line, args.config, args.json, memo) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
