from django.apps import AppConfig
from django.db.models.signals import pre_save


class IssuesConfig(AppConfig):
    name = "issues"

    def ready(self) -> None:
        from projects.models import Project

        from .retention import recheck_when_cap_lowered

        pre_save.connect(recheck_when_cap_lowered, sender=Project, dispatch_uid="retention-cap-lowered")
