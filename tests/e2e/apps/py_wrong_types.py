"""The real sentry-sdk sending an event whose user a before_send hook set to a string (Sentry keeps
such events and records the invalid value). Usage: py_wrong_types.py DSN"""

import sys

import sentry_sdk


def spoil_user(event, hint):
    event["user"] = "bob"
    return event


sentry_sdk.init(dsn=sys.argv[1], release="shop@1.0.0", environment="e2e", before_send=spoil_user)
sentry_sdk.set_user({"id": "u-1"})
try:
    {"id": 1}["sku"]
except KeyError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=60)
