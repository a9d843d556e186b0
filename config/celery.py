import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lighttrace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class ThreadedBeat(bootsteps.StartStopStep):
    """Celery beat as a thread of the worker, for the single-machine default: the same scheduler as
    `celery beat`, without a second Python process (`-B` would fork a full copy of the worker)."""

    def __init__(self, worker, **kwargs):
        self.schedule = os.environ.get("LIGHTTRACE_EMBEDDED_BEAT", "")
        self.enabled = bool(self.schedule)
        self.service = None
        super().__init__(worker, **kwargs)

    def start(self, worker):
        from celery.beat import EmbeddedService

        self.service = EmbeddedService(worker.app, thread=True, schedule_filename=self.schedule)
        self.service.start()

    def stop(self, worker):
        if self.service is not None:
            self.service.stop()


app.steps["worker"].add(ThreadedBeat)
