"""The report engine: one grouped SQL aggregate over the gate's records, masked values only.

`run()` starts from the viewer's grants (`gate.visible_ids`, with `gate.visible`'s join to the
records only when the shared core is read), joins the viewer's own
space and each partner space a dimension, filter or measure names (through the records field
resolver: partner spaces only while the partner is active, every value masked in SQL), applies
the filters of the records filter language, and aggregates with GROUP BY in the database. No
row is loaded into Python; only group keys and aggregates come back. Totals are a second
aggregate without the dimensions, so a record counts once even when it is in two partner groups.
With `plan_id` the records are those linked to that plan (which the viewer may see), and
`goal_attainment` reads the plan's goals' live progress (`coterie.reports.attainment`).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.kit import quarters
from coterie.kit.problems import Problem, invalid
from coterie.kit.quarters import Quarter
from coterie.models import Company, Participant, Record, RecordAccess, User
from coterie.models.cosell import PlanRecord
from coterie.models.links import RecordLink
from coterie.network.companies import names as company_names
from coterie.records.query import MINE, FieldResolver, parse_filter
from coterie.reports import attainment, dimensions, measures, ordering
from coterie.reports.dimensions import Dimension
from coterie.reports.measures import Plan
from coterie.reports.schemas import (
    PeriodResult,
    ReportIn,
    ReportOut,
    ReportRow,
    Unconverted,
    Value,
)
from coterie.workflows.stages import stages_for

RATE_POLICY = (
    "each amount converted with your company's rate valid on the record's close date (the "
    "latest rate from on or before it; today's when the close date is empty or not visible); "
    "your own currency at 1; amounts without a rate are listed under 'unconverted', never "
    "guessed"
)

GroupKey = tuple[str | None, ...]
PARTNER_FILTER = "partner"  # a filter leaf on the companies taking part in a record
MAX_PARTNER_VALUES = 200
PARTNER_TAKES_PART = Participant.__table__.alias("report_partner_filter")
LINK_FILTER = RecordLink.__table__.alias("report_link_filter")
LINK_NOTE = (
    "a record linked to several campaigns or solutions is counted in each of their groups; "
    "the totals count it once"
)


def run(session: Session, actor: Actor, report: ReportIn) -> ReportOut:
    """The report for the actor: aggregates over the records and values it may see."""
    return run_for(session, actor.principal, report)


@dataclasses.dataclass
class _Report:
    session: Session
    principal: Principal
    kind: str
    resolver: FieldResolver
    dims: list[Dimension]
    plans: list[Plan]
    where: list[ColumnElement[bool]]
    close_date: ColumnElement[Any] | None

    def _base(
        self, columns: Sequence[Any], grouped: bool, where: Sequence[ColumnElement[bool]]
    ) -> Select[Any]:
        """The aggregate's statement over the viewer's grants. The `records` table is joined
        only when a column, dimension or filter reads the shared core: an aggregate over spaces
        alone walks the grant index and the spaces, 100k record rows fewer to visit."""

        def assemble(start: Select[Any]) -> Select[Any]:
            statement = start.select_from(RecordAccess).with_only_columns(
                *columns, maintain_column_froms=False
            )
            statement = self.resolver.join(statement)
            if grouped and any(d.joins_partners for d in self.dims):
                statement = statement.outerjoin(
                    dimensions.PARTNER,
                    dimensions.partner_join_condition(self.principal.company_id),
                )
            if grouped:
                for d in self.dims:
                    if d.join is not None:
                        statement = statement.outerjoin(*d.join)
            return statement.where(*where)

        if _reads_records([*columns, *where]):
            return assemble(gate.visible(self.principal, self.kind))
        return assemble(gate.visible_ids(self.principal, self.kind))

    def _period(self, quarter: Quarter | None) -> list[ColumnElement[bool]]:
        if quarter is None or self.close_date is None:
            return list(self.where)
        return [
            *self.where,
            self.close_date >= quarter.first_day,
            self.close_date <= quarter.last_day,
        ]

    def aggregate(self, quarter: Quarter | None) -> tuple[list[ReportRow], ReportRow]:
        where = self._period(quarter)
        columns = [c for p in self.plans for c in p.columns]
        amounts = {p.amount.name: p.amount for p in self.plans if p.amount is not None}
        # how many amounts lack a rate: the per-currency queries run only when some do
        missing = [
            func.count(case((and_(a.value.is_not(None), a.rate.is_(None)), 1)))
            for a in amounts.values()
        ]
        keys = [d.column for d in self.dims]
        options = rls.as_company(self.principal.company_id)
        grouped: dict[GroupKey, ReportRow] = {}
        raw: list[Sequence[Any]] = []
        if keys:
            statement = self._base([*keys, *columns, *missing], True, where).group_by(*keys)
            for found in self.session.execute(statement, execution_options=options):
                key = tuple(dimensions.key_of(v) for v in found[: len(keys)])
                grouped[key] = self._row(found[len(keys) :])
                raw.append(found[len(keys) :])
        if not columns and not missing:
            # every measure is over a field the viewer may not see: nothing to ask the database
            total_row: Sequence[Any] = ()
        elif keys and not any(d.multi_valued for d in self.dims):
            # every record is in exactly one group: the totals combine the groups' aggregates
            total_row = _combine([*columns, *missing], raw)
        else:  # a record may be in several partner (or solution) groups: count each once
            total_row = self.session.execute(
                self._base([*columns, *missing], False, where), execution_options=options
            ).one()
        totals = self._row(total_row)
        if any(total_row[len(columns) :]):
            self._unconverted(where, keys, grouped, totals)
        labels, orders = self._labels(list(grouped))
        rows: list[ReportRow] = []
        for key, row in grouped.items():
            row.group = {
                d.name: dimensions.group_value(d, value, labels)
                for d, value in zip(self.dims, key, strict=True)
            }
            rows.append(row)

        def place(row: ReportRow) -> tuple[tuple[bool, bool, int, str], ...]:
            # the empty group last, then hidden accounts; options in their own order (stages
            # as the workflow has them), the rest by name
            return tuple(
                (
                    g.value is None,
                    g.value == dimensions.HIDDEN_ACCOUNT,
                    orders[name].position(g.value) if name in orders else 0,
                    g.label.casefold(),
                )
                for name, g in row.group.items()
            )

        rows.sort(key=place)
        return rows, totals

    def _row(self, values: Sequence[Any]) -> ReportRow:
        row = ReportRow()
        at = 0
        for p in self.plans:
            width = len(p.columns)
            value, hidden = p.finish(values[at : at + width]) if width else (None, None)
            at += width
            row.measures[p.name] = value
            if hidden is not None:
                row.hidden[p.name] = hidden
        return row

    def _unconverted(
        self,
        where: list[ColumnElement[bool]],
        keys: list[ColumnElement[Any]],
        grouped: dict[GroupKey, ReportRow],
        totals: ReportRow,
    ) -> None:
        """Amounts without a rate, per currency, for every measure over amounts."""
        done: dict[str, tuple[dict[GroupKey, list[Unconverted]], list[Unconverted]]] = {}
        options = rls.as_company(self.principal.company_id)
        for p in self.plans:
            amount = p.amount
            if amount is None:
                continue
            if amount.name not in done:
                missing = [amount.value.is_not(None), amount.rate.is_(None)]
                columns = [amount.currency, func.count(), func.sum(amount.value)]
                by_group: dict[GroupKey, list[Unconverted]] = {}
                if keys:
                    statement = self._base([*keys, *columns], True, [*where, *missing]).group_by(
                        *keys, amount.currency
                    )
                    for found in self.session.execute(statement, execution_options=options):
                        key = tuple(dimensions.key_of(v) for v in found[: len(keys)])
                        by_group.setdefault(key, []).append(_unconverted(found[len(keys) :]))
                statement = (
                    self._base(columns, False, [*where, *missing])
                    .group_by(amount.currency)
                    .order_by(amount.currency)
                )
                overall = [
                    _unconverted(row)
                    for row in self.session.execute(statement, execution_options=options)
                ]
                done[amount.name] = (by_group, overall)
            by_group, overall = done[amount.name]
            if overall:
                totals.unconverted[p.name] = overall
            for key, row in grouped.items():
                if key in by_group:
                    row.unconverted[p.name] = sorted(by_group[key], key=lambda u: u.currency)

    def _labels(
        self, keys: list[GroupKey]
    ) -> tuple[dict[str, dict[str, str]], dict[str, ordering.Options]]:
        """Names for group values (companies, users, visible accounts, stages, options) and,
        for option-like dimensions, the order of their values."""
        labels: dict[str, dict[str, str]] = {}
        orders: dict[str, ordering.Options] = {}
        options = rls.as_company(self.principal.company_id)
        for index, d in enumerate(self.dims):
            values = {v for k in keys if (v := k[index]) is not None}
            ids = [u for u in (dimensions.to_uuid(v) for v in values) if u is not None]
            found: dict[str, str] = {}
            if d.label_kind == "company" and ids:
                found = {str(i): n for i, n in company_names(self.session, ids).items()}
            elif d.label_kind == "user" and ids:
                rows = self.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
                found = {str(i): n for i, n in rows}
            elif d.label_kind == "account" and ids:
                statement = (
                    gate.visible(self.principal, "account")
                    .with_only_columns(Record.id, Record.title)
                    .where(Record.id.in_(ids))
                )
                rows = self.session.execute(statement, execution_options=options)
                found = {str(i): t for i, t in rows}
            elif d.label_kind in dimensions.LINK_DIMENSIONS and ids:
                # titles of the campaigns or solutions the viewer may see (the join kept only
                # those; asked again through the gate all the same)
                refs = [(d.label_kind, i) for i in ids]
                titles = gate.visible_titles(self.session, self.principal, refs)
                found = {str(i): t for i, t in titles.items()}
            elif d.label_kind in _OPTION_KINDS:
                known = _OPTION_KINDS[d.label_kind](self, d)
                orders[d.name] = known
                found = {v: known.labels.get(v, v) for v in values}  # unknown: as stored
            labels[d.name] = found
        return labels, orders


_OPTION_KINDS: dict[str, Callable[[_Report, Dimension], ordering.Options]] = {
    "stage": lambda r, d: ordering.stages(r.session, r.principal, r.kind),
    "joint_stage": lambda r, d: ordering.joint_stages(r.session, r.principal, r.kind),
    "option": lambda r, d: ordering.enum_options(d.definition),
    "motion": lambda r, d: ordering.motions(),
    "bool": lambda r, d: ordering.booleans(),
}


def _reads_records(expressions: Sequence[Any]) -> bool:
    """Whether a column or condition reads the shared core (the `records` table), which the
    lean statement would otherwise leave in FROM unjoined. Decided from the expressions' own
    FROM lists: compiling the statement to look would need the session's dialect (conditions
    compile for SQLite and PostgreSQL only). The joins never read `records`: the spaces and
    the partner participants join on the grant's record id."""
    return any(
        from_.is_derived_from(Record.__table__)
        for from_ in select(*expressions).columns_clause_froms
    )


