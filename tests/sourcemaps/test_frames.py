"""Frame mapping with the real symbolic parser on bundles that esbuild and sentry-cli 3.8.2 made
(tests/fixtures/sourcemaps/README.md). Pure: the locator reads the zip directly."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

from symbolic.sourcemapcache import SourceMapCache

from sourcemaps.bundle import BundleError, read_file, read_manifest
from sourcemaps.frames import MapHit, MapMiss, apply_source_maps

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sourcemaps"
DEBUG_ID = "ff50dd0c-bc24-5377-b8a1-8c09ad037ae2"
SCRIPT = "http://shop.example/app.min.js"


def _cache() -> SourceMapCache:
    archive = zipfile.ZipFile(FIXTURES / "debug-id-bundle.zip")
    return SourceMapCache.from_bytes(
        archive.read("files/_/_/app.min.js"), archive.read("files/_/_/app.min.js.map")
    )


def _event(frames: list[dict], images: list[dict] | None = None) -> dict:
    return {
        "platform": "javascript",
        "exception": {"values": [{"type": "RangeError", "stacktrace": {"frames": frames}}]},
        "debug_meta": {"images": images if images is not None else [
            {"type": "sourcemap", "code_file": SCRIPT, "debug_id": DEBUG_ID}
        ]},
    }  # fmt: skip


def _frames() -> list[dict]:
    # Oldest first, as SDKs send them: onCheckoutClicked (i) called submitOrder (r), which threw.
    return [
        # As @sentry/browser sends them: the script's URL as filename, no abs_path.
        {"filename": SCRIPT, "function": "i", "lineno": 3, "colno": 154, "in_app": True},
        {"abs_path": SCRIPT, "filename": SCRIPT, "function": "r", "lineno": 3, "colno": 82, "in_app": True},
    ]


def locate_fixture(abs_path: str, debug_id: str | None) -> MapHit | MapMiss:
    if debug_id != DEBUG_ID:
        return MapMiss("no_bundle", "no bundle")
    return MapHit(cache=_cache(), map_url="app.min.js.map", resolved_with="debug-id")


def test_frames_map_to_original_file_line_function_and_context():
    event = _event(_frames())
    assert apply_source_maps(event, locate_fixture) is True
    value = event["exception"]["values"][0]
    caller, thrower = value["stacktrace"]["frames"]
    assert thrower["abs_path"] == "http://shop.example/src/checkout.ts"
    assert thrower["filename"] == "/src/checkout.ts"
    assert (thrower["lineno"], thrower["colno"], thrower["function"]) == (9, 3, "submitOrder")
    assert thrower["context_line"] == "  throw new RangeError(`order total ${total} exceeds the limit`);"
    assert thrower["pre_context"][-1] == "  const total = totalOf(cart);"
    assert thrower["data"] == {
        "sourcemap": "http://shop.example/app.min.js.map",
        "resolved_with": "debug-id",
        "symbolicated": True,
    }
    assert (caller["filename"], caller["lineno"], caller["function"]) == (
        "/src/main.ts",
        4,
        "onCheckoutClicked",
    )
    # The minified frames are kept, as Sentry keeps them.
    assert value["raw_stacktrace"]["frames"] == _frames()
    assert "errors" not in event


def test_unmapped_frames_say_why_and_stay_as_sent():
    frames = _frames() + [
        {"abs_path": "http://shop.example/vendor.js", "function": "v", "lineno": 1, "colno": 5},
        {"abs_path": SCRIPT, "function": "r", "lineno": 3},
        {"abs_path": SCRIPT, "function": "r", "lineno": 3, "colno": 2**40},
    ]
    event = _event(frames)
    apply_source_maps(event, locate_fixture)
    vendor, no_column, huge = event["exception"]["values"][0]["stacktrace"]["frames"][2:]
    assert huge["colno"] == 2**40 and huge["data"]["sourcemap_error"]["reason"] == "no_column"
    assert vendor["function"] == "v" and vendor["data"]["symbolicated"] is False
    assert vendor["data"]["sourcemap_error"]["reason"] == "no_bundle"
    assert no_column["data"]["sourcemap_error"]["reason"] == "no_column"
    assert sorted(e["type"] for e in event["errors"]) == ["js_no_column", "js_no_source"]


def test_no_debug_id_in_the_event_is_the_reason_given_by_the_locator():
    event = _event(_frames(), images=[])
    seen = []

    def locate(abs_path, debug_id):
        seen.append(debug_id)
        return MapMiss("no_debug_id", "the event names no debug ID for this file")

    assert apply_source_maps(event, locate) is False
    assert seen == [None]  # asked once for the two frames of the script
    assert "raw_stacktrace" not in event["exception"]["values"][0]
    assert event["errors"] == [
        {"type": "js_no_source", "url": SCRIPT, "reason": "the event names no debug ID for this file"}
    ]


def test_other_platforms_are_left_alone():
    event = _event(_frames())
    event["platform"] = "python"
    before = copy.deepcopy(event)
    assert apply_source_maps(event, locate_fixture) is False
    assert event == before


def test_manifest_of_a_real_bundle():
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    manifest = read_manifest(data, max_files=10, max_file_bytes=1 << 20)
    assert manifest.bundle_id == "74b021f7-ece3-56a8-a836-4f29bab98d46"
    kinds = {(e.kind, e.debug_id, e.url, e.sourcemap) for e in manifest.entries}
    assert kinds == {
        ("minified_source", DEBUG_ID, "~/app.min.js", "app.min.js.map"),
        ("source_map", DEBUG_ID, "~/app.min.js.map", ""),
    }
    assert read_file(data, "files/_/_/app.min.js", 10) is None  # over the cap: not inflated
    released = read_manifest(
        (FIXTURES / "release-bundle.zip").read_bytes(), max_files=10, max_file_bytes=1 << 20
    )
    assert {e.url for e in released.entries} == {"~/static/js/app.min.js", "~/static/js/app.min.js.map"}


def test_bundle_caps_and_garbage():
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    for bad, kwargs in [
        (b"not a zip", {}),
        (data, {"max_files": 1}),
        (data, {"max_file_bytes": 100}),
    ]:
        try:
            read_manifest(bad, **{"max_files": 10, "max_file_bytes": 1 << 20, **kwargs})
        except BundleError:
            continue
        raise AssertionError(f"accepted {kwargs}")
