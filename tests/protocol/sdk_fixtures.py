"""Loads the captured SDK requests in tests/fixtures/sdk (no Django)."""

from __future__ import annotations

import base64
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sdk"
FIXTURE_KEY = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Capture:
    name: str  # "<sdk dir>/<file>"
    request: dict
    envelope: bytes  # the decompressed body as stored next to the .json

    @property
    def wire_body(self) -> bytes | None:
        encoded = self.request.get("wire_body_base64")
        return base64.b64decode(encoded) if encoded else None

    @property
    def content_encoding(self) -> str | None:
        return self.request.get("content_encoding")

    @property
    def item_types(self) -> list[str]:
        return self.request["envelope_item_types"]


def load_captures() -> list[Capture]:
    captures = []
    for path in sorted(FIXTURES.glob("sentry.*/*.json")):
        request = json.loads(path.read_text())
        envelope = path.with_suffix(".envelope").read_bytes()
        captures.append(Capture(f"{path.parent.name}/{path.stem}", request, envelope))
    return captures


def load_reference_parser() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "envelope_tool_reference", FIXTURES / "envelope_tool_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CAPTURES = load_captures()
CAPTURE_IDS = [capture.name for capture in CAPTURES]
REFERENCE = load_reference_parser()
