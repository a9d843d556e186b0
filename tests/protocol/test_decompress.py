"""Content-Encoding handling, caps and compression bombs (protocol doc section 4)."""

from __future__ import annotations

import base64
import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable
from functools import cache

import brotli
import pytest
import zstandard

from ingest.protocol.decompress import decode_store_body, decompress, decompress_prefix
from ingest.protocol.errors import BadRequest, PayloadTooLarge, UnsupportedEncoding

DATA = b'{"type":"event"}\n' + b'{"message": "hello \xc3\xa9", "n": 12345}\n' * 3000
MiB = 1024 * 1024


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": _zstd,
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_roundtrip(encoding: str) -> None:
    assert decompress(ENCODERS[encoding](DATA), encoding, 10 * MiB) == DATA


@pytest.mark.parametrize("encoding", [None, "", "identity", "IDENTITY", " identity "])
def test_identity(encoding: str | None) -> None:
    assert decompress(DATA, encoding, 10 * MiB) == DATA


@pytest.mark.parametrize(
    "encoding, body",
    [
        ("GZIP", gzip.compress(DATA)),
        (" gzip ", gzip.compress(DATA)),
        ("deflate", _raw_deflate(DATA)),
        ("deflate", gzip.compress(DATA)),
        ("gzip", gzip.compress(DATA[:100]) + gzip.compress(DATA[100:])),
        ("zstd", _zstd(DATA[:100]) + _zstd(DATA[100:])),
        ("zstd", zstandard.ZstdCompressor(write_content_size=False).compress(DATA)),
        ("gzip, br", brotli.compress(gzip.compress(DATA))),
        ("br,gzip", gzip.compress(brotli.compress(DATA))),
        ("identity, gzip", gzip.compress(DATA)),
        ("zstd, deflate, gzip", gzip.compress(zlib.compress(_zstd(DATA)))),
    ],
)
def test_variants(encoding: str, body: bytes) -> None:
    assert decompress(body, encoding, 10 * MiB) == DATA


def test_gzip_trailing_garbage_is_ignored() -> None:
    assert decompress(gzip.compress(DATA) + b"\x00\x00junk", "gzip", 10 * MiB) == DATA


@pytest.mark.parametrize("encoding", ["compress", "lzma", "gzip;q=1", "bzip2"])
def test_unknown_encoding_is_415(encoding: str) -> None:
    with pytest.raises(UnsupportedEncoding) as info:
        decompress(b"abc", encoding, MiB)
    assert info.value.status == 415


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_empty_body_is_left_to_the_envelope_parser(encoding: str) -> None:
    assert decompress(b"", encoding, MiB) == b""


