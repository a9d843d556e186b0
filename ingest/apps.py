from django.apps import AppConfig
from django.db.models.signals import post_save


class IngestConfig(AppConfig):
    name = "ingest"

    def ready(self) -> None:
        from projects.models import ProjectKey

        from .keys import key_saved

        post_save.connect(key_saved, sender=ProjectKey, dispatch_uid="ingest-known-keys")