def _combine(columns: Sequence[Any], rows: list[Sequence[Any]]) -> list[Any]:
    """The aggregates over all rows from the aggregates of disjoint groups: counts and sums add
    up, minimums and maximums of the groups' (NULL: nothing to aggregate)."""
    combined: list[Any] = []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows if row[index] is not None]
        name = getattr(column, "name", "")
        if name == "count":
            combined.append(sum(int(v) for v in values))
        elif not values:
            combined.append(None)
        elif name == "min":
            combined.append(min(values))
        elif name == "max":
            combined.append(max(values))
        elif name == "sum":
            combined.append(sum((measures.to_decimal(v) or Decimal(0) for v in values), Decimal(0)))
        else:
            raise TypeError(f"cannot combine {column!r}")  # every measure uses the four above
    return combined


def _unconverted(values: Sequence[Any]) -> Unconverted:
    currency, count, total = values
    return Unconverted(
        currency=str(currency), count=int(count), sum=measures.money(total) or Decimal(0)
    )


def _filters(resolver: FieldResolver, report: ReportIn) -> list[ColumnElement[bool]]:
    """The report's filters (one condition object, or a list of conditions ANDed)."""
    found: list[ColumnElement[bool]] = []
    items: list[tuple[Any, str]]
    if report.filters is None:
        items = []
    elif isinstance(report.filters, dict):
        items = [(report.filters, "body.filters")]
    else:
        items = [(leaf, f"body.filters.{i}") for i, leaf in enumerate(report.filters)]
    for condition, path in items:
        if isinstance(condition, dict) and condition.get("field") == PARTNER_FILTER:
            found.append(_partner_filter(resolver.principal, condition, path))
            continue
        if isinstance(condition, dict) and condition.get("field") in dimensions.LINK_DIMENSIONS:
            found.append(_link_filter(resolver.principal, condition, path))
            continue
        where = parse_filter(resolver, json.dumps(condition), path)
        if where is not None:
            found.append(where)
    return found


