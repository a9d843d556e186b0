"""Content-Encoding handling with a hard cap on the inflated size.

Every decoder is driven in small steps so that a compression bomb costs about
``max_size`` bytes of memory and stops as soon as the cap is crossed, instead
of inflating a gigabyte first and checking afterwards.
"""

from __future__ import annotations

import binascii
import zlib
from base64 import b64decode

import brotli
import zstandard

try:  # ISA-L inflates gzip about twice as fast as zlib (35 vs 72 us for a 5.5 KB SDK envelope here)
    from isal import isal_zlib as _inflater
except ImportError:  # pragma: no cover - isal is a dependency; zlib behaves the same, slower
    _inflater = zlib  # type: ignore[misc]

from .errors import BadRequest, PayloadTooLarge, UnsupportedEncoding

_INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, _inflater.error)  # type: ignore[assignment]

_IN_CHUNK = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ZLIB_WBITS = 15
_RAW_WBITS = -15
_GZIP_WBITS = 31
# zstd's default window limit is 128 MiB, i.e. a tiny frame header could make us
# allocate that much; compression levels up to 19 never need more than 8 MiB.
_ZSTD_MAX_WINDOW = 1 << 24
# A zstd RLE block turns ~4 input bytes into up to 128 KiB, so n input bytes can
# inflate to ~n * 32 KiB in one call; input steps are sized from that bound.
_ZSTD_MAX_RATIO_SHIFT = 15
_ZSTD_MIN_STEP = 32
_IDENTITY = ("", "identity")


