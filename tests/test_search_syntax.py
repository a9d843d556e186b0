"""The issue search syntax, parsed without a database (issues/search_syntax.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from issues.search_syntax import MAX_LIST_VALUES, MAX_TERMS, MAX_VALUE_LENGTH, SearchError, Term, parse

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def one(query: str) -> Term:
    terms = parse(query, NOW)
    assert len(terms) == 1, terms
    return terms[0]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("is:unresolved", Term("is", ("unresolved",))),
        ("is:archived", Term("is", ("ignored",))),
        ("is:muted", Term("is", ("ignored",))),
        ("is:for_review", Term("is", ("for_review",))),
        ("is:[new,regressed]", Term("is", ("new", "regressed"))),
        ("!is:resolved", Term("is", ("resolved",), negated=True)),
        ("IS:unresolved", Term("tag", ("unresolved",), tag_key="IS")),
        ("assigned:me", Term("assigned", ("me",))),
        ("assigned:#backend", Term("assigned", ("#backend",))),
        ("assigned:[me,none]", Term("assigned", ("me", "none"))),
        ("bookmarks:me", Term("bookmarks", ("me",))),
        ("level:[error,warning]", Term("level", ("error", "warning"))),
        ("level:[ error , warning ]", Term("level", ("error", "warning"))),
        ("environment:production", Term("environment", ("production",))),
        ("release:latest", Term("release", ("latest",))),
        ("firstRelease:shop@1.0", Term("firstRelease", ("shop@1.0",))),
        ("first_release:shop@1.0", Term("firstRelease", ("shop@1.0",))),
        ("error.type:ValueError", Term("error.type", ("ValueError",))),
        ('error.value:"bad input"', Term("error.value", ("bad input",))),
        ("message:timeout", Term("message", ("timeout",))),
        ("user.email:a@example.com", Term("user.email", ("a@example.com",))),
        ("user.ip_address:10.0.0.1", Term("user.ip", ("10.0.0.1",))),
        ("has:browser", Term("has", ("browser",))),
        ("has:tags[customer]", Term("has", ("customer",))),
        ("customer_tier:gold", Term("tag", ("gold",), tag_key="customer_tier")),
        ('tags[browser]:"Chrome 120"', Term("tag", ("Chrome 120",), tag_key="browser")),
        ("tags[a:b]:c", Term("tag", ("c",), tag_key="a:b")),
        ('!server_name:"web 1"', Term("tag", ("web 1",), negated=True, tag_key="server_name")),
        ('url:"say \\"hi\\""', Term("tag", ('say "hi"',), tag_key="url")),
        ("issue:WEB-12", Term("issue", ("WEB-12",))),
        ("WEB-12", Term("short_id", ("WEB-12",))),
        ("web-12", Term("short_id", ("WEB-12",))),
        ("timesSeen:>100", Term("timesSeen", op=">", number=100)),
        ("times_seen:<=5", Term("timesSeen", op="<=", number=5)),
        ("timesSeen:10", Term("timesSeen", op="=", number=10)),
        ("timesSeen:>1k", Term("timesSeen", op=">", number=1000)),
        ("users:>=3", Term("users", op=">=", number=3)),
        ("userCount:>3", Term("users", op=">", number=3)),
        ("user_count:>3", Term("users", op=">", number=3)),
    ],
)
def test_one_term(query, expected):
    assert one(query) == expected


@pytest.mark.parametrize(
    "query,op,when",
    [
        ("age:-24h", ">=", NOW - timedelta(hours=24)),
        ("age:+7d", "<", NOW - timedelta(days=7)),
        ("age:-30m", ">=", NOW - timedelta(minutes=30)),
        ("age:-2w", ">=", NOW - timedelta(weeks=2)),
        ("firstSeen:-1h", ">=", NOW - timedelta(hours=1)),
        ("lastSeen:+30d", "<", NOW - timedelta(days=30)),
        ("last_seen:-24h", ">=", NOW - timedelta(hours=24)),
        ("firstSeen:>2026-01-01", ">", datetime(2026, 1, 1, tzinfo=UTC)),
        ("firstSeen:2026-01-01", ">=", datetime(2026, 1, 1, tzinfo=UTC)),
        ("lastSeen:<=2026-01-01T12:30:00", "<=", datetime(2026, 1, 1, 12, 30, tzinfo=UTC)),
        ("lastSeen:<2026-01-01T12:30:00Z", "<", datetime(2026, 1, 1, 12, 30, tzinfo=UTC)),
        ("lastSeen:>=2026-01-01T12:30:00+02:00", ">=", datetime(2026, 1, 1, 10, 30, tzinfo=UTC)),
        ('lastSeen:">2026-01-01"', ">", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_dates(query, op, when):
    term = one(query)
    assert (term.op, term.when) == (op, when)


def test_free_text_words_are_joined_and_quotes_kept_together():
    terms = parse('is:unresolved connection "reset by peer" refused', NOW)
    assert terms == [Term("is", ("unresolved",)), Term("text", ("connection reset by peer refused",))]


def test_many_terms_in_order():
    terms = parse("is:unresolved !assigned:me level:error WEB-3 lastSeen:-1h timesSeen:>2 foo", NOW)
    assert [t.key for t in terms] == ["is", "assigned", "level", "short_id", "lastSeen", "timesSeen", "text"]
    assert terms[1].negated


def test_empty_and_blank_queries_have_no_terms():
    assert parse("", NOW) == []
    assert parse("   ", NOW) == []


def test_words_that_are_not_short_ids_are_text():
    assert one("-12").key == "text"
    assert one("hello").values == ("hello",)
    assert one("utf-8") == Term("short_id", ("UTF-8",))  # looks like one; compiled to id or text


@pytest.mark.parametrize(
    "query,message",
    [
        ("is:bogus", "is:bogus is not a status"),
        ("is:linked", "no links to issue trackers"),
        ("is:unlinked", "no links to issue trackers"),
        ("is:[unresolved,bogus]", "is:bogus"),
        ("assigned_or_suggested:me", "no suggested owners"),
        ("level:", "needs a value"),
        ("!environment:", "needs a value"),
        ("age:yesterday", "not a time"),
        ("age:>-24h", "relative time takes no operator"),
        ("age:-24x", "not a time"),
        ("age:-9999999d", "not a time"),
        ("age:-99999w", "too far back"),
        ("firstSeen:2026-13-45", "not a time"),
        ("firstSeen:2026-02-30", "not a time"),
        ("lastSeen:>>2026-01-01", "not a comparison"),
        ("lastSeen:!2026-01-01", "to negate, write !"),
        ("timesSeen:many", "not a number"),
        ("timesSeen:>", "not a number"),
        ("timesSeen:>-3", "not a number"),
        ("timesSeen:=>3", "not a comparison"),
        ("timesSeen:>3.5", "not a number"),
        ("users:lots", "not a number"),
        ("timesSeen:>1234567890123456", "not a number"),
        ("level:[error,warning", "closing ]"),
        ("level:[]", "values separated by commas"),
        ("level:[error,,fatal]", "values separated by commas"),
        ('browser:"Chrome', "closing quote"),
        ('tags[x]:"', "closing quote"),
        ('"connection reset', "closing quote"),
        ('ok "connection reset', "closing quote"),
        ("level:bogus", "level:bogus is not a level"),
        ("level:[error,loud]", "level:loud is not a level"),
        ("customer_tier:>5", "compares by equality"),
        ("release:<2.0", "compares by equality"),
        ("!level:>=error", "compares by equality"),
    ],
)
def test_errors_say_what_is_wrong(query, message):
    with pytest.raises(SearchError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(query, NOW)


def test_bounds():
    with pytest.raises(SearchError, match="at most"):
        parse(" ".join(f"k{n}:v" for n in range(MAX_TERMS + 1)), NOW)
    with pytest.raises(SearchError, match="at most"):
        parse(" ".join(f"word{n}" for n in range(MAX_TERMS + 1)), NOW)
    with pytest.raises(SearchError, match="characters"):
        parse("tag:" + "x" * (MAX_VALUE_LENGTH + 1), NOW)
    with pytest.raises(SearchError, match="characters"):
        parse("x" * 10_001, NOW)
    values = ",".join(f"v{n}" for n in range(MAX_LIST_VALUES + 1))
    with pytest.raises(SearchError, match="at most"):
        parse(f"level:[{values}]", NOW)
    assert len(parse(" ".join(f"k{n}:v" for n in range(MAX_TERMS)), NOW)) == MAX_TERMS


def test_hostile_input_parses_in_bounded_time():
    # Long runs of quotes, brackets and colons: the scanner is linear (no nested quantifiers).
    for text in ('"' * 1999, "[" * 1999, ":" * 1999, "a:" * 999, "\\" * 1999):
        try:
            parse(text, NOW)
        except SearchError:
            pass


def test_unicode_values_are_kept():
    assert one("customer:Zoë") == Term("tag", ("Zoë",), tag_key="customer")
    assert one('"naïve café"') == Term("text", ("naïve café",))


def test_levels_are_case_blind_and_a_quoted_comparison_is_a_plain_value():
    assert parse("level:[Error,WARNING]", NOW) == [Term("level", ("error", "warning"))]
    assert parse('customer_tier:">5"', NOW) == [Term("tag", (">5",), tag_key="customer_tier")]
