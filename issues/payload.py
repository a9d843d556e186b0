"""Stored event payloads: orjson, zstd-compressed (about a fifth of the JSON size)."""

import threading
from typing import Any

import orjson
import zstandard

# zstandard's compressor and decompressor objects are not thread-safe (shared between the threads
# of a worker or a gthread web process they corrupt output and can crash): one pair per thread.
_local = threading.local()


def _codecs() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    codecs = getattr(_local, "codecs", None)
    if codecs is None:
        codecs = _local.codecs = (zstandard.ZstdCompressor(level=3), zstandard.ZstdDecompressor())
    return codecs


def encode_event_data(event: dict[str, Any]) -> bytes:
    return _codecs()[0].compress(orjson.dumps(event))


def decode_event_data(data: bytes | memoryview) -> dict[str, Any]:
    return orjson.loads(_codecs()[1].decompress(bytes(data)))
