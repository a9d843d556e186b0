"""Globs with several stars, matched by an automaton built while it runs.

The glob is a set-of-positions machine (Thompson's construction): each character of the value moves
every live position of the pattern at once, so nothing is ever tried twice and a match costs at most
len(value) x len(pattern) steps, where a backtracking regex for ``*a*a*a*a*a*a?b`` takes minutes on a
few thousand characters. Computing a set of positions per character costs microseconds, though, and
an 8 KiB exception value met by a rule like ``*fail?d*`` would then spend 10 ms in one glob. So each
set of positions met gets a number and each (number, character) step is remembered: the machine
becomes a DFA built lazily, one dictionary lookup per character once warm. Past ``MAX_STATES``
remembered sets (a pattern built to blow up) it goes on with plain sets for the rest of the value.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from . import budget

# (kind, data): ("lit", char) | ("any", "") | ("class", regex) | ("star", "" or the char it stops at)
Atom = tuple[str, str]
MAX_STATES = 4096
# The budget's clock is consulted between chunks: a remembered step is about 0.1 us.
_CHUNK = 2048


class _Machine:
    def __init__(self, atoms: list[Atom]) -> None:
        self.atoms, self.end = atoms, len(atoms)
        self.classes = {
            i: re.compile(body, re.DOTALL) for i, (kind, body) in enumerate(atoms) if kind == "class"
        }
        self.sets: list[frozenset[int]] = []
        self.ids: dict[frozenset[int], int] = {}
        self.steps: list[dict[str, int]] = []
        self.lock = threading.Lock()  # only around adding states: web threads share compiled globs
        self._register(self.closure({0}))  # state 0: the start
        self.dead = self._register(frozenset())

    def closure(self, states: set[int]) -> frozenset[int]:
        atoms, end = self.atoms, self.end
        for i in sorted(states):  # a star may match nothing: the position after it is live too
            while i < end and atoms[i][0] == "star":
                i += 1
                states.add(i)
        return frozenset(states)

    def step_set(self, states: frozenset[int], c: str) -> frozenset[int]:
        out: set[int] = set()
        for i in states:
            if i == self.end:
                continue
            kind, data = self.atoms[i]
            if kind == "star":
                if c != data:
                    out.add(i)
            elif kind == "any" or (kind == "lit" and c == data):
                out.add(i + 1)
            elif kind == "class" and self.classes[i].fullmatch(c) is not None:
                out.add(i + 1)
        return self.closure(out)

    def _register(self, states: frozenset[int]) -> int:
        known = self.ids.get(states)
        if known is None:
            known = self.ids[states] = len(self.sets)
            self.sets.append(states)
            self.steps.append({})
        return known

    def advance(self, state: int, c: str) -> int | None:
        """The state after ``c``, remembered; None once the machine is full."""
        states = self.step_set(self.sets[state], c)
        budget.spend(len(states) + 1)
        with self.lock:
            if states not in self.ids and len(self.sets) >= MAX_STATES:
                return None
            target = self._register(states)
            self.steps[state][c] = target
            return target

    def match(self, value: str) -> bool:
        deadline = budget.current()
        state, steps, dead = 0, self.steps, self.dead
        for start in range(0, len(value), _CHUNK):
            for offset, c in enumerate(value[start : start + _CHUNK]):
                target = steps[state].get(c)
                if target is None:
                    target = self.advance(state, c)
                    if target is None:
                        return self._simulate(self.sets[state], value[start + offset :])
                if target == dead:
                    return False
                state = target
            if deadline is not None:
                deadline.spend(_CHUNK // 16)
        return self.end in self.sets[state]

    def _simulate(self, states: frozenset[int], rest: str) -> bool:
        for c in rest:
            states = self.step_set(states, c)
            if not states:
                return False
            budget.spend(len(states))
        return self.end in states


def automaton_matcher(atoms: list[Atom]) -> Callable[[str], bool]:
    return _Machine(atoms).match
