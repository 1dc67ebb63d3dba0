"""The GAQL subset the simulator answers (google-ads-api.md §4, §6; [DOC docs/query/grammar]):

    SELECT f1, f2 FROM resource
      [WHERE cond AND cond …]      cond: f = v | != | < | <= | > | >= | IN (…) | NOT IN (…)
                                          | BETWEEN a AND b | LIKE 'x%' | NOT LIKE | IS [NOT] NULL
                                          | segments.date DURING LAST_7_DAYS (a named range)
      [ORDER BY f [ASC|DESC], …] [LIMIT n]

Fields are snake_case `resource.field.sub_field`; a row may hold the FROM resource and the
resources it is attributed to (an ad group row also has its campaign). Values are quoted
strings (single or double, backslash escapes), numbers, or bare enum names. `metrics.*` and
`segments.date` come with FROM campaign (`google_ads_reports.py` makes those rows). Problems are
`queryError`s (or `changeEventError`s for change_event's own rules).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flightdeck.simulators.google_ads_errors import AdsError
from flightdeck.simulators.google_ads_spec import RESOURCES, field_spec

# FROM resource -> the resources its rows carry (itself first).
ATTRIBUTED: dict[str, tuple[str, ...]] = {
    "customer": ("customer",),
    "customer_client": ("customer_client", "customer"),
    "campaign_budget": ("campaign_budget", "customer"),
    "campaign": ("campaign", "campaign_budget", "customer", "metrics", "segments"),
    "ad_group": ("ad_group", "campaign", "customer"),
    "ad_group_ad": ("ad_group_ad", "ad_group", "campaign", "customer"),
    "ad_group_criterion": ("ad_group_criterion", "ad_group", "campaign", "customer"),
    "label": ("label", "customer"),
    "ad_group_ad_label": ("ad_group_ad_label", "ad_group_ad", "ad_group", "label", "customer"),
    "change_event": ("change_event", "customer"),
}

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)"""
    r"""|(?P<op>!=|<=|>=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"""
)
KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "LIMIT",
    "IN",
    "NOT",
    "BETWEEN",
    "LIKE",
    "IS",
    "NULL",
    "PARAMETERS",
    "DURING",
}


class QueryError(Exception):
    def __init__(self, error: AdsError) -> None:
        super().__init__(error.message)
        self.error = error


def _query_error(code: str, message: str, trigger: str | None = None) -> QueryError:
    return QueryError(AdsError("queryError", code, message, trigger=trigger))


@dataclass
class Condition:
    field: str
    op: str
    values: list[Any]


@dataclass
class Query:
    fields: list[str]
    resource: str
    conditions: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None


