"""The issue page's events chart as geometry for an inline SVG (no JavaScript): one bar per hour or
day, each with a text label for screen readers and tooltips. Pure: no Django, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH = 720
HEIGHT = 120
GAP = 2
MIN_BAR = 2  # a bucket with events stays visible beside a tall peak


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    total: int
    peak: int
    summary: str  # the whole chart in one sentence (the SVG's accessible name)
    first_label: str
    last_label: str


def bucket_label(start: datetime, hourly: bool) -> str:
    return start.strftime("%Y-%m-%d %H:00 UTC") if hourly else start.strftime("%Y-%m-%d")


def bar_chart(points: list[tuple[datetime, int]], hourly: bool, period_words: str) -> Chart:
    """`points`: (bucket start, events) oldest first; `period_words` e.g. "the last 24 hours"."""
    total = sum(n for _, n in points)
    peak = max((n for _, n in points), default=0)
    slot = WIDTH / max(1, len(points))
    bars = []
    for index, (start, count) in enumerate(points):
        height = 0.0 if peak == 0 or count == 0 else max(MIN_BAR, HEIGHT * count / peak)
        noun = "event" if count == 1 else "events"
        bars.append(
            Bar(
                x=round(index * slot + GAP / 2, 2),
                y=round(HEIGHT - height, 2),
                width=round(max(1.0, slot - GAP), 2),
                height=round(height, 2),
                count=count,
                label=f"{bucket_label(start, hourly)}: {count} {noun}",
            )
        )
    unit = "hour" if hourly else "day"
    summary = f"Events per {unit} over {period_words}: {total} in total"
    if peak:
        busiest = max(points, key=lambda p: p[1])[0]
        summary += f", at most {peak} in one {unit} ({bucket_label(busiest, hourly)})"
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        total=total,
        peak=peak,
        summary=summary,
        first_label=bucket_label(points[0][0], hourly) if points else "",
        last_label=bucket_label(points[-1][0], hourly) if points else "",
    )
