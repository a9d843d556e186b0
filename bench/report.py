"""Text output of the ingest benchmark: targets and verdicts, tables, the load/CPU/queue tables of a
scenario, and the scan of a serve log for problem lines. No state: plain functions of the figures."""

from __future__ import annotations

import math
import re

TARGETS = {
    "processed_pg": (">=", 1000, "ev/s"),
    "processed_embedded": (">=", 400, "ev/s"),
    "accepted_32_paused": (">=", 2000, "ev/s"),
    "p99_32_paused": ("<=", 50, "ms"),
    "p99_32_embedded": ("<=", 50, "ms"),
    "accepted_32_running": (">=", 1000, "ev/s"),
    "p50_1conn": ("<=", 2, "ms"),
    "cpu_web": ("<=", 0.5, "ms/ev"),
    "cpu_worker": ("<=", 1.0, "ms/ev"),
    "rss_embedded": ("<=", 200, "MB"),
    "disk": ("<=", 5, "KB/ev"),
    # soak: growth of each process kind's RSS from the first tenth of the soak to its end
    "soak_rss_growth": ("<=", 10, "%"),
    # scaleout: processed/s with 2 web + 2 worker processes over 1 web + 1 worker
    "scaleout_ratio": (">=", 1.6, "x"),
}


def verdict(name: str, value: float | None) -> str:
    op, target, unit = TARGETS[name]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"target {op} {target:g} {unit}: n/a"
    ok = value >= target if op == ">=" else value <= target
    return f"target {op} {target:g} {unit}: {'PASS' if ok else 'MISS'}"


def exact_verdict(ok: bool | None) -> str:
    """Verdict of a check that must hold exactly (counts)."""
    return "target exact: n/a" if ok is None else f"target exact: {'PASS' if ok else 'MISS'}"


def mb(n: float) -> float:
    return n / 1e6


