"""The record list as a table a partner manager shapes: which columns, which filter, which sort.

A list's state lives in its URL (`?cols=&filter=&sort=&view=`), so every table can be shared as
a link and a saved view is the same three things under a name (`coterie.records.saved_filters`).

- Columns are names of the records query language (`records.query`): the shared core, `mine.<key>`
  for my own space's fields and `<company_id>.<key>` for a partner's shared fields, plus two
  display-only columns (`participants`, `partner_amounts`). The chooser offers only what the
  viewer may see, from templates and shares (never from values); a column named in a URL that
  the viewer cannot see is left out. My own private fields chosen while "hide private fields" is
  on stay as a column of masked cells, so the table keeps its shape.
- The filter builder's rows (field, operator, value) compile to the list filter JSON
  (`{"all": [...]}` or `{"any": [...]}`), and a filter of that shape reads back into rows. The
  query language decides what is allowed: a row on a field the viewer cannot see is refused by
  the list with 400, shown next to the table.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.kit import text_input
from coterie.kit.problems import Problem
from coterie.network.companies import names as company_names
from coterie.records import presenters, query

PARTICIPANTS = "participants"
PARTNER_AMOUNTS = "partner_amounts"
DISPLAY_COLUMNS = {PARTICIPANTS: "Participants", PARTNER_AMOUNTS: "Partners' amounts"}
TITLE = "title"
DEFAULT_COLUMNS = (
    TITLE,
    "customer_name",
    "owner_company",
    PARTICIPANTS,
    "mine.stage",
    "mine.amount",
    "mine.close_date",
    PARTNER_AMOUNTS,
)
# a kind whose own fields say more than amounts and stages starts with those (its template's
# default fields, `coterie.fields.defaults`; a column the template no longer has is left out)
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "campaign": (
        TITLE,
        "owner_company",
        "mine.channel",
        "mine.starts_on",
        "mine.ends_on",
        "mine.expected_pipeline",
    ),
}
MAX_COLUMNS = 30
MAX_ROWS = 10
CORE_COLUMNS = {
    TITLE: ("Title", "text"),
    "customer_name": ("Customer", "text"),
    "customer_domain": ("Customer domain", "text"),
    "motion": ("Motion", "enum"),
    "joint_stage": ("Joint stage", "text"),
    "owner_company": ("Owner", "company"),
    "created_at": ("Created", "date"),
    "updated_at": ("Last changed", "date"),
}
OPERATORS = (
    ("eq", "is"),
    ("ne", "is not"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("lt", "is before / less than"),
    ("lte", "is at most"),
    ("gt", "is after / more than"),
    ("gte", "is at least"),
    ("between", "is between"),
    ("contains_any", "has any of"),
    ("is_null", "is empty"),
    ("is_not_null", "is not empty"),
)
OPERATOR_NAMES = dict(OPERATORS)
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any", "between"})
NULL_OPERATORS = frozenset({"is_null", "is_not_null"})
NUMERIC_TYPES = frozenset({"number", "money"})
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class ColumnChoice:
    """A column the viewer may show: its query name, heading and what it can do."""

    name: str
    label: str
    group: str  # "Shared", "Mine" or the partner's name
    type: str  # the condition language's field type ("" for display-only columns)
    sortable: bool
    filterable: bool
    private: bool = False  # one of my own private fields: a lock in the heading
    hidden: bool = False  # private while "hide private fields" is on: cells are masked
    owner: uuid.UUID | None = None  # the partner whose field it is
    key: str = ""  # the field key in its owner's space
    options: tuple[tuple[str, str], ...] = ()

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass
class Catalog:
    """Every column the viewer may show, in chooser order, by name."""

    columns: list[ColumnChoice]
    by_name: dict[str, ColumnChoice] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {c.name: c for c in self.columns}

    def groups(self) -> list[tuple[str, list[ColumnChoice]]]:
        found: dict[str, list[ColumnChoice]] = {}
        for column in self.columns:
            if not column.hidden:
                found.setdefault(column.group, []).append(column)
        return list(found.items())

    def filterable(self) -> list[ColumnChoice]:
        return [c for c in self.columns if c.filterable and not c.hidden]

    def chosen(self, names: Sequence[str]) -> list[ColumnChoice]:
        """The named columns the viewer may show, in the given order; the title always first."""
        picked = [TITLE]
        for name in names:
            if name in self.by_name and name not in picked and len(picked) < MAX_COLUMNS:
                picked.append(name)
        return [self.by_name[name] for name in picked]


def _options(definition: Any) -> tuple[tuple[str, str], ...]:
    if definition is None:
        return ()
    return tuple(
        (key, presenters.display(key, definition)) for key in definition.option_keys() or ()
    )


def catalog(session: Session, actor: Actor, kind: str) -> Catalog:
    """The columns the viewer may choose: core, my fields, each partner's shared fields."""
    principal = actor.principal
    resolver = query.FieldResolver(session, principal, kind)
    columns: list[ColumnChoice] = []
    for name, (label, type_) in CORE_COLUMNS.items():
        options = tuple(presenters.motion_choices()) if name == "motion" else ()
        columns.append(ColumnChoice(name, label, "Shared", type_, True, True, options=options))
    columns += [
        ColumnChoice(PARTICIPANTS, DISPLAY_COLUMNS[PARTICIPANTS], "Shared", "", False, False),
        ColumnChoice(PARTNER_AMOUNTS, DISPLAY_COLUMNS[PARTNER_AMOUNTS], "Shared", "", False, False),
    ]
    template = resolver.own_template
    for definition in template.fields:
        key = definition.key
        if key in presenters.NOT_SHOWN_ALONE:
            continue
        label = definition.label or key
        private = definition.visibility_mode() == "private"
        name = f"{query.MINE}.{key}"
        if key not in resolver.own_visible:  # private while "hide private fields" is on
            columns.append(
                ColumnChoice(name, f"My {label.lower()}", "Mine", "", False, False, private, True)
            )
            continue
        resolved = resolver.space_field(principal.company_id, key)
        columns.append(
            ColumnChoice(
                name,
                f"My {label.lower()}",
                "Mine",
                resolved.spec.type if resolved.spec is not None else "money",
                resolved.sort_value is not None,
                resolved.spec is not None,
                private,
                key=key,
                options=_options(definition),
            )
        )
    owners = sorted(resolver.shares)
    names = company_names(session, owners)
    for owner in sorted(owners, key=lambda o: names.get(o, "").lower()):
        keys = resolver.visible_keys(owner)
        if not keys:
            continue
        company = names.get(owner, "A partner")
        for definition in resolver.template_of(owner).fields:
            if definition.key not in keys or definition.key in presenters.NOT_SHOWN_ALONE:
                continue
            resolved = resolver.space_field(owner, definition.key)
            columns.append(
                ColumnChoice(
                    f"{owner}.{definition.key}",
                    f"{company}: {definition.label or definition.key}",
                    company,
                    resolved.spec.type if resolved.spec is not None else "money",
                    resolved.sort_value is not None,
                    resolved.spec is not None,
                    owner=owner,
                    key=definition.key,
                    options=_options(definition),
                )
            )
    return Catalog(columns)


