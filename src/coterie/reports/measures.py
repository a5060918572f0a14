"""Measures: SQL aggregates over masked values, converted to the viewer's company currency.

- `count`: records in the group.
- `sum`, `avg`, `min`, `max` of `mine.amount` or `<partner company id>.amount`: each amount
  converted with the viewer's company rates (`exchange_rates`): the latest rate whose
  `valid_from` is on or before the close date of the same space (today when that close date
  is empty or not visible to the viewer); the viewer's own currency converts at 1. Amounts with
  no rate are left out and reported per currency under `unconverted`, never guessed. Sums are
  rounded to cents once, at the end. A partner's amount counts only where that partner shares
  it with the viewer (otherwise 400 field-not-visible); `hidden` counts the group's records
  without a visible partner amount (not shared on that record's space, partner not active, or
  empty: the viewer cannot tell which, by design).
- `weighted_pipeline`: my converted amount times the weight of my forecast category:
  pipeline 0.1, best_case 0.5, commit 0.9, closed 1.0, omitted (or none) 0.
- `win_rate`: won / (won + lost) by the category of my stage (`coterie.workflows.stages`), 0..1
  with four decimals; None without won or lost records.
- `avg_cycle_days`: average days from the record's creation (UTC day) to my close date, over
  my won records with a close date; one decimal.
- `goal_attainment`: not an SQL aggregate; a plan's goals' live progress over their targets
  for the viewer, in a report scoped with `plan_id` (`coterie.reports.attainment`).

A measure over the viewer's own field that it cannot see (a private field while "hide private
fields" is on) answers None and a note, never the value.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, Numeric, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from coterie.kit.problems import Problem, invalid
from coterie.models import Record
from coterie.models.cosell import ExchangeRate
from coterie.records.query import MINE, FieldResolver
from coterie.reports.dimensions import visible_value
from coterie.reports.schemas import AMOUNT_OPS, Measure, Value
from coterie.workflows.stages import StageCategory, StageInfo

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.1")
FORECAST_WEIGHTS: dict[str, Decimal] = {
    "pipeline": Decimal("0.1"),
    "best_case": Decimal("0.5"),
    "commit": Decimal("0.9"),
    "closed": Decimal("1.0"),
    "omitted": Decimal("0"),
}


def to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def money(value: Any) -> Decimal | None:
    found = to_decimal(value)
    return None if found is None else found.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Amount:
    """One company's amount on each row: masked value, its currency and the viewer's rate."""

    owner: uuid.UUID
    name: str  # "mine.amount" or "<company id>.amount"
    value: ColumnElement[Any]
    currency: ColumnElement[Any]
    rate: ColumnElement[Any]

    @property
    def converted(self) -> ColumnElement[Any]:
        return self.value * self.rate


def amount_of(
    resolver: FieldResolver,
    owner: uuid.UUID,
    path: str,
    *,
    own_currency: str,
    today: date,
) -> Amount:
    """`owner`'s amount, masked and with its rate; 400 when the viewer cannot see it."""
    principal = resolver.principal
    field_ = resolver.space_field(owner, "amount", path=path)
    try:
        close: ColumnElement[Any] | None = visible_value(
            resolver, resolver.space_field(owner, "close_date")
        )
    except Problem:
        close = None  # the close date is not visible: today's rate, never the hidden date's
    day = literal(today, Date)
    on = func.coalesce(close, day) if close is not None else day
    mine = owner == principal.company_id
    # my own space: read as is (see `visible_value`); a partner's currency masked with its amount
    raw_currency = resolver.space(owner).currency if mine else field_.currency_value
    currency = func.coalesce(raw_currency, literal(own_currency))
    latest = (
        select(ExchangeRate.rate)
        .where(
            ExchangeRate.company_id == principal.company_id,
            ExchangeRate.currency == currency,
            ExchangeRate.valid_from <= on,
        )
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    rate = case((currency == own_currency, literal(Decimal(1), Numeric(20, 10))), else_=latest)
    name = f"{MINE}.amount" if mine else f"{owner}.amount"
    return Amount(owner, name, visible_value(resolver, field_), currency, rate)


Finish = Callable[[Sequence[Any]], tuple[Value, int | None]]


@dataclass
class Plan:
    """How one measure is computed: its aggregate columns and how their values make it."""

    measure: Measure
    columns: list[ColumnElement[Any]] = field(default_factory=list)
    finish: Finish = lambda values: (None, None)
    amount: Amount | None = None  # amounts to report as unconverted
    note: str | None = None

    @property
    def name(self) -> str:
        return self.measure.name


def _unavailable(measure: Measure, what: str) -> Plan:
    return Plan(
        measure,
        note=f"{measure.name}: {what} is one of your private fields, hidden while 'hide "
        "private fields' is on; no value is shown.",
    )


def _own(resolver: FieldResolver, key: str) -> ColumnElement[Any] | None:
    """My own field `key`, masked; None when I cannot see it (hide private fields)."""
    try:
        return visible_value(resolver, resolver.space_field(resolver.principal.company_id, key))
    except Problem:
        return None


def days_between(start: Any, end: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Whole days from the UTC day of timestamp `start` to date `end`."""
    if dialect == "postgresql":
        return end - cast(func.timezone("UTC", start), Date)
    return func.julianday(end) - func.julianday(func.date(start))


def plan(
    resolver: FieldResolver,
    measure: Measure,
    index: int,
    *,
    own_currency: str,
    today: date,
    stages: tuple[StageInfo, ...],
) -> Plan:
    """The plan of one measure: 422 for a malformed one, 400 for a partner field not shared."""
    path = f"body.measures.{index}.field"
    principal = resolver.principal
    op = measure.op
    if op in AMOUNT_OPS:
        if not measure.field:
            raise invalid(path, f"'{op}' needs a field: 'mine.amount' or '<company id>.amount'")
        prefix, dot, key = measure.field.partition(".")
        if not dot or key != "amount":
            raise invalid(path, "only 'mine.amount' or '<company id>.amount' can be aggregated")
        if prefix == MINE:
            owner = principal.company_id
        else:
            try:
                owner = uuid.UUID(prefix)
            except ValueError:
                raise invalid(path, "expected 'mine' or a company id before '.amount'") from None
        mine = owner == principal.company_id
        try:
            amount = amount_of(resolver, owner, path, own_currency=own_currency, today=today)
        except Problem:
            if mine and principal.hide_private:
                return _unavailable(measure, "your amount")
            raise
        converted = amount.converted
        counted = func.count(converted)
        seen = func.count(amount.value)
        rows = func.count()
        columns: list[ColumnElement[Any]]
        if op in ("sum", "avg"):
            columns = [func.sum(converted), counted]
        elif op == "min":
            columns = [func.min(converted), counted]
        else:
            columns = [func.max(converted), counted]
        columns += [rows, seen]

        def finish(values: Sequence[Any]) -> tuple[Value, int | None]:
            total, n, all_rows, with_value = values
            hidden = None if mine else int(all_rows) - int(with_value)
            if not n:
                return None, hidden
            if op == "avg":
                return money(Decimal(str(total)) / int(n)), hidden
            return money(total), hidden

        return Plan(measure, columns, finish, amount)
    if measure.field is not None:
        raise invalid(path, f"'{op}' takes no field")
    if op == "count":
        return Plan(measure, [func.count()], lambda values: (int(values[0]), None))
    if op == "weighted_pipeline":
        try:
            amount = amount_of(
                resolver, principal.company_id, path, own_currency=own_currency, today=today
            )
        except Problem:
            return _unavailable(measure, "your amount")
        category = _own(resolver, "forecast_category")
        if category is None:
            return _unavailable(measure, "your forecast category")
        weight = case(
            *[(category == key, literal(w, Numeric(4, 2))) for key, w in FORECAST_WEIGHTS.items()],
            else_=literal(Decimal(0), Numeric(4, 2)),
        )
        weighted = amount.converted * weight

        def finish_weighted(values: Sequence[Any]) -> tuple[Value, int | None]:
            return (money(values[0]) if values[1] else None), None

        return Plan(measure, [func.sum(weighted), func.count(weighted)], finish_weighted, amount)
    stage = _own(resolver, "stage")
    if stage is None:
        return _unavailable(measure, "your stage")
    won_keys = [s.key for s in stages if s.category == StageCategory.WON]
    lost_keys = [s.key for s in stages if s.category == StageCategory.LOST]
    is_won = stage.in_(won_keys) if won_keys else literal(False)
    is_lost = stage.in_(lost_keys) if lost_keys else literal(False)
    if op == "win_rate":

        def finish_rate(values: Sequence[Any]) -> tuple[Value, int | None]:
            won, lost = int(values[0] or 0), int(values[1] or 0)
            if won + lost == 0:
                return None, None
            return (Decimal(won) / Decimal(won + lost)).quantize(RATE_PLACES, ROUND_HALF_UP), None

        return Plan(
            measure,
            [func.sum(case((is_won, 1), else_=0)), func.sum(case((is_lost, 1), else_=0))],
            finish_rate,
        )
    # avg_cycle_days
    close = _own(resolver, "close_date")
    if close is None:
        return _unavailable(measure, "your close date")
    days = case((is_won, days_between(Record.created_at, close, resolver.dialect)), else_=None)

    def finish_days(values: Sequence[Any]) -> tuple[Value, int | None]:
        total, n = values
        if not n:
            return None, None
        return (Decimal(str(total)) / int(n)).quantize(DAY_PLACES, ROUND_HALF_UP), None

    return Plan(measure, [func.sum(days), func.count(days)], finish_days)
