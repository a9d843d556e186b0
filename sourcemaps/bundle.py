"""Artifact bundles as sentry-cli 3 and the bundler plugins write them (pure Python, no Django): a zip
with `manifest.json` naming each file's type, URL ("~/app.min.js") and headers ("debug-id",
"sourcemap"). Everything read from one is untrusted and capped."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass

import orjson

KINDS = {"minified_source", "source_map", "source"}
# Bundler plugins write "minified_source"; older tools wrote "source" for a script without a map.
_MAX_MANIFEST_BYTES = 8 * 1024 * 1024


class BundleError(ValueError):
    """A bundle that cannot be used; the message is shown to the uploader."""


@dataclass(frozen=True)
class BundleEntry:
    path: str
    kind: str
    debug_id: str | None
    url: str
    sourcemap: str


@dataclass(frozen=True)
class BundleManifest:
    bundle_id: str
    entries: list[BundleEntry]


def _debug_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        # Debug IDs may carry an age suffix ("…-1"); source maps use the plain UUID.
        return str(uuid.UUID(value[:36]))
    except ValueError:
        return None


def read_manifest(data: bytes, *, max_files: int, max_file_bytes: int) -> BundleManifest:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("manifest.json")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise BundleError("not an artifact bundle (a zip with manifest.json)") from exc
    if info.file_size > _MAX_MANIFEST_BYTES:
        raise BundleError("manifest.json is too large")
    try:
        manifest = orjson.loads(archive.read(info))
    except (orjson.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise BundleError("manifest.json is not valid JSON") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise BundleError("manifest.json has no files")
    if len(files) > max_files:
        raise BundleError(f"more than {max_files} files in the bundle")
    sizes = {i.filename: i.file_size for i in archive.infolist()}
    entries = []
    for path, meta in files.items():
        if not isinstance(meta, dict) or path not in sizes:
            continue
        kind = meta.get("type")
        if kind not in KINDS:
            continue
        if sizes[path] > max_file_bytes:
            raise BundleError(f"{path} is larger than {max_file_bytes} bytes")
        raw_headers = meta.get("headers")
        headers = {str(k).lower(): v for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
        url = meta.get("url")
        url = url if isinstance(url, str) else ""
        sourcemap = headers.get("sourcemap") or headers.get("x-sourcemap") or ""
        entries.append(
            BundleEntry(
                path=path[:500],
                kind=kind,
                debug_id=_debug_id(headers.get("debug-id")),
                url=url[:500],
                sourcemap=sourcemap[:500] if isinstance(sourcemap, str) else "",
            )
        )
    bundle_id = _debug_id(manifest.get("debug_id")) or ""
    return BundleManifest(bundle_id=bundle_id, entries=entries)


def read_file(data: bytes, path: str, max_bytes: int) -> bytes | None:
    """One file of a bundle, or None if it is missing or over the cap (checked before inflating)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo(path)
        if info.file_size > max_bytes:
            return None
        with archive.open(info) as member:
            content = member.read(max_bytes + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError):
        return None
    return content if len(content) <= max_bytes else None
