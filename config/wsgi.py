"""WSGI entry point. SDK ingest requests skip the middleware stack (sessions, CSRF, auth, messages):
they authenticate with project keys, and every hook there would cost CPU on the hottest path."""

import os
import re

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

_INGEST_PATH = re.compile(r"^/api/\d+/(envelope|store)/?$")


class IngestWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


_site = get_wsgi_application()
_ingest = IngestWSGIHandler()


def application(environ, start_response):
    if _INGEST_PATH.match(environ.get("PATH_INFO", "")):
        return _ingest(environ, start_response)
    return _site(environ, start_response)