@pytest.mark.parametrize(
    "encoding, body, reason",
    [
        ("gzip", b"this is not gzip", "invalid gzip body"),
        ("x-gzip", b"\x1f\x8b\x08\x00garbage-after-magic", "invalid gzip body"),
        ("deflate", b"\x78\x9cgarbage", "invalid deflate body"),
        ("deflate", b"\xff\xff\xff\xff", "invalid deflate body"),
        ("br", b"\xff\xff\xff\xffnot brotli", "invalid br body"),
        ("zstd", b"not zstd at all", "invalid zstd body"),
    ],
)
def test_corrupt_stream_is_400(encoding: str, body: bytes, reason: str) -> None:
    with pytest.raises(BadRequest) as info:
        decompress(body, encoding, MiB)
    assert info.value.reason.startswith(reason)
    assert info.value.status == 400


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_truncated_stream_is_400(encoding: str) -> None:
    body = ENCODERS[encoding](DATA)
    with pytest.raises(BadRequest, match="truncated|invalid"):
        decompress(body[: len(body) // 2], encoding, 10 * MiB)
    with pytest.raises(BadRequest):
        decompress(body[:-4], encoding, 10 * MiB)


@pytest.mark.parametrize("encoding", [*sorted(ENCODERS), None])
def test_cap_is_exact(encoding: str | None) -> None:
    body = ENCODERS[encoding](DATA) if encoding else DATA
    assert decompress(body, encoding, len(DATA)) == DATA
    with pytest.raises(PayloadTooLarge) as info:
        decompress(body, encoding, len(DATA) - 1)
    assert info.value.status == 413


# --- bombs ------------------------------------------------------------------------------

BOMB_SIZE = 200 * MiB
_ZEROS = bytes(MiB)


@cache
def _bomb_gzip() -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    return b"".join(compressor.compress(_ZEROS) for _ in range(BOMB_SIZE // MiB)) + compressor.flush()


@cache
def _bomb_deflate() -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 15)
    return b"".join(compressor.compress(_ZEROS) for _ in range(BOMB_SIZE // MiB)) + compressor.flush()


@cache
def _bomb_br() -> bytes:
    compressor = brotli.Compressor(quality=1)
    return b"".join(compressor.process(_ZEROS) for _ in range(BOMB_SIZE // MiB)) + compressor.finish()


@cache
def _bomb_zstd() -> bytes:
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    chunks = [compressor.compress(_ZEROS) for _ in range(BOMB_SIZE // MiB)]
    return b"".join(chunks) + compressor.flush()


BOMBS = {"gzip": _bomb_gzip, "deflate": _bomb_deflate, "br": _bomb_br, "zstd": _bomb_zstd}


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_bomb_stops_at_cap_without_inflating_everything(encoding: str) -> None:
    bomb = BOMBS[encoding]()
    assert len(bomb) < BOMB_SIZE // 200
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(PayloadTooLarge):
            decompress(bomb, encoding, MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert peak < 20 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert elapsed < 1.0, f"took {elapsed:.2f}s"


def test_store_body_zlib_bomb_is_capped() -> None:
    body = base64.b64encode(_bomb_deflate())
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge):
            decode_store_body(body, MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The base64-decoded stream itself (~200 KiB) is held once; the inflate is capped.
    assert peak < 20 * MiB


# --- legacy /store/ bodies ----------------------------------------------------------------

EVENT = b'{"message": "hi", "level": "error"}'


@pytest.mark.parametrize(
    "body",
    [
        EVENT,
        b"  \n\t" + EVENT,
        base64.b64encode(EVENT),
        base64.b64encode(zlib.compress(EVENT)),
        base64.encodebytes(zlib.compress(EVENT)),  # with line breaks, as old clients wrapped it
    ],
)
def test_store_body_forms(body: bytes) -> None:
    assert decode_store_body(body, MiB).strip() == EVENT


@pytest.mark.parametrize("body", [b"", b"   \n"])
def test_store_body_empty(body: bytes) -> None:
    with pytest.raises(BadRequest, match="empty request body"):
        decode_store_body(body, MiB)


@pytest.mark.parametrize("body", [b"abc", b"!!!!", base64.b64encode(b"not zlib data")])
def test_store_body_garbage(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode_store_body(body, MiB)


def test_store_body_too_large() -> None:
    with pytest.raises(PayloadTooLarge):
        decode_store_body(EVENT, len(EVENT) - 1)
    with pytest.raises(PayloadTooLarge):
        decode_store_body(base64.b64encode(EVENT), len(EVENT) - 1)
    with pytest.raises(PayloadTooLarge):
        decode_store_body(base64.b64encode(zlib.compress(EVENT)), len(EVENT) - 1)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_prefix_is_the_start_of_the_decoded_body(encoding: str) -> None:
    assert decompress_prefix(ENCODERS[encoding](DATA), encoding, 100, MiB) == DATA[:100]
    assert decompress_prefix(ENCODERS[encoding](b"short\n"), encoding, 100, MiB) == b"short\n"


@pytest.mark.parametrize("encoding", [None, "identity", "gzip, br"])
def test_prefix_without_compression_or_of_a_chain(encoding: str | None) -> None:
    body = brotli.compress(gzip.compress(DATA)) if encoding == "gzip, br" else DATA
    assert decompress_prefix(body, encoding, 100, MiB) == DATA[:100]


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_prefix_of_a_bomb_inflates_only_the_prefix(encoding: str) -> None:
    tracemalloc.start()
    try:
        assert decompress_prefix(BOMBS[encoding](), encoding, 64 * 1024, MiB) == bytes(64 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("chain", ["gzip, gzip", "gzip, br", "zstd, deflate", "br, zstd"])
def test_prefix_of_a_chained_bomb_inflates_no_layer_whole(chain: str) -> None:
    """A body encoded twice from a sender not known yet: no layer is inflated to the whole cap."""
    first, second = (token.strip() for token in chain.split(","))
    body = ENCODERS[second](BOMBS[first]())
    tracemalloc.start()
    try:
        assert decompress_prefix(body, chain, 64 * 1024, 20 * MiB) == bytes(64 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * MiB, f"peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("chain", ["gzip, gzip", "deflate, zstd", "br, gzip", "identity, gzip"])
def test_prefix_of_a_chain_is_the_start_of_the_decoded_body(chain: str) -> None:
    body = DATA
    for token in (t.strip() for t in chain.split(",")):
        body = body if token == "identity" else ENCODERS[token](body)
    assert decompress_prefix(body, chain, 100, 20 * MiB) == DATA[:100]
    assert decompress(body, chain, 20 * MiB) == DATA