@dataclass
class _Tokens:
    items: list[tuple[str, Any]]
    position: int = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def next(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise _query_error("UNEXPECTED_END_OF_QUERY", "The query ended unexpectedly.")
        self.position += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and str(token[1]).upper() == word:
            self.position += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            found = self.peek()
            raise _query_error(
                f"EXPECTED_{word}" if word in ("FROM", "BY", "AND") else "BAD_SYMBOL",
                f"Expected {word}.",
                str(found[1]) if found else None,
            )

    def symbol(self, value: str) -> bool:
        token = self.peek()
        if token and token[0] == "op" and token[1] == value:
            self.position += 1
            return True
        return False


def tokenize(text: str) -> _Tokens:
    items: list[tuple[str, Any]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _query_error("BAD_SYMBOL", "Unexpected character.", text[position:][:20])
        position = match.end()
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        items.append((kind, value))
    return _Tokens(items)


def parse(text: str) -> Query:
    tokens = tokenize(text)
    tokens.expect("SELECT")
    fields = [_field(tokens)]
    while tokens.symbol(","):
        fields.append(_field(tokens))
    tokens.expect("FROM")
    kind, resource = tokens.next()
    if kind != "word" or resource not in ATTRIBUTED:
        raise _query_error(
            "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", "Unknown resource in FROM.", str(resource)
        )
    query = Query(fields, resource)
    if tokens.keyword("WHERE"):
        query.conditions.append(_condition(tokens))
        while tokens.keyword("AND"):
            query.conditions.append(_condition(tokens))
    if tokens.keyword("ORDER"):
        tokens.expect("BY")
        while True:
            name = _field(tokens)
            descending = tokens.keyword("DESC")
            if not descending:
                tokens.keyword("ASC")
            query.order.append((name, descending))
            if not tokens.symbol(","):
                break
    if tokens.keyword("LIMIT"):
        kind, value = tokens.next()
        if kind != "number" or not isinstance(value, int) or value <= 0:
            raise _query_error("BAD_LIMIT_VALUE", "LIMIT must be a positive integer.", str(value))
        query.limit = value
    if tokens.keyword("PARAMETERS"):
        tokens.position = len(tokens.items)  # include_drafts=… and the like: accepted, unused
    if tokens.peek() is not None:
        raise _query_error("BAD_SYMBOL", "Unexpected text after the query.", str(tokens.next()[1]))
    for name in [*query.fields, *(c.field for c in query.conditions), *(o[0] for o in query.order)]:
        _check_field(query.resource, name)
    return query


def _field(tokens: _Tokens) -> str:
    kind, value = tokens.next()
    if kind != "word" or str(value).upper() in KEYWORDS or "." not in str(value):
        raise _query_error("BAD_FIELD_NAME", "Expected a field name.", str(value))
    return str(value)


def _value(tokens: _Tokens) -> Any:
    kind, value = tokens.next()
    if kind in ("string", "number"):
        return value
    if kind == "word" and str(value).upper() not in KEYWORDS:
        return str(value)  # a bare enum constant
    raise _query_error("BAD_VALUE", "Expected a value.", str(value))


def _condition(tokens: _Tokens) -> Condition:
    name = _field(tokens)
    if tokens.keyword("IN"):
        return Condition(name, "IN", _list(tokens))
    if tokens.keyword("NOT"):
        if tokens.keyword("IN"):
            return Condition(name, "NOT IN", _list(tokens))
        tokens.expect("LIKE")
        return Condition(name, "NOT LIKE", [_value(tokens)])
    if tokens.keyword("BETWEEN"):
        low = _value(tokens)
        tokens.expect("AND")
        return Condition(name, "BETWEEN", [low, _value(tokens)])
    if tokens.keyword("LIKE"):
        return Condition(name, "LIKE", [_value(tokens)])
    if tokens.keyword("DURING"):
        kind, value = tokens.next()
        if kind != "word":
            raise _query_error(
                "INVALID_VALUE_WITH_DURING_OPERATOR", "DURING takes a date range.", str(value)
            )
        return Condition(name, "DURING", [str(value)])
    if tokens.keyword("IS"):
        negated = tokens.keyword("NOT")
        tokens.expect("NULL")
        return Condition(name, "IS NOT NULL" if negated else "IS NULL", [])
    kind, op = tokens.next()
    if kind != "op" or op not in ("=", "!=", "<", "<=", ">", ">="):
        raise _query_error("BAD_OPERATOR", "Unknown operator.", str(op))
    return Condition(name, op, [_value(tokens)])


def _list(tokens: _Tokens) -> list[Any]:
    if not tokens.symbol("("):
        raise _query_error("BAD_SYMBOL", "Expected '('.")
    values = [_value(tokens)]
    while tokens.symbol(","):
        values.append(_value(tokens))
    if not tokens.symbol(")"):
        raise _query_error("BAD_SYMBOL", "Expected ')'.")
    return values


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _check_field(resource: str, name: str) -> None:
    owner, *path = name.split(".")
    if owner not in RESOURCES:
        raise _query_error("UNRECOGNIZED_FIELD", "Unrecognized field.", name)
    if owner not in ATTRIBUTED[resource]:
        raise _query_error(
            "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
            f"'{owner}' cannot be selected with FROM {resource}.",
            name,
        )
    if not path or field_spec(owner, [camel(part) for part in path]) is None:
        raise _query_error("UNRECOGNIZED_FIELD", "Unrecognized field.", name)


# -- evaluation --

Row = dict[str, dict[str, Any]]  # camelCase resource key -> stored object


def lookup(row: Row, name: str) -> Any:
    owner, *path = name.split(".")
    value: Any = row.get(camel(owner))
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(camel(part))
    return value


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    a, b = _comparable(left), _comparable(right)
    if isinstance(a, bool) or isinstance(b, bool):
        a, b = str(a).lower(), str(b).lower()
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)):
        a, b = str(a), str(b)
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    try:
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        return False


def _like(value: Any, pattern: Any) -> bool:
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(pattern)
    )
    return re.fullmatch(regex, str(value), re.DOTALL) is not None


def matches(row: Row, condition: Condition) -> bool:
    value = lookup(row, condition.field)
    op, values = condition.op, condition.values
    if op == "IS NULL":
        return value is None
    if op == "IS NOT NULL":
        return value is not None
    if value is None:
        return op in ("!=", "NOT IN", "NOT LIKE")
    if op == "IN":
        return any(_compare(value, "=", v) for v in values)
    if op == "NOT IN":
        return not any(_compare(value, "=", v) for v in values)
    if op == "BETWEEN":
        return _compare(value, ">=", values[0]) and _compare(value, "<=", values[1])
    if op == "LIKE":
        return _like(value, values[0])
    if op == "NOT LIKE":
        return not _like(value, values[0])
    return _compare(value, op, values[0])


def project(row: Row, fields: list[str]) -> dict[str, Any]:
    """The selected fields of a row, nested as the API answers (each resource present keeps
    its resourceName), plus nothing else."""
    out: dict[str, Any] = {}
    for name in fields:
        owner, *path = name.split(".")
        source = row.get(camel(owner))
        if source is None:
            continue
        target = out.setdefault(camel(owner), {})
        if "resourceName" in source:
            target["resourceName"] = source["resourceName"]
        value = lookup(row, name)
        if value is None:
            continue
        for part in path[:-1]:
            target = target.setdefault(camel(part), {})
        target[camel(path[-1])] = value
    return out


def run(query: Query, rows: list[Row]) -> list[Row]:
    selected = [row for row in rows if all(matches(row, c) for c in query.conditions)]
    for name, descending in reversed(query.order):  # stable sorts, last key first
        selected.sort(key=_row_key(name), reverse=descending)
    return selected[: query.limit] if query.limit is not None else selected


def _row_key(name: str) -> Callable[[Row], tuple[bool, tuple[int, Any]]]:
    def key(row: Row) -> tuple[bool, tuple[int, Any]]:
        value = lookup(row, name)
        return (value is None, _sort_key(value))

    return key


def _sort_key(value: Any) -> tuple[int, Any]:
    value = _comparable(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def field_mask(fields: list[str]) -> str:
    return ",".join(
        ".".join([camel(name.split(".")[0]), *(camel(p) for p in name.split(".")[1:])])
        for name in fields
    )
