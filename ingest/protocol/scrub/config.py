"""What the scrubber is configured with, and the rule ids it writes into ``_meta`` (Sentry's)."""

from __future__ import annotations

from dataclasses import dataclass

FILTERED = "[Filtered]"
FILTERED_LEN = len(FILTERED)

RULE_PASSWORD = "@password:filter"
RULE_USER = "@usersecret:filter"
RULE_IP = "@ip:filter"
RULE_CARD = "@creditcard:filter"
RULE_BEARER = "@bearer:filter"
RULE_URLAUTH = "@urlauth:filter"


@dataclass(frozen=True)
class ScrubConfig:
    enabled: bool = True
    extra_fields: tuple[str, ...] = ()
    safe_fields: tuple[str, ...] = ()
    scrub_ip_addresses: bool = False


DEFAULT_SCRUB_CONFIG = ScrubConfig()
