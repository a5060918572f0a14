"""The report builder's filter rows: field, operator and value chosen from lists, never JSON.

`fields()` offers only what the engine would accept from the viewer: the shared core, the
viewer's own fields it may see (not its private ones while "hide private fields" is on) and each
partner's fields shared with it (`records.table.catalog`, the same rule as the record list), plus
"Partner company" (records a chosen partner takes part in). Each field has a type that decides
its operators and its value input: options with labels for enums, partners, colleagues and
yes/no; a date input; a number; text. `compile_rows()` turns the submitted rows into the
filter list the engine takes (leaves, ANDed), checking each row first so that a bad row gets
a message next to it; `rows_of()` reads a saved report's filters back into rows, and keeps
(unchanged, as `kept`) any condition the rows cannot show (nested groups made through the API).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.conditions import MAX_TEXT_LENGTH
from coterie.authz.partners import partner_ids
from coterie.kit.problems import Problem
from coterie.models import Company, Record, User
from coterie.network.companies import names as company_names
from coterie.records import table
from coterie.reports import ordering
from coterie.web.forms import FormFields

PARTNER = "partner"  # the engine's pseudo-field: records a partner company takes part in
# the engine's link pseudo-fields (`reports.dimensions.LINK_DIMENSIONS`): name, label, the
# record kinds that take such links
LINK_FILTERS = (
    ("campaign", "Campaign", ("lead", "opportunity")),
    ("solution", "Joint solution", ("opportunity", "lead", "plan", "campaign")),
)
MAX_ROWS = 10
ROW_INDEX = "filter_row"  # one hidden input per row, holding its index
KEPT = "filters_kept"  # conditions the rows cannot show, kept as they are

_EMPTY = (("is_null", "is empty"), ("is_not_null", "is not empty"))
_CHOICE = (("eq", "is"), ("ne", "is not"), ("in", "is any of"), ("not_in", "is none of"))
OPERATORS: dict[str, tuple[tuple[str, str], ...]] = {
    "text": (("eq", "is"), ("ne", "is not"), ("starts_with", "starts with"), *_EMPTY),
    "number": (
        ("gte", "is at least"),
        ("lte", "is at most"),
        ("between", "is between"),
        ("gt", "is more than"),
        ("lt", "is less than"),
        ("eq", "is"),
        ("ne", "is not"),
        *_EMPTY,
    ),
    "date": (
        ("between", "is between"),
        ("gte", "is on or after"),
        ("lte", "is on or before"),
        ("eq", "is on"),
        ("gt", "is after"),
        ("lt", "is before"),
        *_EMPTY,
    ),
    "enum": (*_CHOICE, *_EMPTY),
    "multi_enum": (("contains", "includes"), ("contains_any", "includes any of"), *_EMPTY),
    "bool": (("eq", "is"), *_EMPTY),
    "user": (*_CHOICE, *_EMPTY),
    "company": _CHOICE,
    PARTNER: _CHOICE,
}
LIST_OPS = frozenset({"in", "not_in", "contains_any"})
NULL_OPS = frozenset({"is_null", "is_not_null"})
NEVER_EMPTY = frozenset({"title", "customer_name", "owner_company", "created_at", "updated_at"})
_KINDS = {"long_text": "text", "money": "number"}  # input kinds of the condition types


@dataclass(frozen=True)
class FilterField:
    """A field the viewer may filter on: its query name, label, input kind and choices."""

    name: str
    label: str
    kind: str  # a key of OPERATORS
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choice kinds
    group: str = ""  # "Shared", "Mine" or the partner's name (for the select's groups)

    @property
    def operators(self) -> tuple[tuple[str, str], ...]:
        found = OPERATORS[self.kind]
        if self.name in NEVER_EMPTY or self.kind in ("company", PARTNER):
            return tuple((op, text) for op, text in found if op not in NULL_OPS)
        return found


@dataclass
class FilterRow:
    """One row as the page shows it: field, operator, values (two for a range), error."""

    index: int
    name: str = ""  # the field's query name
    op: str = ""
    values: list[str] = field(default_factory=list)
    error: str = ""

    def value(self, at: int = 0) -> str:
        return self.values[at] if at < len(self.values) else ""


@dataclass
class Rows:
    """The builder's filter rows, and conditions kept that the rows cannot show."""

    rows: list[FilterRow] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kept_json(self) -> str:
        return json.dumps(self.kept, separators=(",", ":")) if self.kept else ""

    def errors(self) -> dict[str, str]:
        return {f"filter.{r.index}": r.error for r in self.rows if r.error}


