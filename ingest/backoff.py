"""How a worker behaves while draining fails (database or Redis down, a bug): it waits longer
between attempts, and it says so without flooding the log."""

from __future__ import annotations

import logging
import time


class Backoff:
    """After a failure the next attempt waits `first` seconds, doubling up to `longest`; one success
    resets it. `longest` stays short so processing resumes within seconds of the database returning."""

    def __init__(self, first: float = 0.5, longest: float = 5.0) -> None:
        self.first, self.longest = first, longest
        self.delay = 0.0
        self.not_before = 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.not_before

    def failed(self) -> None:
        self.delay = min(self.longest, self.delay * 2 or self.first)
        self.not_before = time.monotonic() + self.delay

    def succeeded(self) -> None:
        self.delay = 0.0
        self.not_before = 0.0


class FailureLog:
    """One line per kind of failure (exception type) per interval, with its traceback; repeats within
    the interval are only counted and reported with the next line, or when it works again."""

    def __init__(self, logger: logging.Logger, what: str, interval: float = 60.0) -> None:
        self.logger, self.what, self.interval = logger, what, interval
        self._kinds: dict[str, list] = {}  # kind -> [time of its last line, repeats since]

    def failed(self, exc: BaseException, retry_in: float | None = None) -> None:
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        now = time.monotonic()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen[0] < self.interval:
            seen[1] += 1
            return
        repeats = f" ({seen[1]} more times since the last report)" if seen and seen[1] else ""
        self._kinds[kind] = [now, 0]
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        retry = f"; next attempt in {retry_in:.1f} s" if retry_in is not None else ""
        self.logger.error(
            "%s failed: %s: %s%s%s", self.what, type(exc).__name__, message, repeats, retry, exc_info=exc
        )

    def recovered(self) -> None:
        if not self._kinds:
            return
        repeats = sum(seen[1] for seen in self._kinds.values())
        kinds = ", ".join(kind.rsplit(".", 1)[-1] for kind in sorted(self._kinds))
        self._kinds.clear()
        self.logger.warning("%s works again (after %s; %d repeats not logged)", self.what, kinds, repeats)
