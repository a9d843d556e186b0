"""Bulk load for bench/issue_scale.py: 100,000 issues and 5 million events, generated in SQL.

Everything is INSERT ... SELECT over generate_series on the server (no rows cross the wire but the
64 event payloads), with the loaded tables' secondary indexes and unique constraints dropped for the
load and rebuilt afterwards (one sort per index instead of 5 million index insertions), and foreign
key triggers off (session_replication_role = replica; they are checked once when rebuilt).

Distributions (deterministic: setseed):
- issues over 4 projects, 70/15/10/5 %; status 70 % unresolved (new, ongoing, regressed, escalating),
  20 % resolved, 10 % ignored; levels error/warning/fatal/info 70/15/5/10 %; 24 exception types x
  40 messages; 5 % assigned to a user, 2 % to a team; 1 % bookmarked, 10 % seen by the bench user.
- events: issue = 1 + floor(N * random()^3), a power law (issue 1, "the large issue", gets ~2 %
  of all events, the smallest ~17); received over the issue's own window of 1-30 days; users from
  a pool of 50,000 (up to 2,000 per issue, 10 % of events without one); 3 environments; 30 releases
  by day; each event carries one of 64 small but real payloads (zstd JSON, ~0.6 KB).
- issue counters (times_seen, user_count, first/last seen, releases), tags, users and hourly
  buckets are computed from the events, as the batch writer would have written them. Tags per issue:
  level, environment, release, browser, os, customer_tier, and two high-cardinality keys
  (server_name over 2,000 hosts, transaction over 20,000 routes).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

from issues.payload import encode_event_data

TYPES = [
    "KeyError", "ValueError", "TypeError", "AttributeError", "IndexError", "RuntimeError",
    "ZeroDivisionError", "ConnectionError", "TimeoutError", "PermissionError", "FileNotFoundError",
    "OperationalError", "IntegrityError", "DoesNotExist", "ValidationError", "HTTPError",
    "JSONDecodeError", "UnicodeDecodeError", "RecursionError", "MemoryError", "NotImplementedError",
    "AssertionError", "OSError", "ImportError",
]  # fmt: skip
MESSAGES = [
    "'user_id'", "invalid literal for int() with base 10: 'abc'", "'NoneType' object is not subscriptable",
    "list index out of range", "Connection timed out after 30s", "division by zero", "database is locked",
    "duplicate key value violates unique constraint", "Order matching query does not exist.",
    "401 Client Error: Unauthorized", "Expecting value: line 1 column 1 (char 0)", "maximum recursion depth",
    "could not serialize access due to concurrent update", "SSL: CERTIFICATE_VERIFY_FAILED",
    "Permission denied: '/var/lib/app/cache'", "No such file or directory: 'config.yaml'",
    "payment provider returned 502", "Invoice total does not match line items", "cart is empty",
    "unexpected keyword argument 'timeout'", "Redis connection refused", "token expired",
    "quota exceeded for customer", "Cannot assign None to a non-nullable field", "unsupported locale",
    "stock level negative for sku", "webhook signature mismatch", "rate limit exceeded",
    "worker lost while running task", "could not obtain lock on row", "malformed CSV header",
    "image too large to thumbnail", "address geocoding failed", "currency mismatch EUR/USD",
    "session store unavailable", "template variable missing", "search backend timeout",
    "feature flag service unreachable", "email bounced permanently", "report generation failed",
]  # fmt: skip
MODULES = [
    "orders",
    "billing",
    "accounts",
    "search",
    "checkout",
    "catalog",
    "reports",
    "api",
    "tasks",
    "auth",
]
VERSIONS = [f"backend@1.{n}.0" for n in range(30)]
SEED = 0.42


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def event_payload(n: int) -> dict:
    """A small but complete normalized error event: exception with frames, tags, user, contexts,
    request, breadcrumbs; the issue page renders it like a real one."""
    module = MODULES[n % len(MODULES)]
    frames = [
        {
            "filename": f"app/{module}/{name}.py", "module": f"app.{module}.{name}", "function": name,
            "lineno": 10 + 7 * i + n, "in_app": i > 1,
            "context_line": f"    result = {name}(request, item_{n})",
            "pre_context": ["", f"def {name}(request):"], "post_context": ["    return result"],
        }
        for i, name in enumerate(["dispatch", "view", "handle", "load", "compute", "save"])
    ]  # fmt: skip
    return {
        "event_id": f"{n:032x}", "level": "error", "platform": "python", "logger": "app",
        "title": f"{TYPES[n % 24]}: {MESSAGES[n % 40]}", "culprit": f"app.{module}.views in handle",
        "exception": {"values": [{"type": TYPES[n % 24], "value": MESSAGES[n % 40], "module": "builtins",
                                  "stacktrace": {"frames": frames}, "mechanism": {"type": "generic", "handled": n % 3 > 0}}]},
        "tags": [["environment", "production"], ["release", VERSIONS[n % 30]], ["customer_tier", "gold"],
                 ["server_name", f"web-{n % 20:03d}"], ["browser", "Chrome 120"]],
        "user": {"id": str(1000 + n), "email": f"user{n}@example.com", "ip_address": f"10.0.{n % 250}.{n % 200}"},
        "contexts": {"runtime": {"name": "CPython", "version": "3.11.9"}, "os": {"name": "Linux"},
                     "trace": {"trace_id": f"{n:032x}", "span_id": f"{n:016x}"}},
        "request": {"url": f"https://shop.example.com/api/{module}/{n}", "method": "POST",
                    "headers": [["User-Agent", "Mozilla/5.0"], ["Accept", "application/json"]]},
        "breadcrumbs": {"values": [{"category": "query", "message": f"SELECT * FROM {module} WHERE id = {i}",
                                    "timestamp": 1764000000 + i} for i in range(5)]},
        "sdk": {"name": "sentry.python", "version": "2.19.0"},
    }  # fmt: skip


def _indexes_and_uniques(cur, table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Definitions to rebuild: plain secondary indexes, and unique constraints (name, definition)."""
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'",
        [table],
    )
    uniques = cur.fetchall()
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [table],
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    for name, _ in uniques:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return [d for _, d in indexes], uniques


