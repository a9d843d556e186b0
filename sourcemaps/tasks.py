"""Celery tasks of sourcemaps. Thin: the work lives in sourcemaps/assemble.py."""

from celery import shared_task

from .assemble import assemble_pending, cleanup_artifacts


@shared_task(name="sourcemaps.tasks.assemble_bundles", ignore_result=True)
def assemble_bundles() -> int:
    """Every waiting assemble job (a job is claimed atomically, so parallel runs share the work)."""
    total = 0
    while done := assemble_pending():
        total += done
    return total


@shared_task(name="sourcemaps.tasks.cleanup_artifact_bundles", ignore_result=True)
def cleanup_artifact_bundles() -> int:
    return cleanup_artifacts()
