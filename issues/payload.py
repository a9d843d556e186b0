"""Stored event payloads: orjson, zstd-compressed (about a fifth of the JSON size)."""

from typing import Any

import orjson
import zstandard

_compressor = zstandard.ZstdCompressor(level=3)
_decompressor = zstandard.ZstdDecompressor()


def encode_event_data(event: dict[str, Any]) -> bytes:
    return _compressor.compress(orjson.dumps(event))


def decode_event_data(data: bytes | memoryview) -> dict[str, Any]:
    return orjson.loads(_decompressor.decompress(bytes(data)))
