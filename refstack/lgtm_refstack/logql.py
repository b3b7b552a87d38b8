"""A small, honest LogQL subset for the Loki stand-in.

Supported (and evaluated):
  - stream selectors  {a="b", c!="d", e=~"re", f!~"re"}  (regexes fully anchored, like Prometheus)
  - line filters      |= "x"   != "x"   |~ "re"   !~ "re"   (chained)
  - range aggregations  count_over_time(<log query> [<duration>])  and  rate(...)
  - vector aggregations sum / count / min / max / avg, with optional  by (l, ...)  or  without (...)

Everything else is either a syntax error, answered in Loki's words
(`parse error at line 1, col N: syntax error: unexpected X, expecting A or B`), or valid LogQL
this stand-in does not evaluate, answered with `reference stack: unsupported LogQL: ...` so that
nobody mistakes a stand-in gap for a passing check.

The same lexer also parses the label-set strings of protobuf pushes (`parse_metric`), whose errors
follow Prometheus' parser (`1:2: parse error: unexpected "=" in label set, ...`), as Loki uses it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

NS = 1_000_000_000

# --- errors -------------------------------------------------------------------------------


class LogQLError(Exception):
    """A query Loki would answer with 400; `str(err)` is the exact response text."""


class ParseError(LogQLError):
    def __init__(self, msg: str, line: int = 0, col: int = 0):
        self.msg, self.line, self.col = msg, line, col
        if line == 0 and col == 0:
            text = f"parse error : {msg}"
        else:
            text = f"parse error at line {line}, col {col}: {msg}"
        super().__init__(text)


class Unsupported(LogQLError):
    def __init__(self, what: str, query: str):
        super().__init__(f"reference stack: unsupported LogQL: {what} in {query}")


class LabelSetError(ValueError):
    """A label-set string that Prometheus' ParseMetric rejects (as Loki's push does)."""


EMPTY_COMPATIBLE = (
    "queries require at least one regexp or equality matcher that does not have an empty-compatible "
    'value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'
)

# --- lexer --------------------------------------------------------------------------------

_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": NS, "m": 60 * NS, "h": 3600 * NS,
                   "d": 86400 * NS, "w": 7 * 86400 * NS, "y": 365 * 86400 * NS}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PUNCT = ["|=", "|~", "!=", "!~", "=~", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",", "=", "|",
          "+", "-", "*", "/", "%", "^", ">", "<"]


@dataclass
class Token:
    kind: str   # "IDENTIFIER", "STRING", "DURATION", "NUMBER", "$end", or the punctuation itself
    text: str
    pos: int    # offset in the query
    value: object = None


def _unquote_go(body: str) -> str:
    """Decode a Go double-quoted string body (without the quotes)."""
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "a": "\a", "b": "\b",
              "f": "\f", "v": "\v"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt in ("u", "U", "x"):
            width = {"u": 4, "U": 8, "x": 2}[nxt]
            digits = body[i + 2:i + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError("invalid syntax")
            code = int(digits, 16)
            if nxt != "x" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
                raise ValueError("invalid syntax")  # Go: !utf8.ValidRune -> ErrSyntax (surrogates too)
            out.append(chr(code))
            i += 2 + width
        elif nxt in "01234567":
            digits = body[i + 1:i + 4]
            if not re.fullmatch(r"[0-7]{3}", digits):
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise ValueError("invalid syntax")
    return "".join(out)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def tokenize(text: str) -> list[Token]:
    toks: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":  # LogQL comments run to the end of the line
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        if c in "\"`":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if (c == '"' and text[j] == "\\") else 1
            if j >= len(text):
                raise ParseError("literal not terminated", *_line_col(text, i))
            raw = text[i + 1:j]
            try:
                value = raw if c == "`" else _unquote_go(raw)
            except ValueError:
                raise ParseError(f"error unquoting string {text[i:j + 1]}: invalid syntax",
                                 *_line_col(text, i)) from None
            toks.append(Token("STRING", text[i:j + 1], i, value))
            i = j + 1
            continue
        m = _DURATION.match(text, i)
        if m and not (m.end() < len(text) and (text[m.end()].isalnum() or text[m.end()] == "_")):
            total = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(m.group()))
            toks.append(Token("DURATION", m.group(), i, int(total)))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m:
            toks.append(Token("NUMBER", m.group(), i, float(m.group())))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            toks.append(Token("IDENTIFIER", m.group(), i, m.group()))
            i = m.end()
            continue
        for p in _PUNCT:
            if text.startswith(p, i):
                toks.append(Token(p, p, i))
                i += len(p)
                break
        else:
            raise ParseError(f"unexpected character: '{c}'", *_line_col(text, i))
    toks.append(Token("$end", "", len(text)))
    return toks


# --- AST and evaluation -------------------------------------------------------------------


@dataclass
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str
    _rx: re.Pattern | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.op in ("=~", "!~"):
            try:
                self._rx = re.compile(f"(?s:{self.value})")
            except re.error as e:
                raise ParseError(f"error parsing regexp: {e}") from None

    def matches(self, labels: dict[str, str]) -> bool:
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        hit = self._rx.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit

    def matches_empty(self) -> bool:
        return self.matches({})


@dataclass
class LineFilter:
    op: str  # |= != |~ !~
    value: str
    _rx: re.Pattern | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.op in ("|~", "!~"):
            try:
                self._rx = re.compile(self.value)
            except re.error as e:
                raise ParseError(f"error parsing regexp: {e}") from None

    def keep(self, line: str) -> bool:
        if self.op == "|=":
            return self.value in line
        if self.op == "!=":
            return self.value not in line
        hit = self._rx.search(line) is not None
        return hit if self.op == "|~" else not hit


@dataclass
class LogQuery:
    matchers: list[Matcher]
    filters: list[LineFilter] = field(default_factory=list)

    def selects(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def keep(self, line: str) -> bool:
        return all(f.keep(line) for f in self.filters)


@dataclass
class RangeAggregation:
    fn: str  # count_over_time | rate
    inner: LogQuery
    range_ns: int


@dataclass
class VectorAggregation:
    fn: str  # sum count min max avg
    inner: RangeAggregation | VectorAggregation
    grouping: list[str] | None = None  # None: no grouping clause
    without: bool = False


Expr = LogQuery | RangeAggregation | VectorAggregation


def is_log_query(expr: Expr) -> bool:
    return isinstance(expr, LogQuery)


def log_query_of(expr: Expr) -> LogQuery:
    while not isinstance(expr, LogQuery):
        expr = expr.inner
    return expr


def range_of(expr: Expr) -> int:
    while not isinstance(expr, RangeAggregation):
        expr = expr.inner
    return expr.range_ns


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def evaluate_instant(expr: Expr, entries, t_ns: int) -> list[tuple[dict[str, str], float]]:
    """Evaluate a metric query at t_ns over entries [(labels, ts_ns, line)].

    A range selects (t - range, t], as Loki does. Series come back sorted by their labels.
    """
    if isinstance(expr, LogQuery):
        raise LogQLError("log queries are not supported as an instant query type, please change your "
                         "query to a range query type")
    if isinstance(expr, RangeAggregation):
        lo = t_ns - expr.range_ns
        counts: dict[tuple, int] = {}
        for labels, ts, line in entries:
            if lo < ts <= t_ns and expr.inner.selects(labels) and expr.inner.keep(line):
                k = _key(labels)
                counts[k] = counts.get(k, 0) + 1
        seconds = expr.range_ns / NS
        return [(dict(k), float(n) / seconds if expr.fn == "rate" else float(n)) for k, n in sorted(counts.items())]
    inner = evaluate_instant(expr.inner, entries, t_ns)
    groups: dict[tuple, list[float]] = {}
    for labels, v in inner:
        if expr.grouping is None:
            g = {}
        elif expr.without:
            g = {k: val for k, val in labels.items() if k not in expr.grouping}
        else:
            g = {k: labels[k] for k in expr.grouping if k in labels}
        groups.setdefault(_key(g), []).append(v)
    agg = {"sum": sum, "count": lambda vs: float(len(vs)), "min": min, "max": max,
           "avg": lambda vs: sum(vs) / len(vs)}[expr.fn]
    return [(dict(k), float(agg(vs))) for k, vs in sorted(groups.items())]


# --- parser -------------------------------------------------------------------------------

RANGE_AGGS = {"count_over_time", "rate"}
OTHER_RANGE_AGGS = {"bytes_over_time", "bytes_rate", "avg_over_time", "sum_over_time", "min_over_time",
                    "max_over_time", "stdvar_over_time", "stddev_over_time", "quantile_over_time",
                    "first_over_time", "last_over_time", "absent_over_time", "rate_counter"}
VECTOR_AGGS = {"sum", "count", "min", "max", "avg"}
OTHER_VECTOR_AGGS = {"stddev", "stdvar", "topk", "bottomk", "sort", "sort_desc", "approx_topk"}
OTHER_FUNCTIONS = {"label_replace", "vector", "absent"}
LINE_FILTERS = ("|=", "!=", "|~", "!~")
MATCH_OPS = ("=", "!=", "=~", "!~")
BINARY_OPS = ("+", "-", "*", "/", "%", "^", "==", "!=", ">", ">=", "<", "<=", "or", "and", "unless")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, expected: list[str] = ()):  # goyacc: list the expected tokens only when fewer than 4
        t = self.tok
        msg = f"syntax error: unexpected {t.kind}"
        if 0 < len(expected) < 4:
            msg += ", expecting " + " or ".join(expected)
        raise ParseError(msg, *_line_col(self.text, t.pos))

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            self.fail([kind])
        return self.next()

    def unsupported(self, what: str):
        raise Unsupported(what, self.text)

    # grammar --------------------------------------------------------------------------
    def parse(self) -> Expr:
        if not self.text.strip():
            raise ParseError("syntax error: unexpected $end")
        expr = self.expr()
        if self.tok.kind != "$end":
            t = self.tok
            if t.kind in BINARY_OPS or t.text in BINARY_OPS:
                self.unsupported(f"binary operator {t.text!r}")
            if t.kind == "[":
                self.unsupported("range selector outside a range aggregation")
            self.fail()
        return expr

    def expr(self) -> Expr:
        t = self.tok
        if t.kind == "{":
            return self.log_query()
        if t.kind == "(":
            self.next()
            e = self.expr()
            self.expect(")")
            return e
        if t.kind == "IDENTIFIER":
            name = t.text
            if name in RANGE_AGGS:
                return self.range_agg()
            if name in VECTOR_AGGS:
                return self.vector_agg()
            if name in OTHER_RANGE_AGGS or name in OTHER_VECTOR_AGGS or name in OTHER_FUNCTIONS:
                self.unsupported(f"function {name}()")
        if t.kind == "NUMBER":
            self.unsupported("literal expression")
        self.fail()

    def selector(self) -> list[Matcher]:
        self.expect("{")
        matchers: list[Matcher] = []
        if self.tok.kind == "}":
            self.next()
        else:
            while True:
                name = self.expect("IDENTIFIER").text
                if self.tok.kind not in MATCH_OPS:
                    self.fail()  # four possible operators: goyacc lists none
                op = self.next().kind
                value = self.expect("STRING").value
                matchers.append(Matcher(name, op, value))
                if self.tok.kind == ",":
                    self.next()
                    continue
                if self.tok.kind == "}":
                    self.next()
                    break
                self.fail(["}", ","])
        if not any(not m.matches_empty() for m in matchers):
            raise ParseError(EMPTY_COMPATIBLE)
        return matchers

    def log_query(self) -> LogQuery:
        q = LogQuery(self.selector())
        while True:
            t = self.tok
            if t.kind in LINE_FILTERS:
                self.next()
                if self.tok.kind == "IDENTIFIER" and self.tok.text == "ip":
                    self.unsupported("ip() line filter")
                value = self.expect("STRING").value
                q.filters.append(LineFilter(t.kind, value))
                if self.tok.kind == "IDENTIFIER" and self.tok.text == "or":
                    self.unsupported("'or' in a line filter")
                continue
            if t.kind == "|":
                nxt = self.toks[self.i + 1]
                self.unsupported(f"pipeline stage '| {nxt.text}'")
            return q

    def range_agg(self) -> RangeAggregation:
        fn = self.next().text
        self.expect("(")
        if self.tok.kind == "(":  # count_over_time(({a="b"} |= "x")[5m])
            self.next()
            inner = self.log_query()
            self.expect(")")
        else:
            inner = self.log_query()
        if self.tok.kind != "[":
            self.fail(["["] if not inner.filters else [])
        self.next()
        rng = self.expect("DURATION").value
        if rng <= 0:
            raise ParseError("syntax error: zero or negative range")
        self.expect("]")
        if self.tok.kind == "IDENTIFIER" and self.tok.text == "offset":
            self.unsupported("offset modifier")
        if self.tok.kind in LINE_FILTERS or self.tok.kind == "|":
            self.unsupported("pipeline after the range selector")
        self.expect(")")
        if self.tok.kind == "IDENTIFIER" and self.tok.text in ("by", "without"):
            self.unsupported(f"grouping on {fn}()")
        return RangeAggregation(fn, inner, rng)

    def grouping(self) -> tuple[list[str], bool]:
        without = self.next().text == "without"
        self.expect("(")
        names: list[str] = []
        while self.tok.kind != ")":
            names.append(self.expect("IDENTIFIER").text)
            if self.tok.kind == ",":
                self.next()
            elif self.tok.kind != ")":
                self.fail([")", ","])
        self.next()
        return names, without

    def vector_agg(self) -> VectorAggregation:
        fn = self.next().text
        grouping, without = None, False
        if self.tok.kind == "IDENTIFIER" and self.tok.text in ("by", "without"):
            grouping, without = self.grouping()
        self.expect("(")
        inner = self.expr()
        if isinstance(inner, LogQuery):  # sum({a="b"}): a log query needs a range aggregation first
            self.fail()
        if self.tok.kind == ",":
            self.unsupported(f"parameter of {fn}()")
        self.expect(")")
        if self.tok.kind == "IDENTIFIER" and self.tok.text in ("by", "without"):
            if grouping is not None:
                self.fail()
            grouping, without = self.grouping()
        return VectorAggregation(fn, inner, grouping, without)


def parse(text: str) -> Expr:
    """Parse a LogQL query of the supported subset; LogQLError (ParseError / Unsupported) otherwise."""
    return _Parser(text).parse()


# --- label sets (push) --------------------------------------------------------------------


def _prom_desc(t: Token) -> str:
    if t.kind == "$end":
        return "end of input"
    if t.kind == "STRING":
        return f"string {t.text}"
    if t.kind == "IDENTIFIER":
        return f"identifier {t.text!r}".replace("'", '"')
    if t.kind in ("NUMBER", "DURATION"):
        return f"number {t.text!r}".replace("'", '"')
    return f'"{t.text}"'


def parse_metric(text: str) -> list[tuple[str, str]]:
    """Parse a `{a="1", b="2"}` label set the way Prometheus' ParseMetric does: [(name, value)] in order.

    Errors carry Prometheus' position prefix (`1:2: parse error: ...`), which is what Loki puts after
    `couldn't parse labels: `. Duplicate names are kept (Loki's validation rejects them later).
    """
    def err(tok: Token, msg: str):
        line, col = _line_col(text, tok.pos)
        raise LabelSetError(f"{line}:{col}: parse error: {msg}")

    try:
        toks = tokenize(text)
    except ParseError as e:
        msg = e.msg.replace("unexpected character:", "unexpected character inside braces:")
        raise LabelSetError(f"{e.line}:{e.col}: parse error: {msg}") from None
    if toks[0].kind != "{":
        err(toks[0], f'unexpected {_prom_desc(toks[0])}, expected "{{"')
    i, pairs = 1, []
    while toks[i].kind != "}":
        t = toks[i]
        if t.kind not in ("IDENTIFIER", "STRING"):
            err(t, f'unexpected {_prom_desc(t)} in label set, expected identifier or "}}"')
        if toks[i + 1].kind != "=":
            err(toks[i + 1], f'unexpected {_prom_desc(toks[i + 1])} in label set, expected "="')
        if toks[i + 2].kind != "STRING":
            err(toks[i + 2], f"unexpected {_prom_desc(toks[i + 2])} in label set, expected string")
        pairs.append((t.value, toks[i + 2].value))
        i += 3
        if toks[i].kind == ",":
            i += 1
        elif toks[i].kind != "}":
            err(toks[i], f'unexpected {_prom_desc(toks[i])} in label set, expected "," or "}}"')
    if toks[i + 1].kind != "$end":
        err(toks[i + 1], f"unexpected {_prom_desc(toks[i + 1])}, expected end of input")
    return pairs
