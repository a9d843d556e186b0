"""GET /status/: the operator's page (staff only): queue depth and lag, what workers stored lately."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ingest import dead_letters


def _queue() -> dict:
    from ingest.buffer import get_buffer

    try:
        buffer = get_buffer()
        return {"depth": buffer.depth(), "lag": round(buffer.oldest_age(), 1), "error": None}
    except Exception as exc:  # the page must still render when Redis is down; that is when it is read
        return {"depth": None, "lag": None, "error": type(exc).__name__}


def _projects(now) -> list[dict]:
    from issues.models import Event, PayloadDictionary
    from projects.models import Project

    projects = list(Project.objects.select_related("organization").order_by("organization__slug", "slug"))
    ids = [p.id for p in projects]
    # Only the last minute: counting an hour would read millions of index entries at full load, and
    # this page refreshes every 5 seconds.
    recent = Event.objects.filter(project_id__in=ids)
    minute = dict(
        recent.filter(received__gte=now - timedelta(minutes=1))
        .values_list("project_id")
        .annotate(n=Count("id"))
    )
    dicts = dict(PayloadDictionary.objects.values_list("project_id").annotate(last=Max("created")))
    return [
        {
            "project": p,
            "minute": minute.get(p.id, 0),
            "dictionary": dicts.get(p.id),
        }
        for p in projects
    ]


@login_required
def status_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("The status page is for the operators (staff) of this LightTrace.")
    now = timezone.now()
    rows = _projects(now)
    context = {
        "queue": _queue(),
        "rows": rows,
        "minute": sum(r["minute"] for r in rows),
        "max_depth": settings.INGEST["MAX_QUEUE_DEPTH"],
        "dead_letters": dead_letters.count(),
        "dictionary_after": settings.PAYLOAD_DICTIONARY["MIN_EVENTS"],
    }
    return render(request, "status.html", context)
