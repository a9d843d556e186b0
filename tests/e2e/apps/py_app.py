"""A small application using the real sentry-sdk. Usage: py_app.py DSN SCENARIO [N]"""

import logging
import sys

import sentry_sdk

dsn, scenario = sys.argv[1], sys.argv[2]
sentry_sdk.init(dsn=dsn, release="shop@1.0.0", environment="e2e", transport_queue_size=5000)


def load_cart(cart_id):
    raise KeyError(f"cart {cart_id} not found")


def checkout(cart_id):
    try:
        load_cart(cart_id)
    except KeyError as exc:
        raise RuntimeError("checkout failed") from exc


if scenario == "unhandled":
    sentry_sdk.set_user({"id": sys.argv[3] if len(sys.argv) > 3 else "u-1"})
    load_cart(17)
elif scenario == "chained":
    try:
        checkout(17)
    except RuntimeError:
        sentry_sdk.capture_exception()
elif scenario == "logged_message":
    logging.getLogger("payments").error(
        "Payment failed for user %s", sys.argv[3] if len(sys.argv) > 3 else 4711
    )
elif scenario == "rate_limited":
    # One event, wait for its answer, then more: after a 429 the SDK must drop them itself.
    for n in range(int(sys.argv[3])):
        try:
            load_cart(n)
        except KeyError:
            sentry_sdk.capture_exception()
        sentry_sdk.flush(timeout=10)
elif scenario == "many":
    for n in range(int(sys.argv[3])):
        try:
            load_cart(n)
        except KeyError:
            sentry_sdk.capture_exception()
elif scenario == "tiers":
    # N messages (at most 6), each its own issue (words, since grouping masks numbers), tagged
    # tier gold (even) or silver (odd), sent in order.
    for n, word in enumerate(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"][: int(sys.argv[3])]):
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("tier", "gold" if n % 2 == 0 else "silver")
            sentry_sdk.capture_message(f"stream message {word}")
        sentry_sdk.flush(timeout=10)
sentry_sdk.flush(timeout=60)
