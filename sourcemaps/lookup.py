"""Find the parsed source map for a frame: by the debug ID the event names for its file, or for
release-bound uploads by release + dist + URL. Per worker process: index answers are cached for a
short while, parsed maps in a bounded LRU (a map is parsed once per process, not once per event)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .bundle import read_file
from .frames import MapHit, MapMiss
from .models import ArtifactBundle, BundleFile, ReleaseFile

if TYPE_CHECKING:
    from symbolic.sourcemapcache import SourceMapCache
from .storage import blob_store
from .upload import touch_bundles

# An answer "no bundle yet" is asked again soon (an upload may be under way); a found one later.
FOUND_SECONDS = 300.0
MISSING_SECONDS = 10.0
INDEX_ENTRIES = 10_000
TOUCH_SECONDS = 3600.0


@dataclass(frozen=True)
class MapFiles:
    bundle_pk: int
    checksum: str
    script_path: str | None
    map_path: str | None
    map_url: str  # relative to the script's URL, as its sourceMappingURL says
    # Release files (release_files.py) are blobs of their own: script_path and map_path are then
    # the SHA-1s of the script and of the map, not paths inside the bundle `checksum`.
    separate_blobs: bool = False


class _Index:
    """(project, key) -> MapFiles or None, with an expiry; emptied when full (cheap to refill)."""

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[float, MapFiles | None]] = {}

    def get(self, key: tuple) -> tuple[bool, MapFiles | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: tuple, value: MapFiles | None) -> None:
        if len(self._entries) >= INDEX_ENTRIES:
            self._entries.clear()
        ttl = FOUND_SECONDS if value is not None else MISSING_SECONDS
        self._entries[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        self._entries.clear()


class _MapCache:
    """Parsed maps, least recently used out first, bounded by count and by the bytes they came from."""

    def __init__(self) -> None:
        self._maps: OrderedDict[tuple, tuple[SourceMapCache, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> SourceMapCache | None:
        with self._lock:
            found = self._maps.get(key)
            if found is not None:
                self._maps.move_to_end(key)
            return found[0] if found else None

    def put(self, key: tuple, parsed: SourceMapCache, size: int) -> None:
        limits = settings.SOURCEMAPS
        with self._lock:
            self._maps[key] = (parsed, size)
            self._bytes += size
            while len(self._maps) > limits["CACHE_ENTRIES"] or (
                self._bytes > limits["CACHE_BYTES"] and len(self._maps) > 1
            ):
                _, (_, dropped) = self._maps.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._maps.clear()
            self._bytes = 0


_index = _Index()
_maps = _MapCache()
_touched: dict[int, float] = {}


def clear_caches() -> None:
    """Forget everything cached in this process (tests; after deleting bundles)."""
    _index.clear()
    _maps.clear()
    _touched.clear()


def project_has_bundles(project_id: int) -> bool:
    """Whether the project ever had an artifact bundle or release file: events of projects that ship no source maps
    (most Node apps) are left exactly as sent, with no "not mapped" notes on every frame."""
    key = (project_id, "any-bundle")
    known, value = _index.get(key)
    if not known:
        exists = (
            ArtifactBundle.objects.filter(projects__id=project_id).exists()
            or ReleaseFile.objects.filter(organization__projects__id=project_id).exists()
        )
        value = MapFiles(0, "", None, None, "") if exists else None
        _index.put(key, value)
    return value is not None


class Locator:
    """The `locate` of frames.apply_source_maps for one event of one project."""

    def __init__(self, project_id: int, release: str, dist: str) -> None:
        self.project_id, self.release, self.dist = project_id, release, dist

    def __call__(self, abs_path: str, debug_id: str | None) -> MapHit | MapMiss:
        if debug_id is not None:
            return self._by_debug_id(debug_id)
        if self.release:
            return self._by_release(abs_path)
        return MapMiss(
            "no_debug_id",
            "the event names no debug ID for this file (run `sentry-cli sourcemaps inject` before "
            "deploying) and no release",
        )

    def _by_debug_id(self, debug_id: str) -> MapHit | MapMiss:
        try:
            key = str(uuid.UUID(debug_id[:36]))
        except ValueError:
            return MapMiss("no_bundle", f"invalid debug ID {debug_id[:40]!r}")
        files = self._cached(("debug_id", key), lambda: _files_by_debug_id(self.project_id, key))
        if files is None:
            return MapMiss("no_bundle", f"no uploaded artifact bundle has debug ID {key}")
        if files.map_path is None:
            return MapMiss("no_source_map", f"the bundle with debug ID {key} has no source map for this file")
        return _hit(files, "debug-id")

    def _by_release(self, abs_path: str) -> MapHit | MapMiss:
        files = self._cached(
            ("release", self.release, self.dist, abs_path),
            lambda: _files_by_url(self.project_id, self.release, self.dist, abs_path),
        )
        if files is None:
            return MapMiss(
                "no_debug_id",
                f"the event names no debug ID for this file, and no file uploaded for release "
                f"{self.release}{f' (dist {self.dist})' if self.dist else ''} has its URL",
            )
        if files.map_path is None:
            return MapMiss("no_source_map", "the release's upload of this file has no source map")
        return _hit(files, "release")

    def _cached(self, key: tuple, load) -> MapFiles | None:
        full = (self.project_id, *key)
        known, value = _index.get(full)
        if not known:
            value = load()
            _index.put(full, value)
        return value


def _hit(files: MapFiles, resolved_with: str) -> MapHit | MapMiss:
    key = (files.checksum, files.script_path, files.map_path)
    parsed = _maps.get(key)
    if parsed is None:
        loaded = _parse(files)
        if isinstance(loaded, MapMiss):
            return loaded
        parsed, size = loaded
        _maps.put(key, parsed, size)
    now = time.monotonic()
    if files.bundle_pk and now - _touched.get(files.bundle_pk, -TOUCH_SECONDS) >= TOUCH_SECONDS:
        _touched[files.bundle_pk] = now
        touch_bundles([files.bundle_pk])
    return MapHit(cache=parsed, map_url=files.map_url, resolved_with=resolved_with)


def _read(files: MapFiles) -> tuple[bytes | None, bytes | None] | MapMiss:
    """(source map, script) from the bundle's zip, or from their own blobs for release files."""
    store = blob_store()
    if files.separate_blobs:
        return store.get(files.map_path or ""), (store.get(files.script_path) if files.script_path else b"")
    data = store.get(files.checksum)
    if data is None:
        return MapMiss("no_bundle", "the artifact bundle's file is gone from storage")
    cap = settings.SOURCEMAPS["MAX_FILE_BYTES"]
    # Without the minified file symbolic still maps, but cannot name the enclosing function.
    script = read_file(data, files.script_path, cap) if files.script_path else b""
    return read_file(data, files.map_path or "", cap), script