def _ids_of(condition: dict[str, Any], path: str, what: str) -> tuple[str, list[uuid.UUID]]:
    """A choice leaf's op (eq, ne, in, not_in) and its ids, or 422 on the leaf's path."""
    for key in condition:
        if key not in ("field", "op", "value"):
            raise invalid(f"{path}.{key}", "unknown key; expected field/op/value")
    op = condition.get("op")
    if op not in ("eq", "ne", "in", "not_in"):
        raise invalid(f"{path}.op", f"'{condition.get('field')}' takes eq, ne, in or not_in")
    raw = condition.get("value")
    values = raw if op in ("in", "not_in") else [raw]
    if not isinstance(values, list) or not values or len(values) > MAX_PARTNER_VALUES:
        raise invalid(f"{path}.value", f"must be a list of 1 to {MAX_PARTNER_VALUES} {what} ids")
    ids: list[uuid.UUID] = []
    for index, value in enumerate(values):
        at = f"{path}.value.{index}" if op in ("in", "not_in") else f"{path}.value"
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            raise invalid(at, f"must be a {what} id") from None
    return str(op), ids


def _link_filter(principal: Principal, condition: dict[str, Any], path: str) -> ColumnElement[bool]:
    """`{"field": "campaign"|"solution", "op": "eq"|"ne"|"in"|"not_in", "value": id(s)}`:
    records attributed to (linked to) one of those campaigns (solutions), or to none of them.
    Only links to campaigns or solutions the viewer may see count: naming a hidden one
    matches nothing, exactly as an unknown id."""
    name = str(condition["field"])
    relation, hub_kind = dimensions.LINK_DIMENSIONS[name]
    op, ids = _ids_of(condition, path, name)
    pairs = dimensions.linked_hubs(
        LINK_FILTER, relation, hub_kind, gate.visible_ids(principal, hub_kind)
    ).where(LINK_FILTER.c.to_record_id.in_(ids))
    linked = exists(
        pairs.with_only_columns(LINK_FILTER.c.from_record_id).where(
            LINK_FILTER.c.from_record_id == RecordAccess.record_id
        )
    )
    return linked if op in ("eq", "in") else not_(linked)


