"""The soak: PostgreSQL + Redis at a fixed share (80%) of the measured capacity for a long time.

Capacity is processed/s of pg-running when that ran in the same invocation, else measured briefly on
the soak's own stack (closed loop at 32 connections). The load generator then paces its sends at
share x capacity (bench/loadgen.py --rate) for `seconds`, cycling through pooled envelopes with a
fresh event_id each (--templates, bench/rekey.py). RSS of web, worker and scheduler and the queue are
sampled every few seconds; at the end the backlog drains and accepted (200 answers) must equal
processed (events counted by the API and issues_event rows) exactly, and RSS must stay flat: growth
from a tenth of the way in (minute 1 of 10) to the end of the load under the soak_rss_growth target.
LightTrace's retention pass (every 600 s) may trim issues above max_events_per_issue during a full
soak: rows plus the events it logged as deleted must then equal the 200 answers.
"""

from __future__ import annotations

import math
import time

from monitor import Monitor
from report import cpu_rows, load_rows, mb, table, verdict

ROLES = ("web", "worker", "scheduler")


def _nearest(items: list, key, value: float):
    return min(items, key=lambda item: abs(key(item) - value)) if items else None


class SoakScenario:
    def _capacity(self, stack, holder: dict, cfg: dict) -> tuple[float, str]:
        prior = self.results.get("scenarios", {}).get("pg-running") or {}
        if prior.get("exact") and math.isfinite(prior.get("processed_per_s", math.nan)):
            return prior["processed_per_s"], "processed/s of pg-running in this run"
        n = cfg["capacity_events"]
        m = self.measure_processed(stack, holder, 0, n, 32)
        self.say(load_rows([m["phase"]]))
        if not math.isfinite(m["processed_per_s"]) or m["counted"] != m["phase"]["ok"]:
            raise RuntimeError(f"capacity not measured: {m['counted']} of {m['phase']['ok']} counted")
        return m["processed_per_s"], f"measured on this stack: {n:,} events at 32 connections, closed loop"

    def scenario_soak(self) -> dict:
        cfg = self.config["soak"]
        seconds, share, conns, every = cfg["seconds"], cfg["share"], cfg["concurrency"], cfg["sample_every"]
        self.say(f"\n=== soak: PostgreSQL + Redis, {share:.0%} of measured capacity for {seconds:.0f}s, RSS and queue "
                 f"every {every:g}s, then drain and exact check ===")  # fmt: skip
        stack = self.new_pg_stack("soak")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder, interval=every)
        try:
            self.idle(sampler, stack=stack)
            capacity, source = self._capacity(stack, holder, cfg)
            rate = share * capacity
            count = int(rate * seconds)
            self.say(f"  capacity {capacity:,.0f} ev/s ({source}); soak rate {share:g} x that = {rate:,.1f} ev/s, "
                     f"{count:,} events over {conns} connections, {cfg['pool']:,} envelopes re-sent with fresh event_ids")  # fmt: skip
            time.sleep(2.0)
            base_counted, base_rows = stack.counted(), self.pg_rows(stack)
            s_start = sampler.sample()
            t0 = time.time()
            monitor = Monitor(stack, t0, interval=every).start()
            extra = ["--rate", f"{rate:.3f}", "--templates", str(cfg["pool"])]
            phase = self.drive(stack, 0, count, conns, seconds, holder, extra=extra)
            s_load_end = sampler.sample()
            t_load_end = time.time()
            done = self.wait_counted(stack, base_counted + phase["ok"])
            s_end = sampler.sample()
            monitor.stop()
            processed = done["counted"] - base_counted
            rows, deleted = self.rows_after_retention(stack, base_rows + phase["ok"])
            rows -= base_rows
            exact = processed == phase["ok"] == rows + deleted and not done["timed_out"]
            self.say(load_rows([phase]))
            self.say(f"  paced: target {rate:,.1f} ev/s, accepted {phase['accepted_per_s']:,.1f} ev/s over {phase['elapsed_s']:.0f}s; "
                     f"{phase['late_sends']:,} sends more than 100 ms behind their slot (worst {phase['late_max_s']:.2f}s)")  # fmt: skip
            self.say(f"  drained {done['t_counted'] - t_load_end:.1f}s after the last answer"
                     + (" (TIMED OUT waiting)" if done["timed_out"] else ""))  # fmt: skip
            trimmed = f" + {deleted:,} deleted by LightTrace's retention pass (serve log)" if deleted else ""
            self.say(f"  check: 200 answers {phase['ok']:,}, events counted by the API {processed:,}, issues_event rows {rows:,}"
                     f"{trimmed} -> {'EXACT' if exact else 'MISMATCH'}")  # fmt: skip
            offset = phase["first_send_unix"] - t0  # the load generator's start-up (reading, templates)
            rss = self._soak_rss(sampler, s_start.t + offset, s_load_end, seconds)
            self.say(table(["process", "RSS early MB", "RSS end MB", "RSS max MB", "growth %", ""],
                           [[r, x["early_mb"], x["end_mb"], x["max_mb"], x["growth_percent"],
                             verdict("soak_rss_growth", x["growth_percent"])] for r, x in rss["roles"].items()]))  # fmt: skip
            self.say(f"  RSS early = at t={rss['t_early']:.0f}s (a tenth of the soak; t from the first send), end = at "
                     f"t={rss['t_end']:.0f}s (end of the load); worst growth {rss['worst_growth_percent']:.1f}%  {verdict('soak_rss_growth', rss['worst_growth_percent'])}")  # fmt: skip
            self.say(self._soak_series(sampler, monitor.rows, phase, s_start.t + offset, offset, seconds))
            cpu_text, cpu = cpu_rows(sampler.window(s_start, s_end), processed,
                                     [*ROLES, "postgres", "redis", "loadgen", "bench"], stack)  # fmt: skip
            self.say("  CPU over the soak and its drain, per event:")
            self.say(cpu_text)
            return {"capacity_per_s": capacity, "capacity_source": source, "rate": rate, "seconds": seconds,
                    "phase": phase, "processed": processed, "issues_event_rows": rows, "retention_deleted": deleted, "exact": exact,
                    "timed_out": done["timed_out"], "rss": rss, "cpu": cpu, "queue_series": monitor.rows}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def _soak_rss(self, sampler, t_first_send: float, s_end, seconds: float) -> dict:
        """RSS per process kind a tenth of the way in vs at the end of the load (sampler clock)."""
        inside = [s for s in sampler.samples if t_first_send <= s.t <= s_end.t]
        early = _nearest(inside, lambda s: s.t, t_first_send + seconds / 10)
        roles = {}
        for role in ROLES:
            first, last = early.rss.get(role, 0), s_end.rss.get(role, 0)
            growth = (last - first) * 100 / first if first else math.nan
            roles[role] = {"early_mb": mb(first), "end_mb": mb(last), "growth_percent": growth,
                           "max_mb": mb(max(s.rss.get(role, 0) for s in inside))}  # fmt: skip
        growths = [x["growth_percent"] for x in roles.values()]
        worst = math.nan if any(math.isnan(g) for g in growths) else max(growths)
        return {"roles": roles, "t_early": early.t - t_first_send, "t_end": s_end.t - t_first_send,
                "worst_growth_percent": worst}  # fmt: skip

    def _soak_series(
        self,
        sampler,
        monitor_rows: list[dict],
        phase: dict,
        t_first_send: float,
        offset: float,
        seconds: float,
    ) -> str:
        """One line per tenth of the soak: accepted/s in that stretch, queue, events counted, RSS. t from
        the first send: sampler clock t_first_send, monitor clock `offset`."""
        per_second = phase["per_second_ok"]
        step = seconds / 10
        rows, previous = [], 0
        for k in range(11):
            t = k * step
            sample = _nearest(sampler.samples, lambda s: s.t - t_first_send, t)
            mon = _nearest([r for r in monitor_rows if "depth" in r], lambda r: r["t"] - offset, t) or {}
            stretch = per_second[int(previous) : int(t)]
            rows.append([round(t), sum(stretch) / len(stretch) if stretch else "-", mon.get("depth", "-"),
                         mon.get("lag_s", "-"), mon.get("stored", "-"),
                         *(mb(sample.rss.get(r, 0)) for r in ROLES), mb(sample.rss.get("postgres", 0)),
                         mon.get("redis_mb", "-")])  # fmt: skip
            previous = t
        return "  over time from the first send (accepted/s since the previous line; queue, API count, RSS):\n" + table(
            ["t s", "accepted/s", "depth", "lag_s", "stored", "web MB", "worker MB", "scheduler MB", "postgres MB",
             "redis MB"], rows)  # fmt: skip
