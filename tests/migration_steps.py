"""Data-migration tests: move the schema to a point, and back to the latest afterwards."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrates to `targets` and returns the app registry of that state (historical models)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def latest_schema_afterwards(transactional_db):
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
