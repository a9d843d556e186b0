"""Rule matching, validation, the spike baseline and per-format escaping: pure, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts import rules
from alerts.delivery import retry_delay
from alerts.rules import IssueFacts, Window
from alerts.safe_http import is_public
from alerts.webhook import discord_body, discord_markdown, slack_body, slack_mrkdwn

NOW = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_new_and_regression_match_only_their_facts_and_come_first():
    conditions = [{"id": rules.FREQUENCY, "value": 1, "interval": "1h"}, {"id": rules.FIRST_SEEN},
                  {"id": rules.REGRESSION}]  # fmt: skip
    counts = {Window("events", HOUR): 5}
    found = rules.triggered(conditions, IssueFacts(is_regression=True), counts)
    assert [m.trigger for m in found] == ["regression", "frequency"]
    assert rules.triggered(conditions[1:], IssueFacts(), counts) == []


def test_frequency_and_users_are_more_than_n():
    freq = [{"id": rules.FREQUENCY, "value": 10, "interval": "5m"}]
    users = [{"id": rules.USERS, "value": 2, "interval": "1h"}]
    five = timedelta(minutes=5)
    assert rules.windows(freq + users) == {Window("events", five), Window("users", HOUR)}
    assert rules.triggered(freq, IssueFacts(), {Window("events", five): 10}) == []
    assert rules.triggered(freq, IssueFacts(), {Window("events", five): 11})[0].trigger == "frequency"
    assert rules.triggered(users, IssueFacts(), {Window("users", HOUR): 3})[0].reason.startswith("3 users")


def test_spike_needs_the_floor_and_the_multiple_of_the_baseline():
    assert not rules.is_spike(current=9, baseline=0.0, multiplier=3, floor=10)  # a quiet issue's first burst
    assert rules.is_spike(current=10, baseline=0.0, multiplier=3, floor=10)
    assert not rules.is_spike(current=30, baseline=10.0, multiplier=3, floor=10)
    assert rules.is_spike(current=31, baseline=10.0, multiplier=3, floor=10)


def test_baseline_is_the_mean_of_the_same_hours_on_the_previous_week():
    hours = rules.baseline_hours(NOW, timedelta(minutes=15))
    assert len(hours) == 7 and hours[0] == datetime(2026, 12, 5, 14, tzinfo=UTC)
    counts = {h: 60 for h in hours}  # 60 an hour at this time of day
    assert rules.baseline_from(counts, NOW, timedelta(minutes=15)) == 15.0
    assert len(rules.baseline_hours(NOW, timedelta(hours=2))) == 14
    spike = [{"id": rules.SPIKE, "value": 3, "interval": "15m", "floor": 5}]
    window = {Window("events", timedelta(minutes=15)): 46}
    usual = Window("events", timedelta(minutes=15))
    assert rules.triggered(spike, IssueFacts(), window, {usual: 15.0})[0].trigger == "spike"
    assert rules.triggered(spike, IssueFacts(), window, {usual: 16.0}) == []


def test_project_spike_reads_the_project_window_and_baseline_only():
    quarter = timedelta(minutes=15)
    spike = [{"id": rules.PROJECT_SPIKE, "value": 2, "interval": "15m", "floor": 100}]
    assert rules.windows(spike) == {Window("events", quarter), Window("project", quarter)}
    # Hourly project counts of 400 at this time of day: 100 per quarter hour is its usual rate.
    hours = rules.baseline_hours(NOW, quarter)
    usual = rules.baseline_from({h: 400 for h in hours}, NOW, quarter)
    assert usual == 100.0
    project = Window("project", quarter)
    # The issue's own window is high, but the project's decides; an issue given no project window
    # (not the top issue of its pass) never reports the project's spike.
    issue_only = {Window("events", quarter): 10_000}
    assert rules.triggered(spike, IssueFacts(), issue_only, {project: usual}) == []
    assert rules.triggered(spike, IssueFacts(), {project: 200}, {project: usual}) == []
    found = rules.triggered(spike, IssueFacts(), {project: 201}, {project: usual})
    assert [m.trigger for m in found] == ["project_spike"] and "for the project" in found[0].reason
    # The floor: a quiet project's first burst (baseline 0) must reach it.
    assert rules.triggered(spike, IssueFacts(), {project: 99}, {}) == []
    assert rules.triggered(spike, IssueFacts(), {project: 100}, {})[0].trigger == "project_spike"


def test_project_baseline_averages_the_same_hours_of_the_previous_seven_days():
    hours = rules.baseline_hours(NOW, timedelta(hours=1))
    counts = {h: 0 for h in hours}
    counts[datetime(2026, 12, 5, 14, tzinfo=UTC)] = 700  # one busy day among seven
    counts[datetime(2026, 12, 6, 14, tzinfo=UTC)] = 10_000  # today's hour is not its own baseline
    assert rules.baseline_from(counts, NOW, timedelta(hours=1)) == 100.0


@pytest.mark.parametrize(
    ("issue_type", "category", "expected"),
    [("error", "1", True), ("default", "1", True), ("csp", "1", True), ("nel", "1", True),
     ("feedback", "6", True), ("feedback", "1", False), ("transaction", "2", True), ("error", "2", False)],
)  # fmt: skip
def test_issue_category_filter_maps_stored_event_types_to_sentry_categories(issue_type, category, expected):
    flt = [{"id": rules.CATEGORY_FILTER, "value": category}]
    assert rules.filters_pass(flt, "all", IssueFacts(issue_type=issue_type), NOW) is expected


def test_latest_release_filter_compares_the_issue_first_release():
    flt = [{"id": rules.LATEST_RELEASE_FILTER}]
    latest = IssueFacts(first_release="2.0", release="2.0", latest_release="2.0")
    assert rules.filters_pass(flt, "all", latest, NOW)
    # An old issue seen again in the latest release: its first release is older.
    older = IssueFacts(first_release="1.0", release="2.0", latest_release="2.0")
    assert not rules.filters_pass(flt, "all", older, NOW)
    # No release at all in the project, or an issue without a release: never "the latest".
    assert not rules.filters_pass(flt, "all", IssueFacts(first_release="", latest_release=""), NOW)


def test_new_filters_and_project_spike_are_validated():
    base = {"name": "r", "conditions": [{"id": rules.FIRST_SEEN}], "actions": [
        {"id": rules.EMAIL_ACTION, "targetType": "Team"}]}  # fmt: skip
    ok = rules.validate_rule({**base, "filters": [{"id": rules.CATEGORY_FILTER, "value": "6"},
                                                  {"id": rules.LATEST_RELEASE_FILTER}]})  # fmt: skip
    assert len(ok["filters"]) == 2
    with pytest.raises(rules.RuleError) as bad:
        rules.validate_rule({**base, "filters": [{"id": rules.CATEGORY_FILTER, "value": "9"}]})
    assert "value must be one of 1 (error)" in bad.value.errors["filters"][0]
    with pytest.raises(rules.RuleError) as bad:
        rules.validate_rule(
            {**base, "conditions": [{"id": rules.PROJECT_SPIKE, "value": 1, "interval": "1h"}]}
        )
    assert "above 1" in bad.value.errors["conditions"][0]


@pytest.mark.parametrize(
    ("match", "value", "expected"),
    [("eq", "eu", True), ("eq", "e", False), ("ne", "eu", False), ("co", "u", True), ("nc", "u", False),
     ("sw", "e", True), ("ew", "u", True), ("is", "", True), ("ns", "", False)],
)  # fmt: skip
def test_tag_filter_matches(match, value, expected):
    assert rules.tag_matches([("region", "eu"), ("x", "y")], "region", match, value) is expected


def test_filters_all_or_any():
    facts = IssueFacts(level="warning", environment="staging", release="1.2",
                       first_seen=NOW - timedelta(hours=2))  # fmt: skip
    level = {"id": rules.LEVEL_FILTER, "match": "gte", "level": "40"}
    env = {"id": rules.ENVIRONMENT_FILTER, "environments": ["staging", "production"]}
    young = {"id": rules.AGE_FILTER, "comparison_type": "newer", "value": 3, "time": "hour"}
    release = {"id": rules.RELEASE_FILTER, "release": "1.2"}
    unassigned = {"id": rules.ASSIGNED_FILTER, "targetType": "Unassigned"}
    assert rules.filters_pass([env, young, release, unassigned], "all", facts, NOW)
    assert not rules.filters_pass([env, level], "all", facts, NOW)
    assert rules.filters_pass([env, level], "any", facts, NOW)
    assert rules.filters_pass([{**level, "match": "lte"}], "all", facts, NOW)
    assert not rules.filters_pass([{**young, "comparison_type": "older"}], "all", facts, NOW)


def test_validation_names_every_problem():
    with pytest.raises(rules.RuleError) as caught:
        rules.validate_rule(
            {
                "name": "",
                "frequency": 0,
                "conditions": [{"id": rules.FREQUENCY, "value": "many"}, {"id": "nope"}],
                "filters": [{"id": rules.LEVEL_FILTER, "level": "41"}],
                "actions": [{"id": rules.WEBHOOK_ACTION, "url": "file:///etc/passwd"}],
            }
        )
    errors = caught.value.errors
    assert set(errors) == {"name", "frequency", "conditions", "filters", "actions"}
    assert errors["conditions"] == [
        "condition 1: value must be a whole number",
        "condition 2: unknown trigger 'nope'",
    ]
    with pytest.raises(rules.RuleError) as caught:
        rules.validate_rule({"name": "x", "conditions": [], "actions": []})
    assert caught.value.errors == {"conditions": ["At least one trigger is required."]}
    users_week = {"id": rules.USERS, "value": 1, "interval": "1w"}
    with pytest.raises(rules.RuleError):
        rules.validate_rule({"name": "x", "conditions": [users_week], "actions": [{"id": rules.EMAIL_ACTION,
                             "targetType": "Team"}]})  # fmt: skip


def test_chat_formats_cannot_carry_mentions_links_or_markup():
    hostile = "<!channel> @everyone [click](https://evil) <https://evil|x> *bold*"
    assert "<" not in slack_mrkdwn(hostile) and "&lt;!channel&gt;" in slack_mrkdwn(hostile)
    escaped = discord_markdown(hostile)
    assert "\\[click\\]\\(https\\:" in escaped and "\\*bold\\*" in escaped

    class Content:
        headline, title, why, level, environment, permalink = (
            hostile,
            hostile,
            hostile,
            "error",
            "prod",
            "http://x/",
        )
        project_label, times_seen, user_count = "acme/<web>", 3, 1

    slack = slack_body(Content())  # type: ignore[arg-type]
    assert slack["text"] == hostile[:150] and slack["blocks"][0]["text"]["type"] == "plain_text"
    assert "&lt;web&gt;" in slack["blocks"][2]["elements"][0]["text"]
    discord = discord_body(Content())  # type: ignore[arg-type]
    assert discord["allowed_mentions"] == {"parse": []} and "\\@everyone" in discord["content"]


@pytest.mark.parametrize(
    ("address", "public"),
    [("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("169.254.169.254", False),
     ("100.64.0.1", False), ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False),
     ("0.0.0.0", False), ("224.0.0.1", False), ("93.184.216.34", True), ("2606:4700::1111", True)],
)  # fmt: skip
def test_only_public_addresses_are_called(address, public):
    assert is_public(address) is public


def test_retries_back_off_exponentially():
    assert [retry_delay(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 80, 160]
