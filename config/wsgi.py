"""WSGI entry point. SDK ingest requests go to ingest/wsgi.py, a plain WSGI callable: they
authenticate with project keys, and Django's request machinery would cost CPU on the hottest path."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

_site = get_wsgi_application()  # sets Django up, so ingest can use settings, caches and the ORM

from ingest.wsgi import INGEST_PATH  # noqa: E402
from ingest.wsgi import application as _ingest  # noqa: E402


def application(environ, start_response):
    if INGEST_PATH.match(environ.get("PATH_INFO", "")):
        return _ingest(environ, start_response)
    return _site(environ, start_response)
