"""Sends an error and a message with a known secret in every field. Usage: py_secrets.py DSN PREFIX

Runtime secrets are built from PREFIX (so this file does not contain them); the ones written out
below are secrets hard-coded in source, which must not survive in the stored source lines either.
"""

import sys

import sentry_sdk

P = sys.argv[2]


def add_request(event, hint):
    event["request"] = {
        "url": f"https://shop.example/checkout?token={P}-QS-07&page=2",
        "method": "POST",
        "query_string": f"api_key={P}-QS-11&page=2",
        "headers": {"Authorization": "Basic U0VDUkVULUhEUi0wOA==", "Cookie": f"session={P}-COOKIE-09"},
        "cookies": {"sessionid": f"{P}-COOKIE-15"},
        "data": {"password": f"{P}-FORM-10", "item": "book"},
        "env": {"REMOTE_ADDR": "10.1.2.3"},
    }
    return event


sentry_sdk.init(dsn=sys.argv[1], before_send=add_request, send_default_pii=True)
sentry_sdk.set_user({"id": "u-1", "email": "jane@example.com", "data": {"api_token": f"{P}-USER-01"}})
sentry_sdk.set_tag("api_key", f"{P}-TAG-02")
sentry_sdk.set_extra("password", f"{P}-EXTRA-03")
sentry_sdk.set_context("payment", {"card": "4111 1111 1111 1111", "token": f"{P}-CTX-04"})
sentry_sdk.add_breadcrumb(message=f"login with Bearer {P}-CRUMB-05", data={"authorization": f"{P}-CRUMB-06"})


def charge(password, card_number):
    db_url = "postgres://admin:SECRET-URLPW-12@db.internal/shop"  # noqa: F841 - hard-coded in source
    raise ValueError(f"charge failed, retry with Bearer {P}-EXC-13")


try:
    charge(f"{P}-VAR-14", "4111111111111111")
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.capture_message(f"token refresh: Bearer {P}-MSG-16")
sentry_sdk.flush(timeout=30)
