import importlib.util as u
import os
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from logs.backends import postgres as pgstore
from logs.records import StoredLog
from logs.store import get_log_store

s = u.spec_from_file_location("benchlogs", "/work/wt/logs3/bench/logs.py")
m = u.module_from_spec(s)
s.loader.exec_module(m)


def backend_cpu() -> float:
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        pid = c.fetchone()[0]
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def batches(project_id, count):
    now = datetime.now(UTC)
    out = []
    for _ in range(count):
        trace = uuid.uuid4().hex
        recs = []
        for n in range(100):
            r = m.sdk_record(0, trace, n)
            attrs = {k: v["value"] for k, v in r["attributes"].items()}
            recs.append(StoredLog(id=uuid.uuid4().hex, project_id=project_id, timestamp=now, level=r["level"],
                                  severity_number=r["severity_number"], body=r["body"], trace_id=trace,
                                  span_id=r["span_id"], attributes=attrs))
        out.append(recs)
    return out


@pytest.mark.django_db(transaction=True)
def test_write_speed(make_project):
    project, _ = make_project()
    store = get_log_store()
    with transaction.atomic():
        store.write(batches(project.id, 1)[0])
    old_copy = pgstore.PostgresLogStore._copy

    def upsert_only(self, rows):
        inserted = pgstore.copy_upsert(pgstore.TABLE, pgstore._ALL_COLUMNS, pgstore._TYPES, rows,
                                       conflict=["project_id", "timestamp", "id"], returning=["id"])
        return {row[0].hex for row in inserted}

    results = {"direct COPY": [], "scratch + ON CONFLICT": []}
    for round_ in range(3):
        for name, method in (("direct COPY", old_copy), ("scratch + ON CONFLICT", upsert_only)):
            pgstore.PostgresLogStore._copy = method
            work = batches(project.id, 20)
            cpu0, wall0 = backend_cpu(), time.perf_counter()
            for recs in work:
                with transaction.atomic():
                    assert len(store.write(recs)) == 100
            results[name].append(((backend_cpu() - cpu0) / 2000 * 1e6, (time.perf_counter() - wall0) / 2000 * 1e6))
    pgstore.PostgresLogStore._copy = old_copy
    for name, runs in results.items():
        print(f"\nWRITE {name}: backend CPU us/record {[round(c) for c, _ in runs]}, wall {[round(w) for _, w in runs]}")
