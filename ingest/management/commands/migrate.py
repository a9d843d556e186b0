"""`migrate`, which also migrates the embedded ingest buffer's own SQLite file (ingest/db_router.py)
whenever it migrates the main database, so that `make run`, Docker and the tests need no second step.

An older version kept buffered envelopes in the main file: they are moved into the buffer's file,
a chunk at a time, each chunk committed there before it is deleted from the main file (a crash in
between leaves a chunk in both: the idempotent writer stores it once).
"""

from __future__ import annotations

from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ingest.db_router import BUFFER_DATABASE

_CHUNK = 500


class Command(migrate.Command):
    def handle(self, *args, **options):
        if options["database"] != DEFAULT_DB_ALIAS or BUFFER_DATABASE not in connections.settings:
            return super().handle(*args, **options)
        super().handle(*args, **{**options, "database": BUFFER_DATABASE})
        super().handle(*args, **options)
        if not options.get("plan") and not options.get("check_unapplied"):
            moved = move_old_buffered_envelopes()
            if moved and options["verbosity"]:
                self.stdout.write(f"Moved {moved} buffered envelopes into the ingest buffer's database.")


def move_old_buffered_envelopes() -> int:
    main, buffer = connections[DEFAULT_DB_ALIAS], connections[BUFFER_DATABASE]
    if "ingest_bufferedenvelope" not in main.introspection.table_names():
        return 0
    moved = 0
    while True:
        with main.cursor() as cursor:
            cursor.execute("SELECT id, payload FROM ingest_bufferedenvelope ORDER BY id LIMIT %s", [_CHUNK])
            rows = cursor.fetchall()
        if not rows:
            return moved
        with transaction.atomic(using=BUFFER_DATABASE), buffer.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO ingest_bufferedenvelope (payload) VALUES (%s)", [(r[1],) for r in rows]
            )
        with transaction.atomic(using=DEFAULT_DB_ALIAS), main.cursor() as cursor:
            cursor.execute("DELETE FROM ingest_bufferedenvelope WHERE id <= %s", [rows[-1][0]])
        moved += len(rows)
