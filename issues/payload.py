"""Stored event payloads: orjson, zstd-compressed, with the project's trained dictionary if it has one.

A zstd frame names the dictionary it was written with (its dict_id, 0 for none), so decoding finds
the dictionary from the payload itself; payloads written before a project had one stay readable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson
import zstandard

LEVEL = 3

# zstandard's compressor and decompressor objects are not thread-safe (shared between the threads
# of a worker or a gthread web process they corrupt output and can crash): a set per thread.
_local = threading.local()


# A compressor holds ~0.5 MB of context, a decompressor ~0.1 MB, and there is one per project
# dictionary and thread: with many projects only the recently used ones are kept.
_MAX_PER_THREAD = 16


def _per_thread(kind: str, key: int, make: Callable[[], Any]) -> Any:
    cache = _local.__dict__.setdefault(kind, {})
    codec = cache.get(key)
    if codec is None:
        if len(cache) >= _MAX_PER_THREAD:
            cache.clear()
        codec = cache[key] = make()
    return codec


def _compressor(dictionary: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdCompressor:
    key = dictionary.dict_id() if dictionary is not None else 0
    return _per_thread(
        "compressors", key, lambda: zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary)
    )


def _decompressor(dict_id: int) -> zstandard.ZstdDecompressor:
    return _per_thread("decompressors", dict_id, lambda: _new_decompressor(dict_id))


def _new_decompressor(dict_id: int) -> zstandard.ZstdDecompressor:
    if not dict_id:
        return zstandard.ZstdDecompressor()
    from .dictionaries import dictionary_by_id  # the ORM only where a dictionary is needed

    return zstandard.ZstdDecompressor(dict_data=dictionary_by_id(dict_id))


def encode_event_data(
    event: dict[str, Any], dictionary: zstandard.ZstdCompressionDict | None = None
) -> bytes:
    return _compressor(dictionary).compress(orjson.dumps(event))


def decompress_event_data(data: bytes | memoryview) -> bytes:
    data = bytes(data)
    dict_id = zstandard.get_frame_parameters(data).dict_id
    return _decompressor(dict_id).decompress(data)


def decode_event_data(data: bytes | memoryview) -> dict[str, Any]:
    return orjson.loads(decompress_event_data(data))