def table(headers: list[str], rows: list[list], indent: str = "  ") -> str:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            indent
            + "  ".join(
                c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(c) -> str:
    if isinstance(c, float):
        if math.isnan(c):
            return "n/a"
        return f"{c:,.0f}" if abs(c) >= 1000 else f"{c:.3g}" if abs(c) < 10 else f"{c:.1f}"
    return str(c)


def scan_log(text: str) -> dict[str, int]:
    """Counts of the problem lines of a serve log (warnings, errors, exceptions, exits)."""
    counts: dict[str, int] = {}
    noise = (
        "No hostname was supplied",
        "SecurityWarning",
        "superuser privileges",
        "_warn_or_raise_security_error",
    )
    lines = text.splitlines()
    for line in lines:
        if any(n in line for n in noise):
            continue
        hit = re.search(r"(WARNING|ERROR|CRITICAL)\s+(\S+)\s+(.*)", line)
        if hit:
            key = f"{hit.group(1)} {hit.group(2)} {hit.group(3)[:110]}"
        elif (
            re.match(r"^\w+(\.\w+)*(Error|Exception|Fault)\b", line)
            or "exited with" in line
            or "Segmentation" in line
        ):
            key = line.strip()[:140]
        else:
            continue
        key = re.sub(r"\d{4,}", "N", key)
        counts[key] = counts.get(key, 0) + 1
    return counts


def load_rows(phases: list[dict]) -> str:
    rows = []
    for p in phases:
        other = {k: v for k, v in p["statuses"].items() if k != "200"}
        lat = p["latency"]
        rows.append([
            p["concurrency"], p["sent"], p["ok"], ", ".join(f"{k}: {v}" for k, v in other.items()) or "-",
            sum(p["errors"].values()) or "-", round(p["elapsed_s"], 1), p["accepted_per_s"],
            lat["p50_ms"], lat["p90_ms"], lat["p99_ms"], lat["max_ms"],
            f"{p['cpu_s']:.1f}s = {100 * p['cpu_share_of_one_core']:.0f}% core",
        ])  # fmt: skip
    text = table(["conns", "sent", "200", "other status", "errors", "secs", "accepted/s", "p50 ms",
                  "p90 ms", "p99 ms", "max ms", "load generator CPU"], rows)  # fmt: skip
    for p in phases:
        if p["errors"]:
            text += f"\n  errors at {p['concurrency']} conns: {p['errors']}"
    return text


def cpu_rows(window: dict, events: int, roles: list[str], stack=None) -> tuple[str, dict]:
    out = {}
    rows = []
    for role in roles:
        cpu = window["cpu_s"].get(role, 0.0)
        per = cpu * 1000 / events if events else float("nan")
        out[role] = {"cpu_s": cpu, "ms_per_event": per, "rss_idle_mb": mb(window["rss_start"].get(role, 0)),
                     "rss_peak_mb": mb(window["rss_peak"].get(role, 0)), "pss_idle_mb": mb(window["pss_start"].get(role, 0)),
                     "pss_peak_mb": mb(window["pss_peak"].get(role, 0))}  # fmt: skip
        target = (
            verdict("cpu_web", per)
            if role == "web"
            else verdict("cpu_worker", per)
            if role == "worker"
            else ""
        )
        rows.append([role, cpu, per, out[role]["rss_idle_mb"], out[role]["rss_peak_mb"],
                     out[role]["pss_idle_mb"], out[role]["pss_peak_mb"], target])  # fmt: skip
    attributed = sum(window["cpu_s"].values())
    out["machine"] = {
        "busy_cpu_s": window["machine_busy_s"],
        "unattributed_cpu_s": window["machine_busy_s"] - attributed,
    }
    text = table(
        ["process", "CPU s", "ms/event", "RSS idle MB", "RSS peak MB", "PSS idle MB", "PSS peak MB", ""],
        rows,
    )
    text += (f"\n  whole machine: {window['machine_busy_s']:.1f} CPU-s busy in {window['seconds']:.1f}s "
             f"({window['machine_busy_s'] / window['seconds'] * 100 if window['seconds'] else 0:.0f}% of one core); "
             f"not attributed to the processes above: {out['machine']['unattributed_cpu_s']:.1f} CPU-s")  # fmt: skip
    if stack is not None and window.get("counter"):
        ours = window["counter"] * stack.poll_cost_s
        out["web_cpu_for_bench_polls_s"] = ours
        text += (f"\n  web CPU above includes ~{ours:.2f}s for this benchmark's {window['counter']} polls of /_health/ and the "
                 f"issues API ({stack.poll_cost_s * 1000:.1f} ms each, measured idle) = {ours * 1000 / max(1, events):.3f} ms/event")  # fmt: skip
    others = window.get("other_processes") or []
    out["machine"]["other_processes"] = others
    if others:
        text += "\n  other processes busy meanwhile (not LightTrace, not this benchmark): " + "; ".join(
            f"{cpu:.1f}s {cmd}" for cmd, cpu in others
        )
    return text, out


def series(rows: list[dict], max_points: int = 40) -> str:
    """The Monitor's rows (queue depth, lag, events counted ...) thinned to at most ~max_points lines."""
    if not rows:
        return "  (no samples)"
    failed = [r for r in rows if "health_error" in r and "api_error" in r]
    shown = [r for r in rows if not ("health_error" in r and "api_error" in r)] or rows[:1]
    step = max(1, math.ceil(len(shown) / max_points))
    picked = shown[::step]
    if picked[-1] is not shown[-1]:
        picked.append(shown[-1])
    body = _series_table(picked)
    errors = [r for r in rows if "health_error" in r or "api_error" in r]
    if errors:
        body += (f"\n  {len(errors)} of {len(rows)} samples had a failed /_health/ or API poll"
                 f" ({len(failed)} with both failing, not shown; first at t={errors[0]['t']}: {errors[0]})")  # fmt: skip
    return body


def _series_table(picked: list[dict]) -> str:
    rows = picked
    if picked[-1] is not rows[-1]:
        picked.append(rows[-1])
    cols = ["t", "depth", "lag_s", "stored", "redis_mb", "health_ms"]
    present = [c for c in cols if any(c in r for r in picked)]
    body = table(
        present,
        [[r.get(c, "-") if not isinstance(r.get(c), float) else r[c] for c in present] for r in picked],
    )
    errors = [r for r in rows if "health_error" in r or "api_error" in r]
    if errors:
        body += f"\n  {len(errors)} of {len(rows)} samples had a failed /_health/ or API poll (e.g. t={errors[0]['t']}: {errors[0]})"
    return body