def _partner_filter(
    principal: Principal, condition: dict[str, Any], path: str
) -> ColumnElement[bool]:
    """`{"field": "partner", "op": "eq"|"ne"|"in"|"not_in", "value": company id(s)}`: records
    one of those companies takes part in (an active participant other than the viewer's
    company), or none of them does. Read inside the gate's statement, on records the viewer
    already sees, whose participants it sees too."""
    for key in condition:
        if key not in ("field", "op", "value"):
            raise invalid(f"{path}.{key}", "unknown key; expected field/op/value")
    op = condition.get("op")
    if op not in ("eq", "ne", "in", "not_in"):
        raise invalid(f"{path}.op", "'partner' takes eq, ne, in or not_in")
    raw = condition.get("value")
    values = raw if op in ("in", "not_in") else [raw]
    if not isinstance(values, list) or not values or len(values) > MAX_PARTNER_VALUES:
        raise invalid(f"{path}.value", f"must be a list of 1 to {MAX_PARTNER_VALUES} company ids")
    ids: list[uuid.UUID] = []
    for index, value in enumerate(values):
        at = f"{path}.value.{index}" if op in ("in", "not_in") else f"{path}.value"
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            raise invalid(at, "must be a company id") from None
    taking_part = exists(
        select(PARTNER_TAKES_PART.c.record_id).where(
            PARTNER_TAKES_PART.c.record_id == RecordAccess.record_id,
            PARTNER_TAKES_PART.c.company_id.in_(ids),
            PARTNER_TAKES_PART.c.company_id != principal.company_id,
            PARTNER_TAKES_PART.c.status == ParticipantStatus.ACTIVE.value,
        )
    )
    return taking_part if op in ("eq", "in") else not_(taking_part)