class _Output:
    """Collects inflated chunks and raises as soon as the cap is crossed."""

    __slots__ = ("chunks", "size", "max_size")

    def __init__(self, max_size: int) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.max_size = max_size

    @property
    def room(self) -> int:
        # One byte more than allowed, so that crossing the cap is observable.
        return self.max_size - self.size + 1

    def add(self, chunk: bytes) -> None:
        if chunk:
            self.size += len(chunk)
            self.chunks.append(chunk)
            if self.size > self.max_size:
                raise _CapReached(f"payload exceeds {self.max_size} bytes after decompression", self)

    def result(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


class _CapReached(PayloadTooLarge):
    """The cap was crossed; carries what was inflated before, for :func:`decompress_prefix`."""

    def __init__(self, reason: str, output: _Output) -> None:
        super().__init__(reason)
        self.prefix = b"".join(output.chunks)[: output.max_size]


class _Truncated(BadRequest):
    """The stream ended early; carries what it gave, for :func:`decompress_prefix` (the inner layer
    of a chain is cut where the outer layer's prefix ends)."""

    def __init__(self, reason: str, output: _Output) -> None:
        super().__init__(reason)
        self.prefix = output.result()


# In a chain of encodings, each layer but the last is inflated this far at most for a prefix: what
# the next layer needs to give `size` bytes, unless one layer alone packs more than 16x.
_CHAIN_LAYER_BYTES = 1024 * 1024


def decompress_prefix(body: bytes, encoding: str | None, size: int, whole_cap: int) -> bytes:
    """The first ``size`` bytes (or fewer) of the decoded body, inflating little more than that:
    enough to read an envelope's header line before the sender is known. A chain of several
    encodings is undone layer by layer, each one only as far as the next needs (at most
    min(``whole_cap``, 1 MiB) per layer), so nobody's body is ever inflated whole before it is known
    whose it is."""
    tokens = [token.strip().lower() for token in reversed(encoding.split(","))] if encoding else []
    layer_cap = min(whole_cap, max(size, _CHAIN_LAYER_BYTES))
    for index, token in enumerate(tokens):
        body = _prefix_of_layer(body, token, size if index == len(tokens) - 1 else layer_cap)
    return body[:size]


def _prefix_of_layer(body: bytes, token: str, cap: int) -> bytes:
    try:
        return _decode_one(body, token, cap)[:cap]
    except (_CapReached, _Truncated) as exc:
        return exc.prefix


def decompress(body: bytes, encoding: str | None, max_size: int) -> bytes:
    """Undo ``Content-Encoding``; the result is at most ``max_size`` bytes."""
    if encoding:
        # "gzip, br" means gzip was applied first, so undo br first.
        for token in reversed(encoding.split(",")):
            body = _decode_one(body, token.strip().lower(), max_size)
    if len(body) > max_size:
        raise PayloadTooLarge(f"payload exceeds {max_size} bytes")
    return body


def decode_store_body(body: bytes, max_size: int) -> bytes:
    """Decode a legacy ``/store/`` body: raw JSON, or base64 of (zlib'd) JSON.

    Sniffs like Relay: a body starting with ``{`` is JSON; otherwise it is
    base64, and the decoded bytes are JSON if they start with ``{``, else a
    zlib stream (raven clients used ``base64(zlib(json))``).
    """
    first = _first_byte(body)
    if not first:
        raise BadRequest("empty request body")
    if first == b"{":
        if len(body) > max_size:
            raise PayloadTooLarge(f"payload exceeds {max_size} bytes")
        return body
    try:
        binary = b64decode(body)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("invalid store body: neither JSON nor base64") from exc
    if _first_byte(binary) == b"{":
        if len(binary) > max_size:
            raise PayloadTooLarge(f"payload exceeds {max_size} bytes")
        return binary
    return _inflate(binary, _ZLIB_WBITS, max_size, "deflate")


def _first_byte(data: bytes) -> bytes:
    """First non-whitespace byte, without copying the common unpadded body."""
    first = data[:1]
    return data.lstrip()[:1] if first.isspace() else first


def _decode_one(body: bytes, encoding: str, max_size: int) -> bytes:
    if encoding in _IDENTITY:
        return body
    if encoding not in _DECODERS:
        raise UnsupportedEncoding(f"unsupported content encoding {encoding!r}")
    if not body:
        # Let the envelope parser report "empty request body".
        return body
    return _DECODERS[encoding](body, max_size)


def _gunzip(body: bytes, max_size: int) -> bytes:
    return _inflate(body, _GZIP_WBITS, max_size, "gzip")


def _deflate(body: bytes, max_size: int) -> bytes:
    # "deflate" should be zlib-wrapped (RFC 1950) but browsers and some HTTP
    # clients send a raw RFC 1951 stream, and a few send gzip under this name.
    if body[:2] == _GZIP_MAGIC:
        return _inflate(body, _GZIP_WBITS, max_size, "deflate")
    wbits = _ZLIB_WBITS if _looks_like_zlib(body) else _RAW_WBITS
    return _inflate(body, wbits, max_size, "deflate")


def _looks_like_zlib(body: bytes) -> bool:
    if len(body) < 2:
        return False
    cmf, flg = body[0], body[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and ((cmf << 8) | flg) % 31 == 0


def _inflate(body: bytes, wbits: int, max_size: int, label: str) -> bytes:
    out = _Output(max_size)
    view = memoryview(body)
    total = len(body)
    pos = 0
    d = _inflater.decompressobj(wbits)
    try:
        while pos < total:
            fed = view[pos : pos + _IN_CHUNK]
            out.add(d.decompress(fed, out.room))
            pos += len(fed) - len(d.unconsumed_tail)
            if d.eof:
                pos -= len(d.unused_data)
                # Concatenated gzip members are one valid stream (RFC 1952 2.2);
                # any other trailing bytes are ignored, as most decoders do.
                if wbits != _GZIP_WBITS or view[pos : pos + 2] != _GZIP_MAGIC:
                    break
                d = _inflater.decompressobj(wbits)
        while not d.eof:
            # All input consumed, but zlib may still hold output back because of
            # the max_length cap on the previous call.
            chunk = d.decompress(b"", out.room)
            if not chunk:
                break
            out.add(chunk)
    except _INFLATE_ERRORS as exc:
        raise BadRequest(f"invalid {label} body: {exc}") from exc
    if not d.eof:
        raise _Truncated(f"invalid {label} body: truncated stream", out)
    return out.result()


def _brotli(body: bytes, max_size: int) -> bytes:
    out = _Output(max_size)
    view = memoryview(body)
    d = brotli.Decompressor()
    try:
        for pos in range(0, len(body), _IN_CHUNK):
            # output_buffer_limit (brotli >= 1.2) bounds each call's output; the
            # decoder then wants empty input until it has drained its buffer.
            out.add(d.process(view[pos : pos + _IN_CHUNK], output_buffer_limit=out.room))
            while not d.can_accept_more_data():
                out.add(d.process(b"", output_buffer_limit=out.room))
        finished = d.is_finished()
    except brotli.error as exc:
        raise BadRequest(f"invalid br body: {exc}") from exc
    if not finished:
        raise _Truncated("invalid br body: truncated stream", out)
    return out.result()


def _zstd(body: bytes, max_size: int) -> bytes:
    out = _Output(max_size)
    view = memoryview(body)
    total = len(body)
    dctx = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
    d = dctx.decompressobj()
    pos = 0
    started = False
    try:
        while pos < total:
            # zstandard's decompressobj has no max_length, so bound the output
            # of each call by feeding only as much input as the cap allows.
            step = max(_ZSTD_MIN_STEP, min(_IN_CHUNK, out.room >> _ZSTD_MAX_RATIO_SHIFT))
            fed = view[pos : pos + step]
            out.add(d.decompress(fed))
            pos += len(fed)
            started = True
            if d.eof:
                # Several concatenated frames form one valid stream.
                pos -= len(d.unused_data)
                d = dctx.decompressobj()
                started = False
    except zstandard.ZstdError as exc:
        raise BadRequest(f"invalid zstd body: {exc}") from exc
    if started:
        raise _Truncated("invalid zstd body: truncated stream", out)
    return out.result()


_DECODERS = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
