"""Benchmark of source-map processing on the worker: prints CPU per event with 20 minified frames.

    .venv/bin/python bench/bench_sourcemaps.py [--events N]

The bundle is real: the e2e TypeScript shop (tests/e2e/js/sourcemap_app) with @sentry/browser inside,
bundled and minified by esbuild, debug IDs injected by sentry-cli 3.8.2, zipped in sentry-cli's
artifact-bundle format and assembled by LightTrace's own code into a throwaway SQLite DATA_DIR. Each
event has 20 frames at 20 different mapped positions spread over the bundle; every event is a fresh
copy (made outside the timed part), since mapping rewrites frames in place.

"first event" includes the database lookup, reading the bundle and parsing the map; "cached" is the
steady state of a worker (the map parsed once per process, the debug-ID lookup cached).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
JS = ROOT / "tests" / "e2e" / "js"
FRAMES = 20


def build(out: pathlib.Path) -> tuple[bytes, bytes, str]:
    esbuild = JS / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise SystemExit("needs tests/e2e/js/node_modules: run scripts/install-test-deps.sh")
    subprocess.run(
        [str(esbuild), "src/main.ts", "--bundle", "--minify", "--sourcemap", "--format=iife",
         f"--outfile={out / 'app.min.js'}"],
        cwd=JS / "sourcemap_app", check=True, capture_output=True,
    )  # fmt: skip
    sentry_cli = pathlib.Path(sys.executable).parent / "sentry-cli"
    subprocess.run([str(sentry_cli), "sourcemaps", "inject", str(out)], check=True, capture_output=True)
    script, source_map = (out / "app.min.js").read_bytes(), (out / "app.min.js.map").read_bytes()
    return script, source_map, json.loads(source_map)["debugId"]


def bundle_zip(script: bytes, source_map: bytes, debug_id: str) -> bytes:
    """sentry-cli's layout (tests/fixtures/sourcemaps/debug-id-bundle.zip has the same manifest)."""
    files = {
        "files/_/_/app.min.js": {
            "type": "minified_source", "url": "~/app.min.js",
            "headers": {"debug-id": debug_id, "sourcemap": "app.min.js.map"},
        },
        "files/_/_/app.min.js.map": {"type": "source_map", "url": "~/app.min.js.map", "headers": {"debug-id": debug_id}},
    }  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("files/_/_/app.min.js", script)
        archive.writestr("files/_/_/app.min.js.map", source_map)
        archive.writestr("manifest.json", json.dumps({"files": files, "debug_id": debug_id}))
    return buffer.getvalue()


def positions(source_map: bytes) -> list[tuple[int, int]]:
    """20 mapped (line, column) positions with names, spread over the bundle."""
    from symbolic.sourcemap import SourceMapView

    view = SourceMapView.from_json_bytes(source_map)
    named = [i for i in range(0, len(view), 7) if view[i].name]
    step = max(1, len(named) // FRAMES)
    return [(view[i].dst_line + 1, view[i].dst_col + 1) for i in named[::step][:FRAMES]]


def setup_django(data_dir: str) -> None:
    os.environ.update(DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def upload(project, data: bytes) -> None:
    from sourcemaps.assemble import assemble_pending
    from sourcemaps.upload import AssembleRequest, request_assembly, store_chunks

    checksum = hashlib.sha1(data).hexdigest()
    store_chunks(project.organization, [(checksum, data)])
    request_assembly(project.organization, AssembleRequest(checksum, [checksum], [project]))
    assert assemble_pending() == 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script, source_map, debug_id = build(pathlib.Path(tmp) / "dist")
        setup_django(tmp + "/data")
        from projects.services import create_project
        from sourcemaps.process import resolve_source_maps

        project, _ = create_project("bench", "web", platform="javascript")
        upload(project, bundle_zip(script, source_map, debug_id))
        url = "https://shop.example/app.min.js"
        frames = [
            {"filename": url, "function": "x", "lineno": ln, "colno": col, "in_app": True}
            for ln, col in positions(source_map)
        ]
        template = {
            "platform": "javascript",
            "exception": {"values": [{"type": "RangeError", "stacktrace": {"frames": frames}}]},
            "debug_meta": {"images": [{"type": "sourcemap", "code_file": url, "debug_id": debug_id}]},
        }
        first = copy.deepcopy(template)
        started = time.process_time()
        resolve_source_maps(first, project.id)
        cold = time.process_time() - started
        mapped = sum(
            bool((f.get("data") or {}).get("symbolicated"))
            for f in first["exception"]["values"][0]["stacktrace"]["frames"]
        )
        timings = []
        for _ in range(args.events // 100):
            batch = [copy.deepcopy(template) for _ in range(100)]
            started = time.process_time()
            for event in batch:
                resolve_source_maps(event, project.id)
            timings.append((time.process_time() - started) / 100)
        timings.sort()
        print(
            f"bundle: app.min.js {len(script) / 1024:.0f} KiB, source map {len(source_map) / 1024:.0f} KiB; {mapped} of {len(frames)} frames mapped"
        )
        print(f"first event (lookup, read bundle, parse map): {cold * 1000:.1f} ms CPU")
        print(
            f"cached, per event with {len(frames)} frames: median {timings[len(timings) // 2] * 1e6:.0f} µs CPU, "
            f"best {timings[0] * 1e6:.0f} µs, worst {timings[-1] * 1e6:.0f} µs (batches of 100, {args.events} events)"
        )


if __name__ == "__main__":
    main()
