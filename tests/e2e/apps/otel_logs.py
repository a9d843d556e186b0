"""Logs through the real OpenTelemetry Python SDK exporting over OTLP/HTTP (protobuf, gzip) to the
endpoint and auth Sentry documents. Usage: otel_logs.py BASE_URL PROJECT_ID PUBLIC_KEY"""

import logging
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

base, project_id, key = sys.argv[1:4]
exporter = OTLPLogExporter(
    endpoint=f"{base}/api/{project_id}/integration/otlp/v1/logs",
    headers={"x-sentry-auth": f"sentry sentry_key={key}"},
    compression=Compression.Gzip,
)
provider = LoggerProvider(
    resource=Resource.create({"service.name": "otel-stock", "deployment.environment": "e2e"})
)
provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
log = logging.getLogger("otel.stock")
log.setLevel(logging.INFO)
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))

tracer = TracerProvider().get_tracer("otel.stock")
with tracer.start_as_current_span("restock"):
    log.warning("OTel stock low for %s", "SKU-9", extra={"remaining": 2, "ratio": 0.5, "urgent": True})
    log.error("OTel restock failed")
provider.shutdown()
