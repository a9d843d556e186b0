"""Stored payload encoding is safe to use from several threads at once (the embedded worker uses two)."""

import threading

from issues.payload import decode_event_data, encode_event_data


def test_encode_and_decode_from_many_threads():
    failures = []

    def work(n: int):
        for i in range(300):
            event = {"n": n, "i": i, "text": "x" * (100 + (n * 7 + i) % 3000)}
            try:
                assert decode_event_data(encode_event_data(event)) == event
            except Exception as exc:  # collected, so the assertion below names it
                failures.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
