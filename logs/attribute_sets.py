"""Which attributes of a log record are stored once per distinct set rather than in every record.

The SDKs repeat the same low-variety attributes in every record a process sends (its release,
environment, SDK name and version, server address, and the message template and code location of
one log call):
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
        # Per call site and process (sentry-sdk's logging integration sends them with every record):
        "code.file.path",
        "code.function.name",
        "code.line.number",
        "logger.name",
        "process.pid",
        "process.executable.name",
        "process.runtime.name",
        "process.runtime.version",
    }
)
# Per process, never per record (unlike `sentry.message.parameter.*` or `sentry.timestamp.*`).
SHARED_PREFIXES = ("sentry.sdk.", "telemetry.sdk.", "instrumentation.scope.")
# `user.id` has a column of its own (logs/backends/sql.py): a string that fits it is kept there only.
USER_ID_KEY = "user.id"
USER_ID_MAX = 200
# A log call's template parameters: a value per record (an order number), already in the body's
# text. The record keeps them apart without this prefix: out of the attributes' GIN index, where
# each distinct value cost an index entry (~28 bytes a record), and 25 bytes of key shorter.
PARAMETER_PREFIX = "sentry.message.parameter."


def is_shared(key: str) -> bool:
    return key in SHARED_KEYS or key.startswith(SHARED_PREFIXES)


Attributes = dict[str, AttributeValue]


def split_attributes(attributes: Attributes) -> tuple[Attributes, Attributes, Attributes]:
    """(shared, own, parameters): the attributes stored once per distinct set; those the record's
    attributes column keeps (not a string `user.id`, which its `user_id` column holds); and the
    template parameters, by their name without the prefix."""
    shared: Attributes = {}
    own: Attributes = {}
    parameters: Attributes = {}
    for key, value in attributes.items():
        if is_shared(key):
            shared[key] = value
        elif parameter_name(key):
            parameters[parameter_name(key)] = value
        else:
            own[key] = value
    if user_id_in_column(own.get(USER_ID_KEY)):
        del own[USER_ID_KEY]
    return shared, own, parameters


def parameter_name(key: str) -> str:
    """The parameter's name of a `sentry.message.parameter.*` key, "" for any other key."""
    return key[len(PARAMETER_PREFIX) :] if key.startswith(PARAMETER_PREFIX) else ""


def user_id_in_column(value: AttributeValue | None) -> bool:
    return isinstance(value, str) and len(value) <= USER_ID_MAX


def set_id(shared: dict[str, AttributeValue]) -> int | None:
    """A signed 64-bit id from the set's canonical JSON (types included: 1, 1.0 and "1" differ)."""
    if not shared:
        return None
    digest = hashlib.blake2b(orjson.dumps(shared, option=orjson.OPT_SORT_KEYS), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
