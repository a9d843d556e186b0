from django.apps import AppConfig
from django.db.models.signals import post_save


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        # projects sits below alerts and cannot call it: the default rule follows the project's save.
        from projects.models import Project

        from .defaults import on_project_saved

        post_save.connect(on_project_saved, sender=Project, dispatch_uid="alerts-default-rule")