def default_columns(kind: str) -> list[str]:
    """The columns a list of `kind` shows before anyone chooses."""
    return list(KIND_COLUMNS.get(kind, DEFAULT_COLUMNS))


def column_names(text: str | None, kind: str = "") -> list[str]:
    if not text:
        return default_columns(kind)
    return [name.strip() for name in text.split(",") if name.strip()][:MAX_COLUMNS]


# -- sort ---------------------------------------------------------------------------------------


def sort_state(text: str) -> tuple[str, bool]:
    """The first sort term of `?sort=`: (field name, descending)."""
    first = text.split(",", 1)[0].strip()
    return first.removeprefix("-").strip(), first.startswith("-")


def next_sort(current: str, name: str) -> str:
    """The sort a click on the heading of `name` asks for: ascending, then descending."""
    field_name, descending = sort_state(current)
    if field_name == name and not descending:
        return f"-{name}"
    return name


# -- the filter builder ------------------------------------------------------------------------


@dataclass
class FilterRow:
    field: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class Builder:
    match: str = "all"
    rows: list[FilterRow] = field(default_factory=list)
    readable: bool = True  # False: a filter the rows cannot show (nested groups, "not")
    errors: dict[str, str] = field(default_factory=dict)


def _scalar(column: ColumnChoice | None, text: str, target: str, errors: dict[str, str]) -> Any:
    type_ = column.type if column is not None else "text"
    if type_ in NUMERIC_TYPES:
        cleaned = text.replace(",", "").replace(" ", "")
        try:
            return int(cleaned)
        except ValueError:
            try:
                return float(cleaned)
            except ValueError:
                errors.setdefault(target, "Enter a number.")
                return None
    if type_ == "bool":
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        errors.setdefault(target, "Enter yes or no.")
        return None
    if type_ in ("enum", "multi_enum") and column is not None:
        for option, label in column.options:
            if text.lower() in {option.lower(), label.lower()}:
                return option
    return text


