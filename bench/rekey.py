"""Re-send a pooled envelope as a new event: same body, fresh event_id, still gzip like the SDK sends.

A long run (the soak) needs far more distinct events than it is worth building and gzipping up front
(10 minutes at a few hundred events/s). A template keeps the envelope's parts between the
occurrences of its event_id compressed once (raw deflate, each part ending on a byte boundary with a
full flush); a new body is those parts with the new id in between as stored (uncompressed) deflate
blocks, a gzip header, and the CRC-32 and length of the new content. Cost per body: one CRC-32 over
the ~21 KB envelope and a join, no compression; the body grows by a few dozen bytes over gzip -9.
"""

from __future__ import annotations

import gzip
import struct
import uuid
import zlib

import orjson

# magic, deflate, no flags, mtime 0, XFL 2 (slowest compression), OS 255 (unknown)
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def _stored_block(data: bytes) -> bytes:
    """A non-final stored deflate block (BFINAL 0, BTYPE 00), starting on a byte boundary."""
    return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


class Template:
    __slots__ = ("raw_parts", "deflate_parts", "size", "id_length")

    def __init__(self, gz_body: bytes):
        raw = gzip.decompress(gz_body)
        event_id = orjson.loads(raw.split(b"\n", 1)[0])["event_id"].encode()
        self.raw_parts = raw.split(event_id)  # the id is in the envelope header and in the event
        self.id_length = len(event_id)
        self.size = len(raw)
        self.deflate_parts = []
        last = len(self.raw_parts) - 1
        for n, part in enumerate(self.raw_parts):
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            self.deflate_parts.append(
                c.compress(part) + c.flush(zlib.Z_FINISH if n == last else zlib.Z_FULL_FLUSH)
            )

    def body(self, event_id: bytes | None = None) -> bytes:
        """The gzipped envelope with `event_id` (32 hex characters; a random uuid4 if None)."""
        new = event_id or uuid.uuid4().hex.encode()
        if len(new) != self.id_length:
            raise ValueError("the new event_id must have the old one's length")
        crc = 0
        out = [GZIP_HEADER]
        stored = _stored_block(new)
        for n, (raw, deflated) in enumerate(zip(self.raw_parts, self.deflate_parts, strict=True)):
            if n:
                crc = zlib.crc32(new, crc)
                out.append(stored)
            crc = zlib.crc32(raw, crc)
            out.append(deflated)
        out.append(struct.pack("<II", crc, self.size & 0xFFFFFFFF))
        return b"".join(out)


if __name__ == "__main__":  # self-check: python bench/rekey.py
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from payload import build_body

    body = build_body((3, "0" * 32, 1))[0]
    template = Template(body)
    new = template.body(b"f" * 32)
    original = gzip.decompress(body)
    old_id = orjson.loads(original.split(b"\n", 1)[0])["event_id"].encode()
    assert gzip.decompress(new) == original.replace(old_id, b"f" * 32)
    assert original.count(old_id) == 2, original.count(old_id)
    print(f"ok: {len(body)} B gzip -9, {len(new)} B re-keyed, {len(template.raw_parts) - 1} id occurrences")
