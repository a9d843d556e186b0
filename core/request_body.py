"""Receiving a request body on the event loop: within a time budget, a size cap and a per-process
memory budget, so that a client sending slowly (or not at all) holds a connection and the bytes it
really sent, never a thread. No Django here: the web front (config/front.py) passes the settings in.

The time budget follows Apache's mod_reqtimeout (`body=20,MinRate=500`): the body must start within
`start_seconds`, and every byte received extends its deadline by 1/`min_rate` seconds, up to
`max_seconds` in all. An SDK posting a few KB is never near it; a client trickling a byte a second
runs out after `start_seconds`, whatever Content-Length it announced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from dataclasses import dataclass


class BodyRefused(Exception):
    """The body was not received; `status` and the reason go back to the client (then the connection
    is closed: what is left of the body is never read)."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BodyTimeout(BodyRefused):
    status = 408


class BodyTooLarge(BodyRefused):
    status = 413


class BodyBudgetFull(BodyRefused):
    """Other requests' bodies already hold this process's whole memory budget: retry later."""

    status = 503


@dataclass(frozen=True)
class BodyPolicy:
    start_seconds: float = 10.0
    min_rate: float = 1000.0  # bytes per second that keep extending the deadline
    max_seconds: float = 120.0

    def allowed_seconds(self, received: int) -> float:
        return min(self.max_seconds, self.start_seconds + received / self.min_rate)


class ByteBudget:
    """Bytes of request bodies one web process holds at once (being received, waiting for a thread
    or being processed). Only the event loop's thread takes from it and gives back."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


class Reservation:
    """What one request took from the budget; given back once its body is no longer needed."""

    def __init__(self, budget: ByteBudget) -> None:
        self.budget = budget
        self.size = 0

    def take(self, size: int) -> None:
        if not self.budget.take(size):
            raise BodyBudgetFull("the server is receiving too many large bodies at once; retry later")
        self.size += size

    def release(self) -> None:
        size, self.size = self.size, 0
        if size:
            self.budget.give_back(size)


async def receive_body(
    chunks: AsyncIterable[bytes],
    declared_length: int | None,
    limit: int,
    policy: BodyPolicy,
    reservation: Reservation,
) -> bytes:
    """The whole body, or BodyRefused (408 too slow, 413 over `limit`, 503 budget, 400 cut short)."""
    if declared_length is not None and declared_length > limit:
        raise BodyTooLarge(f"request body is larger than {limit} bytes")
    loop = asyncio.get_running_loop()
    started = loop.time()
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(started + policy.start_seconds) as deadline:
            async for chunk in chunks:
                if not chunk:  # granian's stream ends with one empty chunk (also when the client left)
                    break
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"request body is larger than {limit} bytes")
                reservation.take(len(chunk))
                parts.append(chunk)
                if declared_length is not None and size >= declared_length:
                    break
                deadline.reschedule(started + policy.allowed_seconds(size))
    except TimeoutError:
        raise BodyTimeout(
            f"request body too slow: {size} bytes in {loop.time() - started:.0f} s (a body must start "
            f"within {policy.start_seconds:g} s and arrive at {policy.min_rate:g} bytes/s or faster)"
        ) from None
    if declared_length is not None and size != declared_length:
        raise BodyRefused(f"request body ended after {size} of {declared_length} bytes")
    return parts[0] if len(parts) == 1 else b"".join(parts)
