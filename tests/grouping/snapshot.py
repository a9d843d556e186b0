"""Snapshot files of exact grouping output, compared entry by entry with a readable diff.

A shipped grouping config must never change its output: its hashes are stored beside existing issues.
The snapshots record, per config id, what every known input groups to today; any change fails.

Regenerate deliberately (a new config was registered, a fixture was added) with

    UPDATE_GROUPING_SNAPSHOTS=1 ./scripts/test.sh tests/grouping/test_snapshots.py

then review ``git diff tests/grouping/snapshots/``: entries of a shipped config must not move.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_VARIABLE = "UPDATE_GROUPING_SNAPSHOTS"
# Per config id, entry name -> what that entry groups to.
Snapshot = dict[str, dict[str, dict[str, Any]]]


def check_snapshot(file_name: str, actual: Snapshot) -> None:
    path = SNAPSHOTS / file_name
    if os.environ.get(UPDATE_VARIABLE) == "1":
        path.write_text(json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        # Nothing was compared, so this run proves nothing: say so instead of passing.
        pytest.skip(f"{UPDATE_VARIABLE}=1: wrote {path}; review its git diff before committing")
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with {UPDATE_VARIABLE}=1 (see {__name__})", pytrace=False)
    expected = json.loads(path.read_text())
    differences = snapshot_diff(expected, actual)
    if differences:
        pytest.fail(
            f"grouping output differs from {path.relative_to(SNAPSHOTS.parents[2])} "
            f"in {len(differences)} entries:\n"
            + "\n".join(line for entry in differences for line in entry)
            + "\n\nA shipped config must never change its output: put the change into a new config "
            "(issues/grouping/config.py). If the change is deliberate (new config, new or removed input), "
            f"regenerate with {UPDATE_VARIABLE}=1 ./scripts/test.sh tests/grouping/test_snapshots.py "
            "and review the git diff.",
            pytrace=False,
        )


def snapshot_diff(expected: Snapshot, actual: Snapshot) -> list[list[str]]:
    """One block of lines per entry that was added, removed or changed, naming the changed fields."""
    blocks = []
    for config_id in sorted(expected.keys() | actual.keys()):
        old, new = expected.get(config_id, {}), actual.get(config_id, {})
        for name in sorted(old.keys() | new.keys()):
            if name not in new:
                blocks.append([f"  [{config_id}] {name}: in the snapshot, no longer produced"])
            elif name not in old:
                blocks.append([f"  [{config_id}] {name}: new, not in the snapshot: {_short(new[name])}"])
            elif old[name] != new[name]:
                block = [f"  [{config_id}] {name}:"]
                for field in sorted(old[name].keys() | new[name].keys()):
                    if old[name].get(field) != new[name].get(field):
                        block.append(f"      {field}: {old[name].get(field)!r}")
                        block.append(f"      {' ' * len(field)}  -> {new[name].get(field)!r}")
                blocks.append(block)
    return blocks


def _short(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False)[:200]
