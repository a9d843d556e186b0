"""The organization usage page: this month against the quota, and outcomes by day and category."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from projects.access import get_organization

from .models import Outcome
from .services import flush_pending, this_hour


@login_required
def organization_usage(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = get_organization(request.user, org_slug)
    flush_pending()  # show what ingest counted in the last seconds too
    start = this_hour().replace(day=1, hour=0)
    month = Outcome.objects.filter(organization=org, hour__gte=start)
    used = month.filter(category="error", outcome="accepted").aggregate(n=Sum("quantity"))["n"] or 0
    quota = org.monthly_event_quota
    if quota is None:
        quota = settings.QUOTAS["DEFAULT_MONTHLY_EVENTS"]
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, category, outcome, reason, quantity in (
        month.annotate(day=TruncDate("hour"))
        .values_list("day", "category", "outcome", "reason")
        .annotate(q=Sum("quantity"))
        .order_by("-day")
    ):
        label = outcome if outcome == "accepted" else f"{outcome} ({reason})" if reason else outcome
        rows[(day, category)][label] += quantity
    columns = sorted(
        {label for counts in rows.values() for label in counts}, key=lambda c: (c != "accepted", c)
    )
    table = [
        (day, category, [counts.get(col, 0) for col in columns])
        for (day, category), counts in sorted(rows.items(), reverse=True)
    ]
    context = {"org": org, "used": used, "quota": quota, "columns": columns, "table": table}
    return render(request, "usage/organization_usage.html", context)
