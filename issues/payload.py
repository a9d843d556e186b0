"""Stored event payloads: orjson, zstd-compressed, with the project's trained dictionary if it has one.

A zstd frame names the dictionary it was written with (its dict_id, 0 for none), so decoding finds
the dictionary from the payload itself; payloads written before a project had one stay readable.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import zstandard

LEVEL = 3

# zstandard's compressor and decompressor objects are not thread-safe (shared between the threads
# of a worker or a gthread web process they corrupt output and can crash): a set per thread.
_local = threading.local()


def _compressor(dictionary: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdCompressor:
    cache = _local.__dict__.setdefault("compressors", {})
    key = dictionary.dict_id() if dictionary is not None else 0
    compressor = cache.get(key)
    if compressor is None:
        compressor = cache[key] = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary)
    return compressor


def _decompressor(dict_id: int) -> zstandard.ZstdDecompressor:
    cache = _local.__dict__.setdefault("decompressors", {})
    decompressor = cache.get(dict_id)
    if decompressor is None:
        if dict_id:
            from .dictionaries import dictionary_by_id  # the ORM only where a dictionary is needed

            decompressor = zstandard.ZstdDecompressor(dict_data=dictionary_by_id(dict_id))
        else:
            decompressor = zstandard.ZstdDecompressor()
        cache[dict_id] = decompressor
    return decompressor


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