def fields(session: Session, actor: Actor, kind: str) -> list[FilterField]:
    """The fields the viewer may filter records of `kind` on, labelled, in chooser order."""
    partners = company_names(session, partner_ids(session, actor.company_id))
    partner_choices = tuple(sorted(((str(c), n) for c, n in partners.items()), key=_by_label))
    own_name = session.scalar(select(Company.name).where(Company.id == actor.company_id)) or ""
    users = session.execute(
        select(User.id, User.name)
        .where(User.company_id == actor.company_id, User.is_active)
        .order_by(User.name)
    )
    colleagues = tuple((str(i), n) for i, n in users)
    found: list[FilterField] = []
    if partner_choices:
        found.append(FilterField(PARTNER, "Partner company", PARTNER, partner_choices, "Shared"))
    for name, label, kinds in LINK_FILTERS:
        if kind in kinds:
            statement = gate.visible(actor.principal, name).order_by(Record.title).limit(200)
            hubs = tuple((str(r.id), r.title) for r in session.scalars(statement))
            if hubs:  # a choice of the campaigns (solutions) the viewer sees; links count only
                found.append(FilterField(name, label, PARTNER, hubs, "Shared"))
    for column in table.catalog(session, actor, kind).filterable():
        kind_ = _KINDS.get(column.type, column.type)
        options = column.options
        label = column.label
        if column.name in ("mine.stage", "joint_stage"):
            # a stage is chosen by name from the workflow's stages (text equality underneath)
            known = (ordering.stages if column.name == "mine.stage" else ordering.joint_stages)(
                session, actor.principal, kind
            )
            kind_ = "enum"
            options = tuple((key, known.labels[key]) for key in known.order)
        elif column.name == "owner_company":
            label = "Owner company"
            options = ((str(actor.company_id), own_name), *partner_choices)
        elif kind_ == "user":
            if column.owner is not None:
                continue  # a partner's users are not listed to the viewer: no way to name them
            options = colleagues
        elif kind_ == "bool":
            options = (("true", "Yes"), ("false", "No"))
        if kind_ not in OPERATORS:
            continue
        found.append(FilterField(column.name, label, kind_, tuple(options), column.group))
    return found


def _by_label(item: tuple[str, str]) -> str:
    return item[1].casefold()


def by_name(found: Sequence[FilterField]) -> dict[str, FilterField]:
    return {f.name: f for f in found}


# --- the form ----------------------------------------------------------------------------------


def read(form: FormFields) -> Rows:
    """The rows as submitted (one hidden `filter_row` index each), and the kept conditions."""
    rows: list[FilterRow] = []
    seen: set[str] = set()
    for raw in form.texts(ROW_INDEX)[: MAX_ROWS * 2]:
        if not raw.isdigit() or raw in seen:
            continue
        seen.add(raw)
        prefix = f"filter.{raw}"
        op = form.text(f"{prefix}.op")
        values = form.texts(f"{prefix}.value") if op in LIST_OPS else [form.text(f"{prefix}.value")]
        if op == "between":
            values = [form.text(f"{prefix}.value"), form.text(f"{prefix}.to")]
        rows.append(FilterRow(int(raw), form.text(f"{prefix}.field"), op, values))
    kept: list[dict[str, Any]] = []
    text = form.text(KEPT)
    if text:
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = []
        if isinstance(loaded, list):
            kept = [c for c in loaded if isinstance(c, dict)]
    return Rows(rows[:MAX_ROWS], kept)


