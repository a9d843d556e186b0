"""The ingest benchmark's closing summary: one row per figure with a target, from the results dict."""

from __future__ import annotations

import math

from report import table, verdict


class Rows:
    def __init__(self) -> None:
        self.rows: list[list] = []

    def add(self, label: str, name: str, value, unit: str, where: str) -> None:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        text = "n/a" if missing else f"{value:,.3g}" if value < 10 else f"{value:,.0f}"
        self.rows.append([label, text, unit, verdict(name, value), where])

    def check(self, label: str, ok: bool | None, value: str, where: str) -> None:
        """A figure that must hold exactly (counts): PASS or MISS, no tolerance."""
        target = "target exact: n/a" if ok is None else f"target exact: {'PASS' if ok else 'MISS'}"
        self.rows.append([label, value, "", target, where])


def _pg_running(out: Rows, x: dict) -> None:
    out.add("processed, PG+Redis", "processed_pg", x["processed_per_s"], "ev/s", "pg-running")
    out.add("accepted at 32 conns, workers running", "accepted_32_running", x["phase"]["accepted_per_s"],
            "ev/s", "pg-running")  # fmt: skip
    out.add("CPU web", "cpu_web", x["cpu"]["web"]["ms_per_event"], "ms/ev", "pg-running")
    out.add("CPU worker", "cpu_worker", x["cpu"]["worker"]["ms_per_event"], "ms/ev", "pg-running")
    out.add("disk (PostgreSQL)", "disk", x["disk"]["bytes_per_event"] / 1000, "KB/ev", "pg-running")


def _pg_paused(out: Rows, x: dict) -> None:
    p32 = next((p for p in x["phases"] if p["concurrency"] == 32), None)
    if p32:
        out.add("accepted at 32 conns, workers paused", "accepted_32_paused", p32["accepted_per_s"], "ev/s",
                "pg-paused")  # fmt: skip
        out.add(
            "p99 at 32 conns, workers paused", "p99_32_paused", p32["latency"]["p99_ms"], "ms", "pg-paused"
        )
    out.add("backlog drain, PG+Redis", "processed_pg", x["drained_per_s"], "ev/s", "pg-paused")
    out.add("CPU worker (draining)", "cpu_worker", x["cpu_drain"]["worker"]["ms_per_event"], "ms/ev",
            "pg-paused")  # fmt: skip
    out.add("CPU web (accepting only)", "cpu_web", x["cpu_load"]["web"]["ms_per_event"], "ms/ev", "pg-paused")


def _embedded(out: Rows, x: dict, where: str) -> None:
    if not x["exact"]:
        nan = float("nan")
        x = {**x, "cpu": {"web": {"ms_per_event": nan}, "worker": {"ms_per_event": nan}}}
    label = "processed, embedded" + (", 1-thread worker" if where == "embedded-1thread" else "")
    out.add(label, "processed_embedded", x["phases"][-1]["processed_per_s"], "ev/s", where)
    out.add(
        "p99 at 32 conns, worker running",
        "p99_32_embedded",
        x["phases"][-1]["latency"]["p99_ms"],
        "ms",
        where,
    )
    out.add("RSS web+worker+scheduler peak", "rss_embedded", x["rss_peak_mb"], "MB", where)
    if "rss_settled_mb" in x.get("hostile", {}):
        out.add(
            "RSS after hostile traffic, settled", "rss_embedded", x["hostile"]["rss_settled_mb"], "MB", where
        )
    out.add("CPU web (embedded)", "cpu_web", x["cpu"]["web"]["ms_per_event"], "ms/ev", where)
    out.add("CPU worker (embedded)", "cpu_worker", x["cpu"]["worker"]["ms_per_event"], "ms/ev", where)
    out.add("disk (SQLite file + WAL)", "disk", x["disk"]["bytes_per_event"] / 1000, "KB/ev", where)


def _latency(out: Rows, x: dict) -> None:
    out.add("p50 at 1 connection", "p50_1conn", x["phases"][0]["latency"]["p50_ms"], "ms", "latency")


def _identical(out: Rows, x: dict) -> None:
    out.add("processed, identical events", "processed_pg", x["processed_per_s"], "ev/s", "identical")
    seen, users = (("n/a" if v is None else f"{v:,}") for v in (x["times_seen"], x["user_count"]))
    out.check("one issue; times_seen = 200s; user_count = users sent", x["exact"],
              f"{x['issues_sql']} / {seen} / {users}", "identical")  # fmt: skip


def _soak(out: Rows, x: dict) -> None:
    out.check(f"soak {x['seconds']:.0f}s at {x['rate']:,.0f} ev/s: accepted = processed", x["exact"],
              f"{x['phase']['ok']:,} / {x['processed']:,}", "soak")  # fmt: skip
    out.add("soak: RSS growth, worst of web/worker/scheduler", "soak_rss_growth", x["rss"]["worst_growth_percent"],
            "%", "soak")  # fmt: skip


def _scaleout(out: Rows, x: dict) -> None:
    one, two = x["layouts"][0], x["layouts"][-1]
    out.add(f"processed/s, {two['web']}+{two['workers']} over {one['web']}+{one['workers']} web+worker procs",
            "scaleout_ratio", x["ratio"], "x", "scaleout")  # fmt: skip
    out.check("scaleout: stored = 200s in both layouts", x["exact"],
              " / ".join(f"{y['issues_event_rows']:,}" for y in x["layouts"]), "scaleout")  # fmt: skip


def summary_text(r: dict) -> str:
    """The summary table and, below it, the scenarios that failed or whose counts did not add up."""
    out = Rows()
    figures = {
        "pg-running": _pg_running,
        "pg-paused": _pg_paused,
        "embedded": lambda out, x: _embedded(out, x, "embedded"),
        "embedded-1thread": lambda out, x: _embedded(out, x, "embedded-1thread"),
        "latency": _latency,
        "identical": _identical,
        "scaleout": _scaleout,
        "soak": _soak,
    }
    for name, add in figures.items():
        if name in r and "error" not in r[name]:
            add(out, r[name])
    lines = ["\n=== summary ===", table(["figure", "value", "unit", "target", "scenario"], out.rows)]
    for name, x in r.items():
        if "error" in x:
            lines.append(f"  {name}: FAILED: {x['error']}")
        elif x.get("exact") is False:
            lines.append(
                f"  {name}: NOT every event answered 200 was stored (see the scenario's check and log lines)"
            )
    return "\n".join(lines)
