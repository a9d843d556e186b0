"""The log search parser alone: pure, no Django."""

import pytest

from logs.query.parser import (
    MAX_TERMS,
    AttributeTerm,
    CompareTerm,
    LevelTerm,
    SearchError,
    TextTerm,
    TraceTerm,
    parse_query,
)

TRACE = "7e8ccfe1ff7f4ca6857d5820b8fa5645"


@pytest.mark.parametrize("key", ["trace", "trace_id", "trace.id"])
def test_trace_keys(key):
    assert parse_query(f"{key}:{TRACE.upper()}") == [TraceTerm(TRACE)]


def test_trace_id_must_be_32_hex():
    with pytest.raises(SearchError, match="32 hexadecimal"):
        parse_query("trace:abc")


def test_levels_with_aliases_and_lists():
    assert parse_query("level:error") == [LevelTerm(("error",))]
    assert parse_query("severity:warning,fatal") == [LevelTerm(("warn", "fatal"))]
    with pytest.raises(SearchError, match="unknown level"):
        parse_query("level:loud")


def test_user_release_environment_map_to_sdk_attributes():
    assert parse_query("user.id:42") == [AttributeTerm(("user.id",), (42, "42"))]
    assert parse_query("user.email:a@b.c") == [AttributeTerm(("user.email",), ("a@b.c",))]
    assert parse_query("user.username:alice") == [AttributeTerm(("user.name", "user.username"), ("alice",))]
    assert parse_query("release:shop@1.0") == [AttributeTerm(("sentry.release",), ("shop@1.0",))]
    assert parse_query("environment:prod") == [AttributeTerm(("sentry.environment",), ("prod",))]


def test_attribute_values_are_typed():
    assert parse_query("order_id:42") == [AttributeTerm(("order_id",), (42, "42"))]
    assert parse_query("amount:9.99") == [AttributeTerm(("amount",), (9.99, "9.99"))]
    assert parse_query("final:false") == [AttributeTerm(("final",), (False, "false"))]
    assert parse_query('order_id:"42"') == [AttributeTerm(("order_id",), ("42",))]
    assert parse_query("payment.provider:stripe") == [AttributeTerm(("payment.provider",), ("stripe",))]


def test_comparisons_and_negation():
    assert parse_query("retry:>2") == [CompareTerm("retry", ">", 2.0)]
    assert parse_query("amount:<=9.5") == [CompareTerm("amount", "<=", 9.5)]
    assert parse_query("!level:debug") == [LevelTerm(("debug",), negated=True)]
    assert parse_query("!warehouse:ber-1") == [AttributeTerm(("warehouse",), ("ber-1",), negated=True)]
    with pytest.raises(SearchError, match="needs a number"):
        parse_query("retry:>many")


def test_phrases_words_and_wildcards():
    assert parse_query('"placed by alice" declined') == [TextTerm("placed by alice"), TextTerm("declined")]
    assert parse_query("!declined") == [TextTerm("declined", negated=True)]
    assert parse_query('message:"Order 123"') == [TextTerm("Order 123")]
    assert parse_query("sku:A-*") == [AttributeTerm(("sku",), pattern="A-*")]
    assert parse_query('note:"a \\"quoted\\" word"') == [AttributeTerm(("note",), ('a "quoted" word',))]


def test_everything_at_once():
    terms = parse_query(
        f'trace:{TRACE} level:error user.id:42 release:r1 retry:>1 !final:true "Payment declined"'
    )
    assert [type(t).__name__ for t in terms] == [
        "TraceTerm", "LevelTerm", "AttributeTerm", "AttributeTerm", "CompareTerm", "AttributeTerm", "TextTerm",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "query, reason",
    [
        ('"unclosed', "closing quote"),
        ("level:", "needs a value"),
        (" ".join(["w"] * (MAX_TERMS + 1)), "at most"),
        ("x" * 201, "at most 200"),
        ("a" * 2001, "at most 2000"),
        ('""', "empty phrase"),
    ],
)
def test_bad_queries_say_why(query, reason):
    with pytest.raises(SearchError, match=reason):
        parse_query(query)


def test_empty_query_is_no_terms():
    assert parse_query("") == [] and parse_query(None) == [] and parse_query("   ") == []