def compile_rows(
    match: str, fields: Sequence[str], ops: Sequence[str], values: Sequence[str], cat: Catalog
) -> tuple[Builder, str]:
    """Builder rows from the form, and the filter JSON they make ("" when no row is filled)."""
    builder = Builder(match="any" if match == "any" else "all")
    leaves: list[dict[str, Any]] = []
    for index in range(min(max(len(fields), len(ops), len(values)), MAX_ROWS)):
        name = fields[index].strip() if index < len(fields) else ""
        op = ops[index].strip() if index < len(ops) else "eq"
        text = values[index].strip() if index < len(values) else ""
        row = FilterRow(name, op if op in OPERATOR_NAMES else "eq", text)
        builder.rows.append(row)
        if not name:
            continue
        target = f"row-{index}"
        leaf: dict[str, Any] = {"field": name, "op": row.op}
        if row.op not in NULL_OPERATORS:
            if not text:
                builder.errors.setdefault(target, "Enter a value.")
                continue
            column = cat.by_name.get(name)
            if row.op in LIST_OPERATORS:
                parts = [p.strip() for p in text.split(",") if p.strip()]
                leaf["value"] = [_scalar(column, p, target, builder.errors) for p in parts]
            else:
                leaf["value"] = _scalar(column, text, target, builder.errors)
        leaves.append(leaf)
    if not leaves:
        return builder, ""
    return builder, json.dumps({builder.match: leaves}, separators=(",", ":"))


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    return "" if value is None else str(value)


def _row(leaf: Any) -> FilterRow | None:
    if not isinstance(leaf, Mapping) or not isinstance(leaf.get("field"), str):
        return None
    op = leaf.get("op")
    if not isinstance(op, str) or op not in OPERATOR_NAMES:
        return None
    return FilterRow(leaf["field"], op, _value_text(leaf.get("value")))


def read_filter(text: str) -> Builder:
    """The builder rows of a filter JSON (`readable=False` when rows cannot show it)."""
    if not text.strip():
        return Builder()
    try:
        data = text_input.loads(text, "query.filter")
    except (ValueError, RecursionError):  # the list's own filter parsing says what is wrong
        return Builder(readable=False)
    if isinstance(data, Mapping) and len(data) == 1 and next(iter(data)) in ("all", "any"):
        match = next(iter(data))
        children = data[match]
        rows = [_row(child) for child in children] if isinstance(children, list) else [None]
        if all(r is not None for r in rows) and len(rows) <= MAX_ROWS:
            return Builder(match, [r for r in rows if r is not None])
        return Builder(readable=False)
    single = _row(data)
    if single is not None:
        return Builder("all", [single])
    return Builder(readable=False)


def problem_message(problem: Problem) -> str:
    """A refused filter or sort, as one sentence for the page."""
    if problem.slug == query.NOT_VISIBLE:
        name = str(problem.extra.get("field", ""))
        return (
            f"You cannot filter or sort on “{name}”: it is not a field you can see "
            "(a partner's private field, or your own while private fields are hidden)."
        )
    if problem.errors:
        first = problem.errors[0]
        return f"{problem.title}: {first.get('message', problem.detail)}"
    return problem.detail
