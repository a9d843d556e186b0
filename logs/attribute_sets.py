"""Which attributes of a log record are stored once per distinct set rather than in every record.

The SDKs repeat the same low-variety attributes in every record a process sends (its release,
environment, SDK name and version, server address, and the message template of one log call):
about 220 of a typical record's 370 bytes of attributes. The PostgreSQL store keeps each distinct
set of them once, keyed by its hash, and the record keeps the 8-byte id. Whether a key is shared
depends on the key only, so a search knows where to look for it. Pure: no Django (bench/ reads it).
"""

from __future__ import annotations

import hashlib

import orjson

from .query.attributes import AttributeValue

SHARED_KEYS = frozenset(
    {
        "sentry.release",
        "sentry.environment",
        "sentry.message.template",
        "sentry.origin",
        "sentry.platform",
        "server.address",
        "release",
        "environment",
        "service.name",
        "service.version",
    }
)
# Per process, never per record (unlike `sentry.message.parameter.*` or `sentry.timestamp.*`).
SHARED_PREFIXES = ("sentry.sdk.", "telemetry.sdk.", "instrumentation.scope.")
# `user.id` has a column of its own (logs/backends/sql.py): a string that fits it is kept there only.
USER_ID_KEY = "user.id"
USER_ID_MAX = 200


def is_shared(key: str) -> bool:
    return key in SHARED_KEYS or key.startswith(SHARED_PREFIXES)


def split_attributes(
    attributes: dict[str, AttributeValue],
) -> tuple[dict[str, AttributeValue], dict[str, AttributeValue]]:
    """(shared, own): the attributes stored once per distinct set, and those the record's attributes
    column keeps (not a string `user.id`, which its `user_id` column holds)."""
    shared: dict[str, AttributeValue] = {}
    own: dict[str, AttributeValue] = {}
    for key, value in attributes.items():
        (shared if is_shared(key) else own)[key] = value
    if user_id_in_column(own.get(USER_ID_KEY)):
        del own[USER_ID_KEY]
    return shared, own


def user_id_in_column(value: AttributeValue | None) -> bool:
    return isinstance(value, str) and len(value) <= USER_ID_MAX


def set_id(shared: dict[str, AttributeValue]) -> int | None:
    """A signed 64-bit id from the set's canonical JSON (types included: 1, 1.0 and "1" differ)."""
    if not shared:
        return None
    digest = hashlib.blake2b(orjson.dumps(shared, option=orjson.OPT_SORT_KEYS), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
