"""Errors raised by the rule parsers of the grouping engine."""

from __future__ import annotations


class RuleSyntaxError(ValueError):
    """A fingerprint or stack-trace rule could not be parsed.

    ``line`` is 1-based and points at the offending line of the rule text, so a
    settings page can show the message next to it.
    """

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")
