"""The LogQL subset of the Loki stand-in: what it parses, how it evaluates, how it refuses.

Runbook: a failure here means the stand-in would answer a smoke check's query differently from Loki
(wrong lines, wrong counts, or a wrong error text). Error texts are Loki's own where known; valid
LogQL the stand-in does not evaluate must say `reference stack: unsupported LogQL`, never pass.
"""
from __future__ import annotations

import pytest
from lgtm_refstack import logql
from lgtm_refstack.logql import (
    LabelSetError,
    LineFilter,
    LogQLError,
    LogQuery,
    Matcher,
    ParseError,
    RangeAggregation,
    Unsupported,
    VectorAggregation,
    evaluate_instant,
    parse,
    parse_metric,
)

NS = 1_000_000_000

# --- parsing ---------------------------------------------------------------------------------------


def test_selector_with_all_matcher_ops_and_chained_filters():
    """Every matcher op and every line filter parses into the AST, in order."""
    q = parse('{a="b", c!="d", e=~"f.*", g!~"h"} |= "x" != "y" |~ "z+" !~ `w\\d`')
    assert isinstance(q, LogQuery)
    assert [(m.name, m.op, m.value) for m in q.matchers] == [("a", "=", "b"), ("c", "!=", "d"),
                                                            ("e", "=~", "f.*"), ("g", "!~", "h")]
    assert [(f.op, f.value) for f in q.filters] == [("|=", "x"), ("!=", "y"), ("|~", "z+"), ("!~", "w\\d")]


def test_string_escapes_are_go_escapes():
    """Double-quoted strings decode Go escapes; backtick strings are raw; surrogate escapes are invalid (Go)."""
    q = parse('{a="q\\"u\\\\o\\n\\u00e9"} |= `raw\\n`')
    assert q.matchers[0].value == 'q"u\\o\né'
    assert q.filters[0].value == "raw\\n"
    assert parse('{a="\\U0001F600"}').matchers[0].value == "\U0001F600"
    with pytest.raises(ParseError, match="invalid syntax"):
        parse('{a="\\ud83d\\ude00"}')


def test_metric_forms():
    """count_over_time, rate, and sum / sum by (...) around them parse with the right range."""
    e = parse('count_over_time({job="lgtm-smoke"} |= "run=1" [5m])')
    assert isinstance(e, RangeAggregation) and e.fn == "count_over_time" and e.range_ns == 300 * NS
    assert e.inner.filters[0].value == "run=1"
    e = parse('sum by (job) (rate({job="x"}[1m30s]))')
    assert isinstance(e, VectorAggregation) and e.fn == "sum" and e.grouping == ["job"] and not e.without
    assert e.inner.fn == "rate" and e.inner.range_ns == 90 * NS
    e = parse('sum(count_over_time({job="x"}[1h])) by (a, b)')
    assert e.grouping == ["a", "b"]
    assert parse('sum without (a) (rate({job="x"}[1m]))').without is True


@pytest.mark.parametrize("query, text", [
    # recorded from Loki 3.6 (contract exchange query_range_bad_logql)
    ('{job="lgtm-smoke"', "parse error at line 1, col 18: syntax error: unexpected $end, expecting } or ,"),
    ('{job="a"} |= ', "parse error at line 1, col 14: syntax error: unexpected $end, expecting STRING"),
    ('{job=}', "parse error at line 1, col 6: syntax error: unexpected }, expecting STRING"),
    ('{job="a" x="b"}', "parse error at line 1, col 10: syntax error: unexpected IDENTIFIER, expecting } or ,"),
    ('{job="a}', "parse error at line 1, col 6: literal not terminated"),
    ("", "parse error : syntax error: unexpected $end"),
    ('{job="a"}\n|= "x" "y"', "parse error at line 2, col 8: syntax error: unexpected STRING"),
])
def test_syntax_errors_in_loki_words(query, text):
    """Syntax errors say where (line, col of the offending token) and what, in goyacc's words."""
    with pytest.raises(ParseError) as err:
        parse(query)
    assert str(err.value) == text


@pytest.mark.parametrize("query", ["{}", '{job=~".*"}', '{job!="x"}', '{a="", b=~""}'])
def test_selector_needs_a_non_empty_matcher(query):
    """Like Loki, a selector whose every matcher matches the empty value is refused."""
    with pytest.raises(ParseError) as err:
        parse(query)
    assert str(err.value) == "parse error : " + logql.EMPTY_COMPATIBLE


@pytest.mark.parametrize("query, what", [
    ('{job="x"} | json', "pipeline stage '| json'"),
    ('{job="x"} | logfmt | level="error"', "pipeline stage '| logfmt'"),
    ('{job="x"} |= "a" or "b"', "'or' in a line filter"),
    ('bytes_over_time({job="x"}[5m])', "function bytes_over_time()"),
    ('topk(3, rate({job="x"}[5m]))', "function topk()"),
    ('sum(rate({job="x"}[5m])) > 0', "binary operator '>'"),
    ('rate({job="x"}[5m] |= "a")', "pipeline after the range selector"),
])
def test_valid_but_unsupported_logql_is_refused_loudly(query, what):
    """Valid LogQL the stand-in cannot evaluate is a 400 naming the gap, not a silent pass."""
    with pytest.raises(Unsupported) as err:
        parse(query)
    assert str(err.value) == f"reference stack: unsupported LogQL: {what} in {query}"
    assert isinstance(err.value, LogQLError)


def test_bad_regex_is_a_parse_error():
    """An invalid regex in a matcher or filter is a 400 parse error, not a stand-in crash."""
    for q in ('{job=~"("}', '{job="x"} |~ "("'):
        with pytest.raises(ParseError, match="error parsing regexp"):
            parse(q)


