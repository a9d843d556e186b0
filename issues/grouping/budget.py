"""A CPU-time budget for evaluating a project's own rules on one event.

Fingerprint and stack-trace rules are written by tenants and run on workers every tenant shares.
Globs match in linear time and rules are capped in size, but "linear" still multiplies: 64 KiB of
many-star globs against thousands of frames and 8 KiB values is minutes of CPU. The caller passes a
``RuleBudget``; only the time spent evaluating rules counts (the ``section``s around fingerprint
matching and the two stack-trace rule passes), not parameterizing messages or hashing, which cost
the same with or without rules. Inside a section, grouping spends "work units" where the cost grows
with rules or event (each glob character step, each rule tested against a frame or row, each frame
an action touches) and reads the thread's CPU clock every ``CHECK_EVERY`` units; past the budget it
raises ``RulesOverBudget`` and the engine groups the event again without the project's rules.

The running deadline is held in a context variable, not threaded through every matcher: compiled
globs are shared, cached closures, while the deadline belongs to one call of ``compute_grouping``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
# Reading the thread's CPU clock costs about 1 us here; a work unit is a glob step or one rule
# tested against one frame (0.1 to a few us), so the clock is read every 50 us to 1 ms of work.
CHECK_EVERY = 512


class RulesOverBudget(Exception):
    """Evaluating the project's rules used up the event's CPU-time budget."""


@dataclass(frozen=True)
class RuleBudget:
    """CPU time (of the calling thread: waiting for a core on a busy machine does not count) one
    event may spend evaluating rules: ``cpu_seconds`` plus ``cpu_seconds_per_frame`` for each frame,
    since rule passes visit every frame and a 2,000-frame recursion is a legitimate event."""

    cpu_seconds: float
    cpu_seconds_per_frame: float = 0.0
    clock: Callable[[], float] = time.thread_time

    def start(self, frames: int = 0) -> Deadline:
        return Deadline(self.cpu_seconds + self.cpu_seconds_per_frame * frames, self.clock)


class Deadline:
    __slots__ = ("limit", "clock", "work", "spent", "since")

    def __init__(self, limit: float, clock: Callable[[], float]) -> None:
        self.limit, self.clock, self.work, self.spent = limit, clock, 0, 0.0
        self.since: float | None = None  # clock reading when the open section began

    def spend(self, units: int = 1) -> None:
        self.work += units
        if self.work >= CHECK_EVERY and self.since is not None:
            self.work = 0
            if self.spent + self.clock() - self.since > self.limit:
                raise RulesOverBudget

    @contextmanager
    def section(self) -> Iterator[None]:
        if self.since is not None:  # nested: the outer section is already measuring
            yield
            return
        self.since = self.clock()
        try:
            yield
        finally:
            self.spent += self.clock() - self.since
            self.since = None


_running: ContextVar[Deadline | None] = ContextVar("lighttrace_grouping_deadline", default=None)
_NO_SECTION = nullcontext()


def current() -> Deadline | None:
    """The deadline of the grouping running in this context, None when it has no budget."""
    return _running.get()


def spend(units: int = 1) -> None:
    deadline = _running.get()
    if deadline is not None:
        deadline.spend(units)


def section() -> AbstractContextManager[None]:
    """Rule evaluation that counts against the budget (a no-op without one)."""
    deadline = _running.get()
    return _NO_SECTION if deadline is None else deadline.section()


@contextmanager
def running(deadline: Deadline | None) -> Iterator[None]:
    token = _running.set(deadline)
    try:
        yield
    finally:
        _running.reset(token)


def within_budget(run: Callable[[], T], budget: RuleBudget, frames: int = 0) -> T | None:
    """``run()`` under the budget, or None when two tries both ran out of it: the first may have
    paid for a garbage collection or for cold caches, which must not be blamed on the rules."""
    for _ in range(2):
        try:
            with running(budget.start(frames)):
                return run()
        except RulesOverBudget:
            continue
    return None
