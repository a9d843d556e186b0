"""Light, steady load with the real sentry-sdk: one error every INTERVAL seconds until STOP_FILE exists.
Usage: py_trickle.py DSN INTERVAL STOP_FILE. Prints "EVENT_ID ANSWER" per event sent, ANSWER being the
HTTP status LightTrace gave or the name of the network error, so a test can compare with what it stored."""

import os
import sys
import time

import sentry_sdk
from sentry_sdk.transport import HttpTransport

dsn, interval, stop_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]


class RecordingTransport(HttpTransport):
    """The SDK's own HTTP transport; it only notes the answer to each event envelope."""

    current_envelope = None

    def _send_request(self, body, headers, endpoint_type, envelope=None):
        self.current_envelope = envelope
        return super()._send_request(body, headers, endpoint_type, envelope)

    def _request(self, method, endpoint_type, body, headers):
        event = self.current_envelope.get_event() if self.current_envelope else None
        try:
            response = super()._request(method, endpoint_type, body, headers)
        except Exception as exc:
            if event:
                print(event["event_id"], type(exc).__name__, flush=True)
            raise
        if event:
            print(event["event_id"], response.status, flush=True)
        return response


def process_order(order_id):
    raise ValueError(f"order {order_id} has no lines")


sentry_sdk.init(dsn=dsn, transport=RecordingTransport, release="shop@2.0.0", send_client_reports=False)
number = 0
while not os.path.exists(stop_file):
    number += 1
    try:
        process_order(number)
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    time.sleep(interval)