def compile_rows(
    rows: Rows, known: Mapping[str, FilterField]
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The engine's filter list from the rows (each row checked, its error set on it), and the
    row index of each leaf (to put the engine's own refusals next to their rows)."""
    leaves: list[dict[str, Any]] = []
    row_of: dict[int, int] = {}
    for row in rows.rows:
        if not row.name:
            continue
        leaf = _leaf(row, known.get(row.name))
        if leaf is not None:
            row_of[len(leaves)] = row.index
            leaves.append(leaf)
    return [*leaves, *rows.kept], row_of


def _leaf(row: FilterRow, spec: FilterField | None) -> dict[str, Any] | None:
    if spec is None:
        row.error = "You cannot filter on this field: it is not one you can see."
        return None
    ops = dict(spec.operators)
    if row.op not in ops:
        row.error = "Choose how to compare."
        return None
    if row.op in NULL_OPS:
        return {"field": spec.name, "op": row.op}
    if row.op == "between":
        low, high = (_scalar(spec, row.value(i)) for i in (0, 1))
        if low is None or high is None:
            row.error = f"Enter both ends of the range ({_hint(spec)})."
            return None
        if _order(low) > _order(high):
            row.error = "The first value must not be greater than the second."
            return None
        return {"field": spec.name, "op": "between", "value": [low, high]}
    if row.op in LIST_OPS:
        values = [_scalar(spec, v) for v in row.values if v]
        if not values or any(v is None for v in values):
            row.error = "Choose at least one value."
            return None
        return {"field": spec.name, "op": row.op, "value": values}
    value = _scalar(spec, row.value())
    if value is None:
        row.error = f"Enter a value ({_hint(spec)})."
        return None
    return {"field": spec.name, "op": row.op, "value": value}


def _hint(spec: FilterField) -> str:
    return {
        "number": "a number, e.g. 25000",
        "date": "a date",
        "text": "some text",
    }.get(spec.kind, "choose one")


def _order(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, int | float) else value


def _scalar(spec: FilterField, text: str) -> Any:
    """The row's text as the condition language's value, or None when it is not one."""
    text = text.strip()
    if not text:
        return None
    if spec.kind == "number":
        cleaned = text.replace(",", "").replace(" ", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        return int(number) if number == number.to_integral_value() else float(number)
    if spec.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    if spec.kind == "bool":
        return {"true": True, "false": False}.get(text)
    if spec.kind in ("enum", "multi_enum", "user", "company", PARTNER):
        return text if text in {value for value, _ in spec.options} else None
    return text[:MAX_TEXT_LENGTH]


# --- a saved report's filters as rows ---------------------------------------------------------


def rows_of(filters: list[dict[str, Any]] | dict[str, Any] | None) -> Rows:
    """Rows for a saved definition's filters; conditions rows cannot show are kept as they are."""
    if not filters:
        return Rows()
    items: list[Any]
    if isinstance(filters, dict):
        only = next(iter(filters)) if len(filters) == 1 else None
        items = filters["all"] if only == "all" and isinstance(filters["all"], list) else [filters]
    else:
        items = list(filters)
    found = Rows()
    for item in items:
        row = _row_of(item, len(found.rows))
        if row is None or len(found.rows) >= MAX_ROWS:
            if isinstance(item, dict):
                found.kept.append(item)
            continue
        found.rows.append(row)
    return found


def _row_of(item: Any, index: int) -> FilterRow | None:
    if not isinstance(item, Mapping) or set(item) - {"field", "op", "value"}:
        return None
    name, op = item.get("field"), item.get("op")
    if not isinstance(name, str) or not isinstance(op, str):
        return None
    value = item.get("value")
    values = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
    return FilterRow(index, name, op, values if "value" in item else [])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def refusal(problem: Problem, row_of: Mapping[int, int], rows: Rows) -> bool:
    """Put the engine's refusal of a filter leaf next to its row; whether one was placed."""
    for error in problem.errors or []:
        parts = str(error.get("path", "")).split(".")
        if "filters" not in parts:
            continue
        at = parts.index("filters") + 1
        if at >= len(parts) or not parts[at].isdigit():
            continue
        row_index = row_of.get(int(parts[at]))
        for row in rows.rows:
            if row.index == row_index:
                row.error = _message(str(error.get("message", problem.detail)))
                return True
    return False


def _message(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]) if text else "This filter cannot be applied."


def parse_index(text: str) -> int:
    try:
        return max(0, min(int(text), 999))
    except ValueError:
        return 0
