"""The worker's one call: map a JavaScript event's minified frames before grouping and scrubbing."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError

from .frames import JS_PLATFORMS, apply_source_maps, sourcemap_images
from .lookup import Locator, project_has_bundles

log = logging.getLogger(__name__)


def resolve_source_maps(event: dict[str, Any], project_id: int) -> bool:
    """True if a frame was mapped. A failure leaves the event as sent: the minified frames are still
    worth storing, and a broken upload must never drop events."""
    if event.get("platform") not in JS_PLATFORMS:
        return False
    if not sourcemap_images(event) and not project_has_bundles(project_id):
        return False  # nothing to go on: no debug IDs, and no upload that a release could match
    release = event.get("release") if isinstance(event.get("release"), str) else ""
    dist = event.get("dist") if isinstance(event.get("dist"), str) else ""
    try:
        return apply_source_maps(event, Locator(project_id, release or "", dist or ""))
    except DatabaseError:
        raise  # an outage: the batch stays in the buffer and is retried
    except Exception as exc:
        log.warning("source maps not applied: %s", type(exc).__name__, exc_info=True)
        return False
