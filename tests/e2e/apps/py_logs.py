"""Structured logs through the real sentry-sdk: `enable_logs=True`, `sentry_sdk.logger`, the stdlib
logging integration and the WSGI integration (each request its own trace).
Usage: py_logs.py DSN SCENARIO [N]

  requests  - two requests of the same user through SentryWsgiMiddleware: /checkout logs and then
              fails (an error event of its trace), /browse only logs (another trace)
  typed     - records with integer, double, boolean and string parameters and attributes
  secrets   - records carrying secrets in body, template, parameters and attributes
  flood N   - N info records (the log_item quota)
"""

import io
import logging
import sys
from wsgiref.util import setup_testing_defaults

import sentry_sdk
from sentry_sdk import logger as sentry_logger
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

dsn, scenario = sys.argv[1], sys.argv[2]
sentry_sdk.init(
    dsn=dsn, release="shop@2.0.0", environment="e2e", enable_logs=True, send_default_pii=True,
    traces_sample_rate=1.0, transport_queue_size=5000,
)  # fmt: skip
shop_log = logging.getLogger("shop")


def app(environ, start_response):
    sentry_sdk.set_user({"id": "42", "email": "alice@example.com", "username": "alice"})
    if environ["PATH_INFO"] == "/checkout":
        sentry_logger.info("Checkout started for cart {cart_id}", cart_id=1001)
        shop_log.warning("Stock low for %s", "SKU-7")
        raise RuntimeError("payment gateway timed out")
    sentry_logger.info("Browsing catalog page {page}", page=3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def request(path):
    environ = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    try:
        body = SentryWsgiMiddleware(app)(environ, lambda *args: None)
        b"".join(body)
    except RuntimeError:
        pass  # reported by the middleware as an error event of this request's trace


if scenario == "requests":
    request("/checkout")
    request("/browse")
elif scenario == "typed":
    sentry_logger.warning(
        "Order {order_id} total {amount} paid {paid} by {customer}",
        order_id=42, amount=9.5, paid=True, customer="bob",
        attributes={"warehouse": "ber-1", "items": 3, "express": False, "weight": 1.25},
    )  # fmt: skip
    sentry_logger.error("Payment declined", attributes={"retry": 2, "provider": "stripe"})
    sentry_logger.debug("Cache warmed", attributes={"retry": 0})
elif scenario == "secrets":
    sentry_logger.error(
        "Login for {who} with Authorization: Bearer SECRET-BEARER-01 failed",
        who="carol", password="SECRET-PASSWORD-02",
        attributes={"api_key": "SECRET-APIKEY-03", "card": "4111 1111 1111 1111", "db": "postgres://u:SECRET-URL-04@db/x"},
    )  # fmt: skip
elif scenario == "flood":
    for n in range(int(sys.argv[3])):
        sentry_logger.info("Flood record {n}", n=n)
sentry_sdk.flush(timeout=60)