def _parse(files: MapFiles) -> tuple[SourceMapCache, int] | MapMiss:
    read = _read(files)
    if isinstance(read, MapMiss):
        return read
    source_map, script = read
    if source_map is None:
        return MapMiss("no_source_map", "the source map in the bundle is unreadable or too large")
    # Imported here: symbolic (4 MB resident) loads in a worker only once a project maps its frames.
    from symbolic.exceptions import SymbolicError
    from symbolic.sourcemapcache import SourceMapCache

    try:
        return SourceMapCache.from_bytes(script or b"", source_map), len(source_map) + len(script or b"")
    except SymbolicError as exc:
        return MapMiss("invalid_source_map", f"invalid source map: {str(exc)[:200]}", "js_invalid_source")


def _files_by_debug_id(project_id: int, debug_id: str) -> MapFiles | None:
    rows = list(
        BundleFile.objects.filter(debug_id=debug_id, bundle__projects__id=project_id)
        .order_by("-bundle_id")
        .values_list("bundle_id", "bundle__checksum", "kind", "path", "sourcemap", "url")[:20]
    )
    if not rows:
        return None
    newest = [r for r in rows if r[0] == rows[0][0]]
    script = next((r for r in newest if r[2] != BundleFile.Kind.SOURCE_MAP), None)
    source_map = next((r for r in newest if r[2] == BundleFile.Kind.SOURCE_MAP), None)
    map_url = (script[4] if script else "") or (posix_basename(source_map[5]) if source_map else "")
    return MapFiles(
        bundle_pk=rows[0][0],
        checksum=rows[0][1],
        script_path=script[3] if script else None,
        map_path=source_map[3] if source_map else None,
        map_url=map_url,
    )


