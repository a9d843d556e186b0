"""core/request_body.py: a body is received whole within its deadline, size cap and memory budget."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.request_body import (
    BodyBudgetFull,
    BodyPolicy,
    BodyRefused,
    BodyTimeout,
    BodyTooLarge,
    ByteBudget,
    Reservation,
    receive_body,
)

FAST = BodyPolicy(start_seconds=0.3, min_rate=1000, max_seconds=2.0)


async def paced(chunks: list[bytes], pause: float, then_wait: float = 0.0):
    for chunk in chunks:
        await asyncio.sleep(pause)
        yield chunk
    await asyncio.sleep(then_wait)
    yield b""  # granian ends a body with one empty chunk


def receive(chunks, declared=None, limit=1 << 20, policy=FAST, budget=None):
    reservation = Reservation(budget or ByteBudget(1 << 30))
    return asyncio.run(receive_body(chunks, declared, limit, policy, reservation)), reservation


def test_a_body_that_arrives_is_returned_whole():
    body, reservation = receive(paced([b"ab", b"cd", b"ef"], 0.01), declared=6)
    assert body == b"abcdef" and reservation.size == 6
    assert receive(paced([b"chunked", b" body"], 0.01))[0] == b"chunked body"


def test_a_client_that_sends_nothing_gets_408_after_the_start_budget():
    started = time.monotonic()
    with pytest.raises(BodyTimeout) as refused:
        receive(paced([], 0, then_wait=30), declared=100)
    assert 0.25 < time.monotonic() - started < 1.0
    assert refused.value.status == 408 and "too slow: 0 bytes" in refused.value.reason


def test_a_trickle_is_cut_off_however_long_the_announced_body():
    started = time.monotonic()
    with pytest.raises(BodyTimeout):
        receive(paced([b"a"] * 100, 0.1), declared=10_000_000, limit=20_000_000)
    # 0.3 s to start plus 1 ms per byte received: a byte every 0.1 s falls behind at once.
    assert time.monotonic() - started < 1.0


def test_progress_at_the_minimum_rate_extends_the_deadline_up_to_the_maximum():
    steady = BodyPolicy(start_seconds=0.3, min_rate=100, max_seconds=5.0)
    # 20 bytes every 0.1 s (200 bytes/s) for 0.8 s: past the 0.3 s start, never behind the rate.
    body, _ = receive(paced([b"x" * 20] * 8, 0.1), declared=160, policy=steady)
    assert len(body) == 160
    capped = BodyPolicy(start_seconds=0.3, min_rate=100, max_seconds=0.5)
    with pytest.raises(BodyTimeout):
        receive(paced([b"x" * 20] * 8, 0.1), declared=160, policy=capped)


def test_bodies_over_the_cap_are_413_before_or_while_reading():
    with pytest.raises(BodyTooLarge) as announced:
        receive(paced([], 0, then_wait=30), declared=2000, limit=1000)
    assert announced.value.status == 413
    with pytest.raises(BodyTooLarge):
        receive(paced([b"x" * 600] * 3, 0), limit=1000)  # chunked: no length announced


def test_a_body_cut_short_is_400():
    with pytest.raises(BodyRefused) as cut:
        receive(paced([b"abc"], 0), declared=10)
    assert cut.value.status == 400 and "3 of 10" in cut.value.reason


def test_the_memory_budget_refuses_with_503_and_is_given_back():
    budget = ByteBudget(1000)
    held = Reservation(budget)
    held.take(900)
    with pytest.raises(BodyBudgetFull) as full:
        receive(paced([b"x" * 200], 0), declared=200, budget=budget)
    assert full.value.status == 503
    assert budget.used == 900  # the refused request's own bytes are not counted after it
    held.release()
    body, reservation = receive(paced([b"x" * 200], 0), declared=200, budget=budget)
    assert len(body) == 200 and budget.used == 200
    reservation.release()
    assert budget.used == 0
