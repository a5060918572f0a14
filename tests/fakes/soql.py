"""A small SOQL parser and evaluator: the subset the Salesforce connector sends, parsed properly.

    SELECT f1, f2 FROM Object
      [WHERE cond]            cond: AND / OR / NOT / parentheses over
                              field (= != <> < <= > >=) literal | field [NOT] IN (literals)
                              | field [NOT] LIKE 'pattern'
      [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...]
      [LIMIT n]

Literals: 'quoted strings' with SOQL's backslash escapes, numbers, true/false/null, date
(2030-01-07) and datetime (2030-01-07T09:00:00Z, with .sss and +hh:mm) literals. Keywords are
case-insensitive, as in Salesforce; string `=` and LIKE compare case-insensitively, except Id
and reference fields. A syntax error raises `SoqlError`, which the fake answers as
MALFORMED_QUERY with the row and column, like Salesforce.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "TRUE",
    "FALSE",
    "NULL",
}

_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    "%": "\\%",  # kept escaped: only meaningful inside a LIKE pattern
    "_": "\\_",
}

_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})", re.ASCII
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NUMBER = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*", re.ASCII)
_OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">", "(", ")", ",")


class SoqlError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # "kw", "ident", "string", "number", "date", "datetime", "op", "end"
    value: Any
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char == "'":
            i = _read_string(text, i, tokens)
            continue
        if m := _DATETIME.match(text, i):
            tokens.append(Token("datetime", parse_datetime(m.group(0)), i))
            i = m.end()
            continue
        if m := _DATE.match(text, i):
            tokens.append(Token("date", date.fromisoformat(m.group(0)), i))
            i = m.end()
            continue
        if m := _NUMBER.match(text, i):
            tokens.append(Token("number", Decimal(m.group(0)), i))
            i = m.end()
            continue
        if m := _IDENT.match(text, i):
            word = m.group(0)
            if word.upper() in KEYWORDS:
                tokens.append(Token("kw", word.upper(), i))
            else:
                tokens.append(Token("ident", word, i))
            i = m.end()
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is None:
            raise SoqlError(f"unexpected character {char!r}", i)
        tokens.append(Token("op", op, i))
        i += len(op)
    tokens.append(Token("end", None, len(text)))
    return tokens


def _read_string(text: str, start: int, tokens: list[Token]) -> int:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in _ESCAPES:
                raise SoqlError("invalid escape sequence in a string literal", i)
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        if char == "'":
            tokens.append(Token("string", "".join(out), start))
            return i + 1
        out.append(char)
        i += 1
    raise SoqlError("unterminated string literal", start)


def parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise SoqlError("a datetime literal needs a time zone", 0)
    return value.astimezone(UTC)


# --- the syntax tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str  # = != < <= > >= IN NOT IN LIKE NOT LIKE
    value: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND, OR
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    field: str
    descending: bool = False
    nulls_last: bool = False


@dataclass
class Query:
    fields: list[str]
    sobject: str
    where: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None

    def referenced_fields(self) -> list[str]:
        names = list(self.fields)
        names.extend(item.field for item in self.order_by)

        def walk(cond: Condition | None) -> None:
            if isinstance(cond, Comparison):
                names.append(cond.field)
            elif isinstance(cond, BoolOp):
                for item in cond.items:
                    walk(item)
            elif isinstance(cond, Not):
                walk(cond.item)

        walk(self.where)
        return names


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, kind: str, value: Any = None) -> Token | None:
        token = self.current
        if token.kind == kind and (value is None or token.value == value):
            self.i += 1
            return token
        return None

    def expect(self, kind: str, value: Any = None) -> Token:
        token = self.accept(kind, value)
        if token is None:
            wanted = value if value is not None else kind
            got = self.current.value if self.current.kind != "end" else "end of query"
            raise SoqlError(f"unexpected token: '{got}', expecting {wanted}", self.current.position)
        return token

    def query(self) -> Query:
        self.expect("kw", "SELECT")
        fields = [self.expect("ident").value]
        while self.accept("op", ","):
            fields.append(self.expect("ident").value)
        self.expect("kw", "FROM")
        query = Query(fields=fields, sobject=self.expect("ident").value)
        if self.accept("kw", "WHERE"):
            query.where = self.condition()
        if self.accept("kw", "ORDER"):
            self.expect("kw", "BY")
            query.order_by.append(self.order_item())
            while self.accept("op", ","):
                query.order_by.append(self.order_item())
        if self.accept("kw", "LIMIT"):
            token = self.expect("number")
            query.limit = int(token.value)
        self.expect("end")
        return query

    def order_item(self) -> OrderItem:
        name = self.expect("ident").value
        descending = bool(self.accept("kw", "DESC"))
        if not descending:
            self.accept("kw", "ASC")
        nulls_last = descending  # Salesforce: NULLS FIRST for ASC, NULLS LAST for DESC
        if self.accept("kw", "NULLS"):
            nulls_last = bool(self.accept("kw", "LAST"))
            if not nulls_last:
                self.expect("kw", "FIRST")
        return OrderItem(name, descending, nulls_last)

    def condition(self) -> Condition:
        items = [self.conjunction()]
        while self.accept("kw", "OR"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def conjunction(self) -> Condition:
        items = [self.negation()]
        while self.accept("kw", "AND"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def negation(self) -> Condition:
        if self.accept("kw", "NOT"):
            return Not(self.negation())
        if self.accept("op", "("):
            inner = self.condition()
            self.expect("op", ")")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        name = self.expect("ident").value
        negated = bool(self.accept("kw", "NOT"))
        if self.accept("kw", "IN"):
            self.expect("op", "(")
            values = [self.literal()]
            while self.accept("op", ","):
                values.append(self.literal())
            self.expect("op", ")")
            return Comparison(name, "NOT IN" if negated else "IN", tuple(values))
        if self.accept("kw", "LIKE"):
            token = self.expect("string")
            return Comparison(name, "NOT LIKE" if negated else "LIKE", token.value)
        if negated:
            raise SoqlError("NOT here must be followed by IN or LIKE", self.current.position)
        token = self.current
        if token.kind != "op" or token.value not in {"=", "!=", "<>", "<", "<=", ">", ">="}:
            raise SoqlError(f"unexpected token: '{token.value}'", token.position)
        self.take()
        op = "!=" if token.value == "<>" else token.value
        return Comparison(name, op, self.literal())

    def literal(self) -> Any:
        token = self.take()
        if token.kind in {"string", "number", "date", "datetime"}:
            return token.value
        if token.kind == "kw" and token.value in {"TRUE", "FALSE", "NULL"}:
            return {"TRUE": True, "FALSE": False, "NULL": None}[token.value]
        raise SoqlError(f"unexpected token: '{token.value}', expecting a value", token.position)


def parse(text: str) -> Query:
    return _Parser(text).query()


# --- evaluation -----------------------------------------------------------------------------


def like_to_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _comparable(value: Any, literal: Any, case_sensitive: bool) -> tuple[Any, Any]:
    if isinstance(value, str) and isinstance(literal, str) and not case_sensitive:
        return value.lower(), literal.lower()
    if isinstance(value, int | float | Decimal) and isinstance(literal, Decimal):
        return Decimal(str(value)), literal
    return value, literal


def matches(
    cond: Condition | None, row: Mapping[str, Any], case_sensitive: Callable[[str], bool]
) -> bool:
    if cond is None:
        return True
    if isinstance(cond, BoolOp):
        results = (matches(item, row, case_sensitive) for item in cond.items)
        return all(results) if cond.op == "AND" else any(results)
    if isinstance(cond, Not):
        return not matches(cond.item, row, case_sensitive)
    value = row.get(cond.field)
    sensitive = case_sensitive(cond.field)
    if cond.op in {"LIKE", "NOT LIKE"}:
        found = value is not None and bool(like_to_regex(cond.value).fullmatch(str(value)))
        return found if cond.op == "LIKE" else not found
    if cond.op in {"IN", "NOT IN"}:
        texts = _text_set(cond.value, sensitive)  # Salesforce answers IN from an index
        if texts is not None and isinstance(value, str):
            inside = (value if sensitive else value.lower()) in texts
        else:
            inside = any(_equal(value, item, sensitive) for item in cond.value)
        return inside if cond.op == "IN" else not inside
    if cond.op == "=":
        return _equal(value, cond.value, sensitive)
    if cond.op == "!=":
        return not _equal(value, cond.value, sensitive)
    if value is None or cond.value is None:
        return False
    left, right = _comparable(value, cond.value, sensitive)
    try:
        if cond.op == "<":
            return bool(left < right)
        if cond.op == "<=":
            return bool(left <= right)
        if cond.op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        raise SoqlError(f"value of incorrect type for field {cond.field}", 0) from None


@functools.lru_cache(maxsize=64)
def _text_set(literals: tuple[Any, ...], case_sensitive: bool) -> frozenset[str] | None:
    """The literals of an IN list of strings, as compared (None when not all are strings)."""
    if not all(isinstance(item, str) for item in literals):
        return None
    return frozenset(item if case_sensitive else item.lower() for item in literals)


def _equal(value: Any, literal: Any, case_sensitive: bool) -> bool:
    if value is None or literal is None:
        return value is None and literal is None
    left, right = _comparable(value, literal, case_sensitive)
    return bool(left == right)


def sort_key(order: list[OrderItem]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A key for `sorted`; DESC items are handled by sorting in several stable passes."""

    def key(row: Mapping[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for item in order:
            value = row.get(item.field)
            null_rank = (
                (1 if item.nulls_last else 0) if value is None else (0 if item.nulls_last else 1)
            )
            if isinstance(value, str):
                value = value if item.field == "Id" or item.field.endswith("Id") else value.lower()
            parts.append((null_rank, value if value is not None else 0))
        return tuple(parts)

    return key


def order_rows(rows: list[dict[str, Any]], order: list[OrderItem]) -> list[dict[str, Any]]:
    result = list(rows)
    for item in reversed(order):  # stable sorts, least significant first
        single = sort_key([item])
        if item.descending:
            non_null = [r for r in result if r.get(item.field) is not None]
            nulls = [r for r in result if r.get(item.field) is None]
            non_null.sort(key=single, reverse=True)
            result = non_null + nulls if item.nulls_last else nulls + non_null
        else:
            result.sort(key=single)
    return result
