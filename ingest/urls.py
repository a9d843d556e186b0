from django.urls import re_path

from . import views

# Trailing slash optional: SDKs always send it, hand-written clients often do not.
urlpatterns = [
    re_path(r"^api/(?P<project_id>\d+)/envelope/?$", views.envelope_endpoint, name="ingest-envelope"),
    re_path(r"^api/(?P<project_id>\d+)/store/?$", views.store_endpoint, name="ingest-store"),
    re_path(
        r"^api/(?P<project_id>\d+)/integration/otlp/v1/logs/?$",
        views.otlp_logs_endpoint,
        name="ingest-otlp-logs",
    ),
]
