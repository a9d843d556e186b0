"""The embedded default keeps the ingest buffer and the quota counters in a SQLite file of their own.

SQLite lets one connection at a time write to a database file. With the buffer in the main file,
every SDK request waited for the write lock behind the worker's batch transaction; in a file of its
own, the web process waits only for other requests and for the worker's short claim and delete of
buffered rows. Installed by config/settings.py only when the main database is SQLite (PostgreSQL
locks rows, not the database). `migrate` migrates both files (ingest/management/commands/migrate.py).
"""

from __future__ import annotations

BUFFER_DATABASE = "buffer"
# Written by the web process on every request; read and deleted by the worker outside its batch.
BUFFER_MODELS = {("ingest", "bufferedenvelope"), ("ingest", "quotacounter")}


class BufferDatabaseRouter:
    def _database_of(self, model) -> str | None:
        meta = model._meta
        return BUFFER_DATABASE if (meta.app_label, meta.model_name) in BUFFER_MODELS else None

    def db_for_read(self, model, **hints) -> str | None:
        return self._database_of(model)

    def db_for_write(self, model, **hints) -> str | None:
        return self._database_of(model)

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool | None:
        if model_name is None:  # RunPython/RunSQL: they are about the main database's tables
            return False if db == BUFFER_DATABASE else None
        return ((app_label, model_name) in BUFFER_MODELS) == (db == BUFFER_DATABASE)
