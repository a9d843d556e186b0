import os

# The embedded web process sends no tasks (its worker drains the buffer on the scheduler's beat), and
# Celery would be ~18 MB of its memory; `serve` sets this for that process only.
if not os.environ.get("LIGHTTRACE_WEB_WITHOUT_CELERY"):
    from .celery import app as celery_app

    __all__ = ("celery_app",)
