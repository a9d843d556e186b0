"""Scenarios on PostgreSQL + Redis with LightTrace's default process layout: pg-running (throughput
with workers running), pg-paused (backlog built with the worker SIGSTOPped, then drained), latency."""

from __future__ import annotations

import time

from monitor import Monitor
from report import cpu_rows, load_rows, series, verdict


class PgScenarios:
    def scenario_pg_running(self) -> dict:
        cfg = self.config["pg-running"]
        self.say(
            f"\n=== pg-running: PostgreSQL + Redis, workers running; {cfg['events']:,} events at {cfg['concurrency']} connections ==="
        )
        stack = self.new_pg_stack("pg-running")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s0 = self.idle(sampler, stack=stack)
            t0 = time.time()
            monitor = Monitor(stack, t0).start()
            m = self.measure_processed(stack, holder, 0, cfg["events"], cfg["concurrency"])
            s1 = sampler.sample()
            monitor.stop()
            window = sampler.window(s0, s1)
            phase = m["phase"]
            events, span, processed = m["counted"], m["span_s"], m["processed_per_s"]
            stored_at_load_end = m["counted_at_load_end"]
            drain_span = m["t_counted"] - m["t_load_end"]
            stored_rows = self.pg.execute(
                f"SELECT count(*) FROM issues_event WHERE project_id = {int(stack.project_id)}", stack.db_name
            )[0][0]
            try:
                issues = stack.issues()
            except Exception:  # noqa: BLE001 - the stack may have died; the check says so
                issues = []
            self.say(load_rows([phase]))
            self.say(
                f"  accepted at {cfg['concurrency']} conns: {phase['accepted_per_s']:,.0f} ev/s  {verdict('accepted_32_running', phase['accepted_per_s'])}"
            )
            self.say(f"  processed: {events:,} events counted {span:.1f}s after the first send = {processed:,.0f} ev/s  "
                     f"{verdict('processed_pg', processed)}")  # fmt: skip
            self.say(f"  at the last answer {stored_at_load_end:,} were counted; the remaining {events - stored_at_load_end:,} "
                     f"took {drain_span:.1f}s more")  # fmt: skip
            exact = events == phase["ok"] == stored_rows and not m["timed_out"]
            if not m["timed_out"] and not exact:
                self.say("  MISMATCH between answers, counts and rows (see the check below)")
            self.say(f"  check: 200 answers {phase['ok']:,}, sum of issue counts {events:,}, issues_event rows {stored_rows:,}, "
                     f"issues {len(issues)} -> {'EXACT' if exact else 'MISMATCH'}" + (" (timed out waiting)" if m["timed_out"] else ""))  # fmt: skip
            cpu_text, cpu = cpu_rows(
                window,
                events,
                ["web", "worker", "scheduler", "serve", "postgres", "redis", "loadgen", "bench"],
                stack,
            )
            self.say(
                f"  CPU over the {window['seconds']:.1f}s from the start of the load to the last event counted, per event stored:"
            )
            self.say(cpu_text)
            self.say("  queue (GET /_health/ every second) and events counted by the API:")
            self.say(series(monitor.rows))
            disk = self.pg_disk(
                stack, self.pg.execute("SELECT count(*) FROM issues_event", stack.db_name)[0][0]
            )
            self.print_pg_disk(disk)
            return {"phase": phase, "processed_per_s": processed, "events_counted": events, "issues_event_rows": stored_rows,
                    "issues": len(issues), "exact": exact, "timed_out": m["timed_out"], "drain_after_load_s": drain_span,
                    "counted_at_load_end": stored_at_load_end, "cpu": cpu, "window_s": window["seconds"],
                    "queue_series": monitor.rows, "disk": disk}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def scenario_pg_paused(self) -> dict:
        cfg = self.config["pg-paused"]
        self.say(
            "\n=== pg-paused: PostgreSQL + Redis, Celery worker paused (SIGSTOP) while a backlog builds, then resumed ==="
        )
        stack = self.new_pg_stack("pg-paused")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s_idle = self.idle(sampler, stack=stack)
            stack.pause_worker()
            self.say(f"  worker paused: SIGSTOP to pids {stack.role_pids('worker')}")
            t0 = time.time()
            monitor = Monitor(stack, t0).start()
            phases, windows, offset = [], [], 0
            for concurrency, count, seconds in cfg["levels"]:
                s0 = sampler.sample()
                phase = self.drive(stack, offset, count, concurrency, seconds, holder)
                s1 = sampler.sample()
                offset += phase["sent"]
                phase["cpu_window"] = sampler.window(s0, s1)
                phases.append(phase)
                windows.append((s0, s1))
                time.sleep(1.0)
            total_ok = sum(p["ok"] for p in phases)
            time.sleep(1.0)
            backlog = monitor.rows[-1].get("depth") if monitor.rows else None
            s_resume = sampler.sample()
            t_resume = time.time()
            stack.resume_worker()
            done = self.wait_counted(stack, total_ok)
            s_end = sampler.sample()
            monitor.stop()
            drain_span = done["t_counted"] - t_resume
            drained = (
                done["counted"] / drain_span if drain_span > 0 and not done["timed_out"] else float("nan")
            )
            self.say(load_rows(phases))
            p32 = next((p for p in phases if p["concurrency"] == 32), None)
            if p32:
                self.say(f"  at 32 conns: accepted {p32['accepted_per_s']:,.0f} ev/s  {verdict('accepted_32_paused', p32['accepted_per_s'])}; "
                         f"p99 {p32['latency']['p99_ms']:.1f} ms  {verdict('p99_32_paused', p32['latency']['p99_ms'])}")  # fmt: skip
            load_window = sampler.window(windows[0][0], windows[-1][1])
            web_cpu = load_window["cpu_s"]["web"]
            self.say(f"  web CPU while only the web worked (all levels): {web_cpu:.1f}s for {total_ok:,} accepted = "
                     f"{web_cpu * 1000 / max(1, total_ok):.3f} ms/event  {verdict('cpu_web', web_cpu * 1000 / max(1, total_ok))}")  # fmt: skip
            for p in phases:
                w = p["cpu_window"]
                p["web_ms_per_event"] = w["cpu_s"]["web"] * 1000 / max(1, p["ok"])
                p["redis_ms_per_event"] = w["cpu_s"].get("redis", 0) * 1000 / max(1, p["ok"])
            self.say("  per level: web CPU ms/event " + ", ".join(f"{p['concurrency']} conns {p['web_ms_per_event']:.3f}" for p in phases)
                     + "; redis-server CPU ms/event " + ", ".join(f"{p['redis_ms_per_event']:.3f}" for p in phases))  # fmt: skip
            self.say(f"  backlog before resume: queue_depth {backlog} (200 answers {total_ok:,})")
            self.say(f"  resumed: {done['counted']:,} events counted {drain_span:.1f}s after SIGCONT = {drained:,.0f} ev/s drained  "
                     f"{verdict('processed_pg', drained)}" + (" (TIMED OUT)" if done["timed_out"] else ""))  # fmt: skip
            stored_rows = self.pg.execute(
                f"SELECT count(*) FROM issues_event WHERE project_id = {int(stack.project_id)}", stack.db_name
            )[0][0]
            exact = done["counted"] == total_ok == stored_rows and not done["timed_out"]
            self.say(f"  check: 200 answers {total_ok:,}, sum of issue counts {done['counted']:,}, issues_event rows "
                     f"{stored_rows:,} -> {'EXACT' if exact else 'MISMATCH'}")  # fmt: skip
            drain_window = sampler.window(s_resume, s_end)
            cpu_text, cpu = cpu_rows(
                drain_window,
                done["counted"],
                ["web", "worker", "scheduler", "postgres", "redis", "bench"],
                stack,
            )
            self.say("  CPU while draining the backlog (SIGCONT -> last event counted), per event drained:")
            self.say(cpu_text)
            load_text, load_cpu = cpu_rows(
                load_window,
                total_ok,
                ["web", "worker", "scheduler", "postgres", "redis", "loadgen", "bench"],
                stack,
            )
            self.say("  CPU while the backlog built (all three levels), per event accepted:")
            self.say(load_text)
            self.say("  queue (GET /_health/ every second; t from the first send; worker resumed at "
                     f"t={t_resume - t0:.1f}s):")  # fmt: skip
            self.say(series(monitor.rows))
            return {"phases": phases, "accepted_total": total_ok, "backlog_depth": backlog, "drain_s": drain_span,
                    "drained_per_s": drained, "counted": done["counted"], "timed_out": done["timed_out"], "exact": exact,
                    "cpu_drain": cpu, "cpu_load": load_cpu, "idle_rss": s_idle.rss, "resume_t": t_resume - t0,
                    "queue_series": monitor.rows}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def scenario_latency(self) -> dict:
        cfg = self.config["latency"]
        self.say("\n=== latency: PostgreSQL + Redis, workers running, 1 and 8 connections ===")
        stack = self.new_pg_stack("latency")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            self.idle(sampler, stack=stack)
            phases, offset = [], 0
            for concurrency, count, seconds in cfg["levels"]:
                phase = self.drive(stack, offset, count, concurrency, seconds, holder)
                offset += phase["sent"]
                phases.append(phase)
                self.wait_counted(stack, sum(p["ok"] for p in phases))
            self.say(load_rows(phases))
            p1 = phases[0]
            self.say(f"  p50 at 1 connection: {p1['latency']['p50_ms']:.2f} ms  {verdict('p50_1conn', p1['latency']['p50_ms'])} "
                     f"(client-side: from writing the request to reading the whole answer, loopback)")  # fmt: skip
            return {"phases": phases}
        finally:
            sampler.stop()
            self.finish_stack(stack)