def _rebuild(cur, table: str, indexes: list[str], uniques: list[tuple[str, str]]) -> None:
    for name, definition in uniques:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for definition in indexes:
        cur.execute(definition)


TABLES = ("issues_issue", "issues_event", "issues_issuetag", "issues_issueuser", "issues_issuehourbucket",
          "issues_issuehouruser", "issues_grouphash", "issues_activity", "issues_issuebookmark", "issues_issueseen")  # fmt: skip


def load(dsn: str, ctx: dict, issues: int, events: int, say: Callable[[str], None]) -> dict[str, float]:
    """ctx: project_ids (4), user_ids (members; the first is the bench user), team_id. Returns the
    seconds of each step."""
    steps: dict[str, float] = {}
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET work_mem = '256MB'")
        dropped = {t: _indexes_and_uniques(cur, t) for t in TABLES}
        cur.execute("CREATE TEMP TABLE bench_payload (n int PRIMARY KEY, data bytea)")
        with cur.copy("COPY bench_payload (n, data) FROM STDIN") as copy:
            for n in range(64):
                copy.write_row((n, encode_event_data(event_payload(n))))
        p = dict(issues=issues, events=events, **ctx)
        for name, sql in _steps(p):
            start = time.monotonic()
            cur.execute("SELECT setseed(%s)", [SEED])
            cur.execute(sql)
            steps[name] = time.monotonic() - start
            say(f"  {name}: {cur.rowcount:,} rows in {steps[name]:.1f}s")
        start = time.monotonic()
        for table, (indexes, uniques) in dropped.items():
            _rebuild(cur, table, indexes, uniques)
        steps["indexes"] = time.monotonic() - start
        say(f"  secondary indexes and unique constraints rebuilt in {steps['indexes']:.1f}s")
        for table in ("issues_issue", "issues_event"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        start = time.monotonic()
        # The counter UPDATEs ran while issues_issue had no secondary index, so they were HOT updates;
        # an index built over those chains is unusable (pg_index.indcheckxmin) to any snapshot older
        # than the index, e.g. while another session holds a long transaction. A rewrite ends that
        # (and the UPDATE's bloat, as autovacuum would in time).
        cur.execute("VACUUM (FULL) issues_issue")
        cur.execute("REINDEX TABLE issues_issue")
        cur.execute("VACUUM (ANALYZE) " + ", ".join(TABLES))
        steps["vacuum_analyze"] = time.monotonic() - start
        say(f"  VACUUM ANALYZE in {steps['vacuum_analyze']:.1f}s")
    return steps


def _steps(p: dict) -> list[tuple[str, str]]:
    n, pr, users = p["issues"], p["project_ids"], p["user_ids"]
    project = (
        f"CASE WHEN g % 100 < 70 THEN {pr[0]} WHEN g % 100 < 85 THEN {pr[1]} "
        f"WHEN g % 100 < 95 THEN {pr[2]} ELSE {pr[3]} END"
    )
    status = "CASE WHEN (g * 7919) % 100 < 70 THEN 'unresolved' WHEN (g * 7919) % 100 < 90 THEN 'resolved' ELSE 'ignored' END"
    substatus = (
        "CASE WHEN (g * 7919) % 100 >= 90 THEN (CASE WHEN g % 3 = 0 THEN 'archived_until_escalating' ELSE 'archived_forever' END) "
        "WHEN (g * 7919) % 100 >= 70 THEN '' WHEN g % 20 = 0 THEN 'regressed' WHEN g % 20 = 1 THEN 'escalating' "
        "WHEN g % 10 < 3 THEN 'new' ELSE 'ongoing' END"
    )
    level = "CASE WHEN (g * 31) % 100 < 70 THEN 'error' WHEN (g * 31) % 100 < 85 THEN 'warning' WHEN (g * 31) % 100 < 90 THEN 'fatal' ELSE 'info' END"
    types, messages, modules = sql_array(TYPES), sql_array(MESSAGES), sql_array(MODULES)
    assignee_user = (
        f"CASE WHEN g % 100 < 5 THEN ({sql_array([str(u) for u in users])})[1 + g % {len(users)}]::int END"
    )
    issues_sql = f"""
        INSERT INTO issues_issue (id, project_id, short_id, title, culprit, type, level, platform, metadata,
            status, substatus, first_seen, last_seen, first_release, last_release, times_seen, user_count,
            resolved_at, grouping_config, retention_times_seen, assignee_user_id, assignee_team_id)
        SELECT g, project_id, row_number() OVER (PARTITION BY project_id ORDER BY g), title, culprit, 'error',
            level, 'python', jsonb_build_object('type', t, 'value', m), status, substatus, now(), now(), '', '',
            0, 0, CASE WHEN status = 'resolved' THEN now() - interval '1 hour' * (g % 500) END,
            'newstyle:2023-01-11', 0, assignee_user, CASE WHEN g % 100 = 5 OR g % 100 = 6 THEN {p["team_id"]} END
        FROM (SELECT g, {project} AS project_id, t, m, t || ': ' || m || CASE WHEN g % 7 = 0 THEN ' (#' || g || ')' ELSE '' END AS title,
                     'app.' || ({modules})[1 + g % 10] || '.views in handle_' || (g % 50) AS culprit,
                     {level} AS level, {status} AS status, {substatus} AS substatus, {assignee_user} AS assignee_user
              FROM (SELECT g, ({types})[1 + g % 24] AS t, ({messages})[1 + (g / 24) % 40] AS m
                    FROM generate_series(1, {n}) g) s0) s"""
    ts = "now() - interval '1 day' * (1 + (s.issue_id * 13) % 30) * s.r2"
    events_sql = f"""
        INSERT INTO issues_event (project_id, issue_id, event_id, timestamp, received, level, platform, title,
            release, environment, user_key, trace_id, primary_hash, data)
        SELECT i.project_id, i.id, md5('e' || s.e), s.ts, s.ts, i.level, 'python', i.title,
            'backend@1.' || greatest(0, 29 - floor(extract(epoch FROM now() - s.ts) / 86400))::int || '.0',
            CASE WHEN s.e % 20 < 16 THEN 'production' WHEN s.e % 20 < 19 THEN 'staging' ELSE 'development' END,
            CASE WHEN s.r3 < 0.1 THEN '' ELSE md5('u' || ((s.issue_id * 7 + floor(power(s.r3, 2) * 2000)::int) % 50000)) END,
            md5('t' || s.e), md5('h' || i.id), ((SELECT array_agg(data ORDER BY n) FROM bench_payload))[1 + s.e % 64]
        FROM (SELECT e, issue_id, r3, {ts} AS ts
              FROM (SELECT e, 1 + floor({n} * power(random(), 3))::int AS issue_id, random() AS r2, random() AS r3
                    FROM generate_series(1, {p["events"]}) e) s) s
        JOIN issues_issue i ON i.id = s.issue_id"""
    counters_sql = """
        UPDATE issues_issue i SET times_seen = a.n, retention_times_seen = a.n, first_seen = a.first,
            last_seen = a.last, first_release = a.first_release, last_release = a.last_release
        FROM (SELECT issue_id, count(*) AS n, min(received) AS first, max(received) AS last,
                     min(release) AS first_release, max(release) AS last_release
              FROM issues_event GROUP BY issue_id) a
        WHERE a.issue_id = i.id"""
    users_sql = """
        INSERT INTO issues_issueuser (issue_id, user_key)
        SELECT DISTINCT issue_id, user_key FROM issues_event WHERE user_key <> ''"""
    user_count_sql = """
        UPDATE issues_issue i SET user_count = a.n
        FROM (SELECT issue_id, count(*) AS n FROM issues_issueuser GROUP BY issue_id) a WHERE a.issue_id = i.id"""
    buckets_sql = """
        INSERT INTO issues_issuehourbucket (issue_id, project_id, hour, environment, times_seen, users)
        SELECT issue_id, project_id, date_trunc('hour', received), environment, count(*),
               count(DISTINCT nullif(user_key, ''))
        FROM issues_event GROUP BY 1, 2, 3, 4"""
    hour_users_sql = """
        INSERT INTO issues_issuehouruser (issue_id, hour, environment, user_key)
        SELECT DISTINCT issue_id, date_trunc('hour', received), environment, user_key FROM issues_event
        WHERE user_key <> '' AND received >= date_trunc('hour', now()) - interval '24 hours'"""
    return [
        ("issues", issues_sql),
        ("events", events_sql),
        ("issue counters", counters_sql),
        ("issue users", users_sql),
        ("user counts", user_count_sql),
        ("hour buckets", buckets_sql),
        ("hour users (last 25 hours)", hour_users_sql),
        ("tags", _tags_sql()),
        ("grouping hashes", "INSERT INTO issues_grouphash (project_id, hash, config, issue_id) "
                            "SELECT project_id, md5('h' || id), 'newstyle:2023-01-11', id FROM issues_issue"),
        ("activity", _activity_sql(p)),
        ("bookmarks", f"INSERT INTO issues_issuebookmark (issue_id, user_id, created) "
                      f"SELECT id, {users[0]}, now() FROM issues_issue WHERE id % 100 = 42"),
        ("seen", f"INSERT INTO issues_issueseen (issue_id, user_id, last_seen) "
                 f"SELECT id, {users[0]}, now() FROM issues_issue WHERE id % 10 = 3"),
    ]  # fmt: skip


def _tags_sql() -> str:
    """Per issue: level; the environments and releases its events had (with counts); 1-3 values of
    customer_tier, browser, os; and of server_name and transaction one more value per 20 events
    (the large issue: all 2,000 hosts, ~5,000 routes); times_seen of the v-th value: count / (v + 2)."""
    from_events = """
        SELECT issue_id, key, value, count(*) AS n, min(received) AS first, max(received) AS last
        FROM (SELECT issue_id, received, unnest(ARRAY['environment', 'release']) AS key,
                     unnest(ARRAY[environment, release]) AS value FROM issues_event) e
        GROUP BY 1, 2, 3"""
    synthetic = """
        SELECT i.id, k.key, k.vals[1 + (i.id * k.mult + v) % array_length(k.vals, 1)],
               greatest(1, i.times_seen / (v + 2)), i.first_seen, i.last_seen
        FROM issues_issue i
        CROSS JOIN (VALUES
            ('customer_tier', ARRAY['gold', 'silver', 'bronze', 'free'], 3, 2, 0),
            ('browser', ARRAY['Chrome 120', 'Firefox 121', 'Safari 17', 'Edge 120', 'Chrome Mobile 119'], 7, 3, 0),
            ('os', ARRAY['Windows 11', 'macOS 14', 'Linux', 'Android 14', 'iOS 17'], 11, 2, 0),
            ('server_name', ARRAY(SELECT 'web-' || lpad(h::text, 4, '0') FROM generate_series(1, 2000) h), 37, 2, 20),
            ('transaction', ARRAY(SELECT '/api/v1/' || (ARRAY['orders','items','carts','users'])[1 + r % 4] || '/' || r
                                  FROM generate_series(1, 20000) r), 101, 1, 20)
        ) AS k(key, vals, mult, nvalues, events_per_value)
        CROSS JOIN LATERAL generate_series(0, least(array_length(k.vals, 1), k.nvalues - i.id % 2
            + CASE WHEN k.events_per_value > 0 THEN (i.times_seen / k.events_per_value)::int ELSE 0 END) - 1) v"""
    level = "SELECT id, 'level', level, times_seen, first_seen, last_seen FROM issues_issue"
    return f"""
        INSERT INTO issues_issuetag (issue_id, key, value, times_seen, first_seen, last_seen)
        {from_events} UNION ALL {synthetic} UNION ALL {level}"""


def _activity_sql(p: dict) -> str:
    """A note and a status change on every 5th issue; 60 entries on the large issue (id 1)."""
    user = p["user_ids"][0]
    return f"""
        INSERT INTO issues_activity (issue_id, type, user_id, data, created, edited)
        SELECT id, t.type, {user}, t.data::jsonb, last_seen - interval '1 minute' * t.n, NULL::timestamptz
        FROM issues_issue
        CROSS JOIN (VALUES ('note', '{{"text": "looked at it, **repro** on staging"}}', 1),
                           ('set_resolved', '{{}}', 2)) AS t(type, data, n)
        WHERE id % 5 = 0
        UNION ALL
        SELECT 1, CASE WHEN g % 3 = 0 THEN 'note' ELSE 'set_unresolved' END, {user},
               jsonb_build_object('text', 'note ' || g), now() - interval '1 hour' * g, NULL
        FROM generate_series(1, 60) g"""
