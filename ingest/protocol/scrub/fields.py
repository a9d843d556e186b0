"""Scrubbing a flat record of named text fields (user feedback: name, email, comments)."""

from __future__ import annotations

from .config import DEFAULT_SCRUB_CONFIG, FILTERED, ScrubConfig
from .keys import IP, PLAIN, SAFE, classifier_for
from .patterns import scrub_text


def scrub_fields(fields: dict[str, str], config: ScrubConfig = DEFAULT_SCRUB_CONFIG) -> dict[str, str]:
    """A copy with the event rules applied: a field whose name the project marks sensitive is
    `[Filtered]`, every other gets the in-string patterns (tokens, URL passwords, card numbers,
    `password=...` fragments). Safe fields stay as they are; IP rules do not apply to free text."""
    if not config.enabled:
        return dict(fields)
    cls = classifier_for(config)
    scrubbed = {}
    for name, value in fields.items():
        code = cls.classify(name)
        if code == SAFE or not value:
            scrubbed[name] = value
        elif code not in (PLAIN, IP):
            scrubbed[name] = FILTERED
        else:
            found = scrub_text(value, cls)
            scrubbed[name] = value if found is None else found[0]
    return scrubbed
