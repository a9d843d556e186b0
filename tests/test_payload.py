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


def test_codecs_per_thread_stay_bounded_with_many_dictionaries():
    import zstandard

    from issues import payload

    samples = [f'{{"n": {i}, "text": "{"order line " * (i % 7)}"}}'.encode() for i in range(400)]
    for n in range(payload._MAX_PER_THREAD + 4):
        dictionary = zstandard.train_dictionary(2048, samples[n:] + samples[:n], dict_id=1000 + n)
        encode_event_data({"n": n}, dictionary)
    assert 0 < len(payload._local.compressors) <= payload._MAX_PER_THREAD