def url_candidates(abs_path: str) -> list[str]:
    """Sentry's matching of release files: the full URL, then "~/path?query" and "~/path"."""
    parts = urlsplit(abs_path)
    found = [abs_path]
    if parts.path:
        tilde = "~" + parts.path
        if parts.query:
            found.append(f"{tilde}?{parts.query}")
        found.append(tilde)
    return found


def _files_by_url(project_id: int, release: str, dist: str, abs_path: str) -> MapFiles | None:
    in_release = BundleFile.objects.filter(
        bundle__projects__id=project_id, bundle__release=release, bundle__dist=dist
    )
    candidates = url_candidates(abs_path)
    scripts = list(
        in_release.filter(url__in=candidates)
        .exclude(kind=BundleFile.Kind.SOURCE_MAP)
        .order_by("-bundle_id")
        .values_list("bundle_id", "bundle__checksum", "path", "sourcemap", "url")[:20]
    )
    if not scripts:
        return _release_files_by_url(project_id, release, dist, candidates)
    bundle_pk, checksum, path, header, url = min(scripts, key=lambda r: (candidates.index(r[4]), -r[0]))
    map_url = header or posix_basename(url) + ".map"
    map_path = (
        BundleFile.objects.filter(
            bundle_id=bundle_pk, url=urljoin(url, map_url), kind=BundleFile.Kind.SOURCE_MAP
        )
        .values_list("path", flat=True)
        .first()
    )
    return MapFiles(
        bundle_pk=bundle_pk, checksum=checksum, script_path=path, map_path=map_path, map_url=map_url
    )


def posix_basename(url: str) -> str:
    return url.rsplit("/", 1)[-1]


_MAP_HEADERS = ("sourcemap", "x-sourcemap")
_MAPPING_URL = re.compile(rb"//[#@]\s*sourceMappingURL=(\S+)\s*$", re.MULTILINE)


def _release_files_by_url(project_id: int, release: str, dist: str, candidates: list[str]) -> MapFiles | None:
    """A script uploaded on its own for the release; its map named by its Sourcemap header, else by
    its sourceMappingURL comment, else "<script>.map" beside it (as Sentry looks for it)."""
    in_release = ReleaseFile.objects.filter(organization__projects__id=project_id, release=release, dist=dist)
    scripts = list(in_release.filter(name__in=candidates).values_list("name", "checksum", "headers")[:20])
    if not scripts:
        return None
    name, checksum, headers = min(scripts, key=lambda r: candidates.index(r[0]))
    map_url = _map_reference(headers, checksum) or posix_basename(name) + ".map"
    map_checksum = in_release.filter(name=urljoin(name, map_url)).values_list("checksum", flat=True).first()
    return MapFiles(
        bundle_pk=0, checksum=map_checksum or "", script_path=checksum, map_path=map_checksum,
        map_url=map_url, separate_blobs=True,
    )  # fmt: skip


def _map_reference(headers: dict, script_checksum: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() in _MAP_HEADERS and value:
            return value
    script = blob_store().get(script_checksum) or b""
    found = _MAPPING_URL.findall(script[-65536:])  # the comment ends the file
    return found[-1].decode("utf-8", "replace") if found else None
