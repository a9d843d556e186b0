"""Glob matching for fingerprint and stack-trace rules: same answers as the regex translation, in
time linear in the value whatever the pattern (rules are written by tenants, run on shared workers)."""

from __future__ import annotations

import re
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issues.grouping.glob import compile_glob, glob_to_regex

PATTERN_PARTS = st.sampled_from(["*", "**", "?", "a", "b", "/", "[ab]", "[!a]", "x", "["])


def _regex_matches(pattern: str, value: str, doublestar: bool) -> bool:
    return re.match(glob_to_regex(pattern, doublestar) + r"\Z", value, re.DOTALL) is not None


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(PATTERN_PARTS, max_size=8),
    value=st.text(alphabet="abx/[", max_size=12),
    doublestar=st.booleans(),
)
def test_every_matcher_agrees_with_the_regex_translation(
    parts: list[str], value: str, doublestar: bool
) -> None:
    pattern = "".join(parts)
    assert compile_glob(pattern, doublestar)(value) == _regex_matches(pattern, value, doublestar)


@pytest.mark.parametrize("doublestar", [False, True])
def test_a_pattern_built_to_backtrack_answers_at_once(doublestar: bool) -> None:
    """The rule from the issue pinned a worker for over a minute on one 3,000-character value. The
    alarm only turns a hang into a failure; the figure itself is for bench/, not for this test."""

    def hang(signum, frame):
        raise TimeoutError("glob matching hung")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(10)
    try:
        matcher = compile_glob("*a*a*a*a*a*a*a*a?b", doublestar)
        assert matcher("a" * 3000) is False
        assert matcher("a" * 3000 + "xb") is True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("parse", ["parse_fingerprint_rules", "parse_enhancements"])
def test_rule_text_and_rule_lines_are_bounded(parse: str) -> None:
    import issues.grouping as grouping

    parser = getattr(grouping, parse)
    with pytest.raises(grouping.RuleSyntaxError) as too_long_line:
        parser("\n" + "message:" + "*a" * 600 + " -> x")
    assert too_long_line.value.line == 2
    with pytest.raises(grouping.RuleSyntaxError):
        parser("\n".join(["error.type:X -> y"] * 5000))


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(PATTERN_PARTS, min_size=2, max_size=8),
    value=st.text(alphabet="abx/[", max_size=30),
    doublestar=st.booleans(),
)
def test_the_automaton_agrees_when_it_runs_out_of_remembered_states(
    parts: list[str], value: str, doublestar: bool
) -> None:
    """Past MAX_STATES sets of positions the automaton stops remembering and steps plain sets."""
    import issues.grouping.glob_automaton as automaton
    from issues.grouping.glob import _atoms

    pattern = "".join(parts) + "*a*"
    saved = automaton.MAX_STATES
    automaton.MAX_STATES = 3
    try:
        matcher = automaton.automaton_matcher(_atoms(pattern, doublestar))
        assert matcher(value) == _regex_matches(pattern, value, doublestar)
        assert matcher(value) == _regex_matches(pattern, value, doublestar)  # warm, as full as it gets
    finally:
        automaton.MAX_STATES = saved
