import os

# Processes of the embedded default (web and runner) use no broker, and Celery's app would be ~18 MB
# of their memory; `serve` sets this for them.
if not os.environ.get("LIGHTTRACE_WITHOUT_CELERY_APP"):
    from .celery import app as celery_app

    __all__ = ("celery_app",)