def run_for(session: Session, principal: Principal, report: ReportIn) -> ReportOut:
    if report.hide_private and not principal.hide_private:
        principal = dataclasses.replace(principal, hide_private=True)
    kinds = {k.value for k in Kind}
    if report.kind not in kinds:
        raise invalid("body.kind", f"must be one of {', '.join(sorted(kinds))}")
    kind = report.kind
    resolver = FieldResolver(session, principal, kind)
    own_currency = (
        session.scalar(select(Company.currency).where(Company.id == principal.company_id)) or "USD"
    )
    today = utcnow().date()

    seen: set[str] = set()
    dims: list[Dimension] = []
    for index, name in enumerate(report.group_by):
        path = f"body.group_by.{index}"
        if name in seen:
            raise invalid(path, f"'{name}' is already a dimension")
        seen.add(name)
        dims.append(dimensions.resolve(resolver, name, path))

    needs_stages = any(m.op in ("win_rate", "avg_cycle_days") for m in report.measures)
    stages = stages_for(session, principal.company_id, kind) if needs_stages else ()
    where = _filters(resolver, report)
    if report.plan_id is not None:
        try:
            gate.check(session, principal, "plan", report.plan_id)
        except Problem:
            raise invalid("body.plan_id", "is not a plan you can see") from None
        where.append(
            Record.id.in_(
                select(PlanRecord.record_id).where(
                    PlanRecord.plan_id == report.plan_id, PlanRecord.kind == kind
                )
            )
        )

    plans: list[Plan] = []
    goal_measures: list[attainment.Attainment] = []
    names: set[str] = set()
    for index, measure in enumerate(report.measures):
        if measure.name in names:
            raise invalid(f"body.measures.{index}", f"'{measure.name}' is asked twice")
        names.add(measure.name)
        if measure.op == attainment.OP:
            plan_id = attainment.check(report, measure, index)
            goal_measures.append(
                attainment.compute(session, principal, plan_id, report, measure, index)
            )
            plans.append(Plan(measure))  # no SQL columns: filled in from the goals below
            continue
        plans.append(
            measures.plan(
                resolver, measure, index, own_currency=own_currency, today=today, stages=stages
            )
        )

    quarter: Quarter | None = None
    if report.quarter is not None:
        quarter = quarters.parse(report.quarter, "body.quarter")
    elif report.compare:
        quarter = Quarter.of(today)
    close_date: ColumnElement[Any] | None = None
    if quarter is not None:
        path = "body.quarter" if report.quarter else "body.compare"
        close_date = resolver.resolve(f"{MINE}.close_date", path).filter_value

    engine = _Report(session, principal, kind, resolver, dims, plans, where, close_date)
    rows, totals = engine.aggregate(quarter)
    for goal_measure in goal_measures:
        goal_measure.apply(rows, totals)
    previous: PeriodResult | None = None
    if report.compare == "previous_quarter" and quarter is not None:
        before = quarter.previous()
        old_rows, old_totals = engine.aggregate(before)
        previous = PeriodResult(period=str(before), rows=old_rows, totals=old_totals)
        old = {_key(r): r for r in old_rows}
        for row in rows:
            match = old.get(_key(row))
            row.delta = _delta(row, match)
        totals.delta = _delta(totals, old_totals)

    notes = [p.note for p in plans if p.note]
    if any(d.join is not None for d in dims):
        notes.append(LINK_NOTE)
    notes.extend(n for g in goal_measures for n in g.notes)
    if any(p.amount is not None and p.amount.owner != principal.company_id for p in plans):
        notes.append(
            "hidden: records without a visible partner amount (not shared with you, the "
            "partner no longer active, or empty)"
        )
    return ReportOut(
        kind=kind,
        group_by=list(report.group_by),
        measures=[p.name for p in plans],
        currency=own_currency,
        rate_date=RATE_POLICY,
        period=str(quarter) if quarter is not None else None,
        rows=rows,
        totals=totals,
        previous=previous,
        notes=notes,
    )


def _key(row: ReportRow) -> GroupKey:
    return tuple(g.value for g in row.group.values())


def _delta(row: ReportRow, before: ReportRow | None) -> dict[str, Value]:
    delta: dict[str, Value] = {}
    for name, value in row.measures.items():
        old = before.measures.get(name) if before is not None else None
        if before is None and isinstance(value, int):
            old = 0  # a group absent before counted nothing
        if value is None or old is None:
            delta[name] = None
        else:
            delta[name] = value - old
    return delta
