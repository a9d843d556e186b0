"""Scenarios on PostgreSQL + Redis about counting and scaling:

identical  N events of one and the same error (distinct event_ids, as SDKs send; users from a fixed
           set): one issue, times_seen == 200 answers, user_count == distinct users sent, exactly
scaleout   the same closed-loop load on 1 web + 1 worker process, then on 2 web + 2 worker
           processes (WEB_WORKERS, WORKER_CONCURRENCY with prefork): processed/s ratio, exact counts
"""

from __future__ import annotations

import time

from monitor import Monitor
from payload import write_pool
from report import cpu_rows, load_rows, series, table, verdict

NAN = float("nan")


class ScaleScenarios:
    # -- identical ------------------------------------------------------------------------------------
    def scenario_identical(self) -> dict:
        cfg = self.config["identical"]
        n, users, conns = cfg["events"], cfg["users"], cfg["concurrency"]
        self.say(f"\n=== identical: PostgreSQL + Redis, {n:,} events of one error at {conns} connections "
                 f"(distinct event_ids; users from a fixed set of {users:,}) ===")  # fmt: skip
        pool = self.work / "identical-pool.bin"
        t = time.monotonic()
        stats = write_pool(pool, n, self.key, users=users)
        self.say(f"  load: {n:,} envelopes built in {time.monotonic() - t:.1f}s (not part of the figures), all the same "
                 f"TypeError and stack; event i has user cus_u(i*7919 mod {users}); gzip -9 {stats['mean_gzip_bytes'] / 1000:.2f} KB")  # fmt: skip
        stack = self.new_pg_stack("identical")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s0 = self.idle(sampler, stack=stack)
            monitor = Monitor(stack, time.time()).start()
            m = self.measure_processed(stack, holder, 0, n, conns, pool)
            s1 = sampler.sample()
            monitor.stop()
            phase = m["phase"]
            ok, sent = phase["ok"], phase["sent"]
            db, pid = stack.db_name, int(stack.project_id)
            issues_sql = self.pg.execute(
                f"SELECT id, times_seen, user_count, title FROM issues_issue WHERE project_id = {pid}", db
            )
            user_rows = self.pg.execute(
                "SELECT count(*) FROM issues_issueuser u JOIN issues_issue i ON i.id = u.issue_id "
                f"WHERE i.project_id = {pid}", db,
            )[0][0]  # fmt: skip
            event_rows, deleted = self.rows_after_retention(stack, ok)
            try:
                issues_api = stack.issues()
            except Exception:  # noqa: BLE001 - the stack may have died; the check says so
                issues_api = []
            # events 0..sent-1 carry exactly min(sent, users) users (payload.user_number); only known
            # for what was stored if every event sent was answered 200
            expected_users = min(sent, users) if ok == sent else None
            times_seen = issues_sql[0][1] if len(issues_sql) == 1 else None
            user_count = issues_sql[0][2] if len(issues_sql) == 1 else None
            api = issues_api[0] if len(issues_api) == 1 else {}
            one_issue = len(issues_sql) == 1 and len(issues_api) == 1
            seen_ok = (
                one_issue
                and times_seen == ok == event_rows + deleted == int(api.get("count", -1)) == m["counted"]
            )
            users_ok = one_issue and user_count == expected_users == user_rows == api.get("userCount")
            exact = seen_ok and users_ok and ok == n and not m["timed_out"]
            self.say(load_rows([phase]))
            self.say(f"  processed: {m['counted']:,} events counted {m['span_s']:.1f}s after the first send = "
                     f"{m['processed_per_s']:,.0f} ev/s  {verdict('processed_pg', m['processed_per_s'])}"
                     + (" (TIMED OUT waiting)" if m["timed_out"] else ""))  # fmt: skip
            self.say(f"  check: issues {len(issues_sql)} (SQL) / {len(issues_api)} (API) -> {'EXACT' if one_issue else 'MISMATCH'}: "
                     + "; ".join(f"{title!r} times_seen {seen:,} user_count {uc:,}" for _, seen, uc, title in issues_sql[:3]))  # fmt: skip
            self.say(f"  check: times_seen {times_seen if times_seen is None else format(times_seen, ',')}, API count "
                     f"{api.get('count', 'n/a')}, issues_event rows {event_rows:,}"
                     + (f" + {deleted:,} deleted by LightTrace's retention pass (serve log)" if deleted else "")
                     + f", 200 answers {ok:,} of {n:,} sent "
                     f"-> {'EXACT' if seen_ok and ok == n else 'MISMATCH'}")  # fmt: skip
            self.say(f"  check: user_count {user_count}, API userCount {api.get('userCount', 'n/a')}, issues_issueuser rows "
                     f"{user_rows:,}, distinct users sent {expected_users if expected_users is not None else 'unknown (not all 200)'} "
                     f"-> {'EXACT' if users_ok else 'MISMATCH'}")  # fmt: skip
            cpu_text, cpu = cpu_rows(sampler.window(s0, s1), m["counted"],
                                     ["web", "worker", "scheduler", "postgres", "redis", "loadgen", "bench"], stack)  # fmt: skip
            self.say("  CPU from the start of the load to the last event counted, per event stored:")
            self.say(cpu_text)
            self.say("  queue (GET /_health/ every second) and events counted by the API:")
            self.say(series(monitor.rows, max_points=20))
            return {"phase": phase, "processed_per_s": m["processed_per_s"], "counted": m["counted"],
                    "timed_out": m["timed_out"], "issues_sql": len(issues_sql), "issues_api": len(issues_api),
                    "times_seen": times_seen, "user_count": user_count, "issueuser_rows": user_rows,
                    "issues_event_rows": event_rows, "retention_deleted": deleted, "expected_users": expected_users, "users_in_set": users,
                    "exact": exact, "cpu": cpu, "queue_series": monitor.rows}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    # -- scaleout -------------------------------------------------------------------------------------
    def scenario_scaleout(self) -> dict:
        cfg = self.config["scaleout"]
        n, conns = cfg["events"], cfg["concurrency"]
        self.say(f"\n=== scaleout: PostgreSQL + Redis, {n:,} events at {conns} connections on 1 web + 1 worker "
                 f"process, then on 2 web + 2 worker processes ({self.results['machine']['cpus']} CPUs) ===")  # fmt: skip
        layouts = []
        for web, workers in cfg["layouts"]:
            env = {"WEB_WORKERS": str(web), "WORKER_CONCURRENCY": str(workers)}
            self.say(f"  -- {web} web + {workers} worker: {' '.join(f'{k}={v}' for k, v in env.items())} "
                     "(granian workers; Celery prefork children)")  # fmt: skip
            layouts.append(
                self._scaleout_layout(f"scaleout-{web}x{workers}", env, n, conns)
                | {"web": web, "workers": workers}
            )
        one, two = layouts[0], layouts[-1]
        ratio = two["processed_per_s"] / one["processed_per_s"] if one["processed_per_s"] > 0 else NAN
        exact = all(x["exact"] for x in layouts)
        rows = [[f"{x['web']} web + {x['workers']} worker", x["processes"]["web"], x["processes"]["worker"],
                 x["phase"]["accepted_per_s"], x["processed_per_s"], x["cpu"]["web"]["ms_per_event"],
                 x["cpu"]["worker"]["ms_per_event"], x["machine_busy_percent"],
                 "EXACT" if x["exact"] else "MISMATCH"] for x in layouts]  # fmt: skip
        self.say(table(["layout", "web procs", "worker procs", "accepted/s", "processed/s", "web ms/ev",
                        "worker ms/ev", "machine busy % of 1 core", "stored == 200s"], rows))  # fmt: skip
        self.say(f"  scale-out: {one['processed_per_s']:,.0f} -> {two['processed_per_s']:,.0f} ev/s = {ratio:.2f}x  "
                 f"{verdict('scaleout_ratio', ratio)}; counts {'EXACT in both' if exact else 'MISMATCH'}")  # fmt: skip
        if self.results["machine"]["cpus"] <= 2:
            self.say(f"  (on {self.results['machine']['cpus']} CPUs the second layout competes with PostgreSQL, Redis and "
                     "the load generator for the same cores: the machine-busy column shows how close to the limit each ran)")  # fmt: skip
        return {"layouts": layouts, "ratio": ratio, "exact": exact}

    def _scaleout_layout(self, name: str, env: dict, n: int, conns: int) -> dict:
        stack = self.new_pg_stack(name, env)
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s0 = self.idle(sampler, stack=stack)
            processes = {role: len(stack.role_pids(role)) for role in ("web", "worker", "scheduler")}
            m = self.measure_processed(stack, holder, 0, n, conns)
            s1 = sampler.sample()
            window = sampler.window(s0, s1)
            rows, deleted = self.rows_after_retention(stack, m["phase"]["ok"])
            exact = m["counted"] == m["phase"]["ok"] == rows + deleted and not m["timed_out"]
            self.say(load_rows([m["phase"]]))
            self.say(f"  processes: web {processes['web']} (granian main + workers), worker {processes['worker']} "
                     f"(celery main + prefork children), scheduler {processes['scheduler']}")  # fmt: skip
            self.say(f"  processed: {m['counted']:,} events counted {m['span_s']:.1f}s after the first send = "
                     f"{m['processed_per_s']:,.0f} ev/s; check: 200 answers {m['phase']['ok']:,}, sum of issue counts "
                     f"{m['counted']:,}, issues_event rows {rows:,}"
                     + (f" + {deleted:,} deleted by retention" if deleted else "")
                     + f" -> {'EXACT' if exact else 'MISMATCH'}"
                     + (" (TIMED OUT waiting)" if m["timed_out"] else ""))  # fmt: skip
            cpu_text, cpu = cpu_rows(
                window, m["counted"], ["web", "worker", "postgres", "redis", "loadgen"], stack
            )
            self.say(cpu_text)
            busy = window["machine_busy_s"] / window["seconds"] * 100 if window["seconds"] else NAN
            return {"phase": m["phase"], "processed_per_s": m["processed_per_s"], "counted": m["counted"],
                    "issues_event_rows": rows, "exact": exact, "timed_out": m["timed_out"], "cpu": cpu,
                    "processes": processes, "machine_busy_percent": busy, "env": env}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)