# --- evaluation -----------------------------------------------------------------------------------


def test_matchers_are_fully_anchored():
    """Regex matchers match the whole value, as in Prometheus; a missing label is the empty value."""
    assert Matcher("job", "=~", "lgtm").matches({"job": "lgtm"})
    assert not Matcher("job", "=~", "lgtm").matches({"job": "lgtm-smoke"})
    assert Matcher("job", "=~", "lgtm.*").matches({"job": "lgtm-smoke"})
    assert Matcher("job", "!~", "lgtm").matches({"job": "lgtm-smoke"})
    assert Matcher("x", "=", "").matches({"job": "a"})
    assert Matcher("x", "!=", "a").matches({})


def test_line_filters_chain_as_and():
    """Each line filter narrows the previous one; regex filters search (unanchored)."""
    q = parse('{job="x"} |= "run=1" != "debug" |~ "msg=h.l+o" !~ "^skip"')
    assert q.keep("a run=1 msg=hello")
    assert not q.keep("a run=1 debug msg=hello")
    assert not q.keep("a run=2 msg=hello")
    assert not q.keep("skip run=1 msg=hello")
    assert LineFilter("|~", "h.l").keep("ahalb") and not LineFilter("!~", "h.l").keep("ahalb")


ENTRIES = [
    ({"job": "a", "check": "1"}, 100 * NS, "run=1 one"),
    ({"job": "a", "check": "1"}, 200 * NS, "run=1 two"),
    ({"job": "a", "check": "2"}, 250 * NS, "run=1 three"),
    ({"job": "b", "check": "2"}, 250 * NS, "run=1 other job"),
    ({"job": "a", "check": "2"}, 301 * NS, "run=1 after t"),
]


def test_count_over_time_window_is_left_open_right_closed():
    """count_over_time(... [r]) at t counts entries with t - r < ts <= t, per series, sorted by labels."""
    e = parse('count_over_time({job="a"} |= "run=1" [200s])')
    assert evaluate_instant(e, ENTRIES, 300 * NS) == [({"check": "1", "job": "a"}, 1.0),
                                                      ({"check": "2", "job": "a"}, 1.0)]
    assert evaluate_instant(e, ENTRIES, 301 * NS) == [({"check": "1", "job": "a"}, 1.0),
                                                      ({"check": "2", "job": "a"}, 2.0)]


def test_rate_divides_by_the_range_in_seconds():
    """rate = count / range seconds."""
    e = parse('rate({job="a", check="1"}[100s])')
    assert evaluate_instant(e, ENTRIES, 200 * NS) == [({"check": "1", "job": "a"}, 0.01)]
    e = parse('rate({job="a", check="1"}[200s])')
    assert evaluate_instant(e, ENTRIES, 200 * NS) == [({"check": "1", "job": "a"}, 0.01)]


def test_vector_aggregations_group():
    """sum without grouping merges everything; by (l) keeps only l; count/max aggregate per group."""
    inner = 'count_over_time({job=~"a|b"}[1000s])'
    assert evaluate_instant(parse(f"sum({inner})"), ENTRIES, 300 * NS) == [({}, 4.0)]
    assert evaluate_instant(parse(f"sum by (check) ({inner})"), ENTRIES, 300 * NS) == [
        ({"check": "1"}, 2.0), ({"check": "2"}, 2.0)]
    assert evaluate_instant(parse(f"count without (check) ({inner})"), ENTRIES, 300 * NS) == [
        ({"job": "a"}, 2.0), ({"job": "b"}, 1.0)]
    assert evaluate_instant(parse(f"max({inner})"), ENTRIES, 300 * NS) == [({}, 2.0)]


def test_instant_evaluation_of_a_log_query_is_refused():
    """A log selector is no instant query: Loki's exact refusal text."""
    with pytest.raises(LogQLError) as err:
        evaluate_instant(parse('{job="a"}'), ENTRIES, 300 * NS)
    assert str(err.value) == ("log queries are not supported as an instant query type, please change your "
                              "query to a range query type")


# --- label sets of protobuf pushes (Prometheus ParseMetric) ---------------------------------------


def test_parse_metric_reads_label_sets_in_order():
    """Label-set strings parse to (name, value) pairs in written order, escapes decoded, duplicates kept."""
    assert parse_metric('{job="lgtm-smoke", check="loki-proto"}') == [("job", "lgtm-smoke"), ("check", "loki-proto")]
    assert parse_metric('{a="x\\"y", a="2"}') == [("a", 'x"y'), ("a", "2")]
    assert parse_metric("{}") == []


@pytest.mark.parametrize("text, message", [
    # recorded from Loki 3.6 (contract exchange push_invalid_label_name), after `couldn't parse labels: `
    ('{="x", job="lgtm-smoke"}', '1:2: parse error: unexpected "=" in label set, expected identifier or "}"'),
    ('{job="a" x="b"}', '1:10: parse error: unexpected identifier "x" in label set, expected "," or "}"'),
    ('{job}', '1:5: parse error: unexpected "}" in label set, expected "="'),
    ('job="a"', '1:1: parse error: unexpected identifier "job", expected "{"'),
    ('{a-b="x"}', '1:3: parse error: unexpected "-" in label set, expected "="'),
    ('{a.b="x"}', "1:3: parse error: unexpected character inside braces: '.'"),
])
def test_parse_metric_errors_carry_prometheus_positions(text, message):
    """Bad label sets fail with Prometheus' `line:col: parse error: ...` text (what Loki returns)."""
    with pytest.raises(LabelSetError) as err:
        parse_metric(text)
    assert str(err.value) == message
