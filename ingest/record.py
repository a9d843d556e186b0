"""The unit in the ingest buffer: a one-line JSON header, a newline, then the envelope body as received.

Every record gets a random id when it is accepted ("u"), so the worker can tell a redelivered record
from a new one for facts the event writer cannot deduplicate itself (client reports, attachments):
see ingest/tasks.py. Records buffered before ids existed simply have none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class RecordHeader:
    project_id: int
    key_id: int
    received: float
    event_id: str | None = None
    client_ip: str | None = None
    content_encoding: str | None = None
    record_id: str | None = None


def encode_record(header: RecordHeader, body: bytes) -> bytes:
    meta: dict[str, object] = {"p": header.project_id, "k": header.key_id, "r": header.received}
    meta["u"] = header.record_id or os.urandom(16).hex()
    if header.event_id:
        meta["e"] = header.event_id
    if header.client_ip:
        meta["ip"] = header.client_ip
    if header.content_encoding:
        meta["enc"] = header.content_encoding
    return orjson.dumps(meta) + b"\n" + body


def decode_record(payload: bytes) -> tuple[RecordHeader, bytes]:
    head, sep, body = payload.partition(b"\n")
    if not sep:
        raise ValueError("buffer record without header line")
    meta = orjson.loads(head)
    header = RecordHeader(
        project_id=int(meta["p"]),
        key_id=int(meta["k"]),
        received=float(meta["r"]),
        event_id=meta.get("e"),
        client_ip=meta.get("ip"),
        content_encoding=meta.get("enc"),
        record_id=meta.get("u"),
    )
    return header, body
