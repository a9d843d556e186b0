"""The issue page's pure pieces: the chart's geometry and words, the tag search term, context tables."""

from datetime import UTC, datetime, timedelta

from issues.chart import HEIGHT, MIN_BAR, WIDTH, bar_chart
from issues.eventinfo import context_tables
from issues.issue_page import search_query

START = datetime(2026, 12, 1, tzinfo=UTC)


def test_bars_scale_to_the_peak_and_say_what_they_count():
    points = [(START + timedelta(hours=h), n) for h, n in enumerate([0, 1, 100, 50])]
    chart = bar_chart(points, hourly=True, period_words="the last 4 hours")
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and heights[1] == MIN_BAR and heights[2] == HEIGHT and heights[3] == HEIGHT / 2
    assert all(b.y + b.height == HEIGHT for b in chart.bars)
    assert chart.bars[-1].x + chart.bars[-1].width <= WIDTH
    assert [b.label for b in chart.bars[:2]] == [
        "2026-12-01 00:00 UTC: 0 events",
        "2026-12-01 01:00 UTC: 1 event",
    ]
    assert chart.summary == (
        "Events per hour over the last 4 hours: 151 in total, at most 100 in one hour (2026-12-01 02:00 UTC)"
    )
    assert (chart.first_label, chart.last_label) == ("2026-12-01 00:00 UTC", "2026-12-01 03:00 UTC")


def test_a_quiet_range_has_flat_bars_and_daily_labels():
    points = [(START + timedelta(days=d), 0) for d in range(30)]
    chart = bar_chart(points, hourly=False, period_words="the last 30 days")
    assert len(chart.bars) == 30 and all(b.height == 0 for b in chart.bars)
    assert chart.summary == "Events per day over the last 30 days: 0 in total"
    assert chart.bars[0].label == "2026-12-01: 0 events"


def test_tag_search_terms_quote_and_escape_the_value():
    assert search_query("browser", "Chrome 120") == 'browser:"Chrome 120"'
    assert search_query("note", 'say "hi" \\o/') == 'note:"say \\"hi\\" \\\\o/"'


def test_contexts_become_tables_without_their_type():
    tables = context_tables(
        {"os": {"type": "os", "name": "Linux", "version": "6.1"}, "custom": {"deep": {"a": 1}}, "odd": 3}
    )
    assert tables[0] == {
        "name": "os",
        "title": "Operating System",
        "rows": [("name", "Linux", False), ("version", "6.1", False)],
    }
    assert tables[1]["rows"] == [("deep", '{\n  "a": 1\n}', True)]
    assert tables[2]["rows"] == [("value", "3", False)]
    assert context_tables("not a dict") == []


def test_times_in_lists_are_said_in_one_unit_and_a_fresh_one_is_just_now():
    from datetime import timedelta

    from django.utils import timezone

    from issues.templatetags.lighttrace import ago

    now = timezone.now()
    assert ago(now - timedelta(seconds=20)) == "just now"
    assert ago(now - timedelta(minutes=5, seconds=10)) == "5\xa0minutes ago"
    assert ago(now - timedelta(days=3, hours=4)) == "3\xa0days ago"
    assert ago(None) == ""
