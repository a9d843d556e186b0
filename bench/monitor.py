"""Background poller of a running stack for the ingest benchmark: queue depth and lag (/_health/), the
events counted by the API, and Redis memory, once per interval."""

from __future__ import annotations

import threading
import time

from stacks import BENCH_REDIS_DB, Stack, redis_base


class Monitor:
    """Every second: /_health/ (queue depth and lag), the API's event count, Redis memory."""

    def __init__(self, stack: Stack, t0: float, interval: float = 1.0):
        self.stack, self.t0, self.interval = stack, t0, interval
        self.rows: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._redis = None
        if stack.kind == "postgres":
            import redis

            self._redis = redis.Redis.from_url(f"{redis_base()}/{BENCH_REDIS_DB}", socket_timeout=2)

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.time()
            row: dict = {"t": round(started - self.t0, 2)}
            try:
                health = self.stack.health()
                row.update(depth=health.get("queue_depth"), lag_s=health.get("queue_lag_seconds"))
                row["health_ms"] = round((time.time() - started) * 1000, 1)
            except Exception as exc:  # noqa: BLE001 - recorded in the series
                row["health_error"] = type(exc).__name__
            try:
                row["stored"] = self.stack.counted()
            except Exception as exc:  # noqa: BLE001
                row["api_error"] = type(exc).__name__
            if self._redis is not None:
                try:
                    row["redis_mb"] = round(self._redis.info("memory")["used_memory"] / 1e6, 1)
                except Exception:  # noqa: BLE001
                    pass
            self.rows.append(row)
            self._stop.wait(max(0.05, self.interval - (time.time() - started)))
