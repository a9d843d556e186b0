"""Every database query of a web request runs within WEB_STATEMENT_TIMEOUT_SECONDS, on both engines,
and a request that runs out of it is a 503 that says why (never a hung web thread)."""

from __future__ import annotations

import json
import time

import pytest
from django.db import OperationalError, connections
from django.db.backends.signals import connection_created
from django.test import RequestFactory

from config import request_budget

SLOW_SQLITE = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


@pytest.fixture
def budget(settings):
    settings.WEB_STATEMENT_TIMEOUT_SECONDS = 0.3
    connection_created.connect(request_budget.bound_connection, dispatch_uid="test-budget")
    request_budget._deadline.at = time.monotonic() + 0.3
    yield
    request_budget._deadline.at = None
    connection_created.disconnect(dispatch_uid="test-budget")


def _fresh_connection(settings_dict: dict):
    from django.db.utils import load_backend

    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper({**settings_dict, "CONN_MAX_AGE": 0}, "budget-test")


def _slow_query(connection, sql: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()
    finally:
        connection.close()


@pytest.mark.postgresql
@pytest.mark.django_db
def test_postgresql_cancels_a_web_query_past_its_budget(budget):
    default = connections["default"]
    started = time.monotonic()
    with pytest.raises(OperationalError) as error:
        _slow_query(_fresh_connection(default.settings_dict), "SELECT pg_sleep(5)")
    assert request_budget._timed_out(error.value) and time.monotonic() - started < 4


@pytest.mark.django_db
def test_sqlite_interrupts_a_web_query_past_its_budget(budget, tmp_path):
    sqlite = {
        "ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "budget.sqlite3"), "OPTIONS": {},
        "TIME_ZONE": None, "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "CONN_HEALTH_CHECKS": False,
        "TEST": {}, "USER": "", "PASSWORD": "", "HOST": "", "PORT": "",
    }  # fmt: skip
    started = time.monotonic()
    with pytest.raises(OperationalError) as error:
        _slow_query(_fresh_connection(sqlite), SLOW_SQLITE)
    assert request_budget._timed_out(error.value) and time.monotonic() - started < 4


@pytest.mark.django_db
def test_a_request_out_of_budget_is_a_503_that_says_why(budget):
    default = connections["default"]

    slow = "SELECT pg_sleep(5)" if default.vendor == "postgresql" else SLOW_SQLITE

    def slow_view(request):
        _slow_query(_fresh_connection(default.settings_dict), slow)

    middleware = request_budget.RequestBudgetMiddleware(slow_view)
    request = RequestFactory().get("/api/0/projects/acme/web/issues/")
    try:
        slow_view(request)
    except OperationalError as exc:
        response = middleware.process_exception(request, exc)
    assert response.status_code == 503 and response["Retry-After"]
    assert "longer than 0.3 s" in json.loads(response.content)["detail"]
