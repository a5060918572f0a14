"""The weekly pipeline review of a joint sales plan: what is new, advanced, slipped, regressed,
won and lost between two dates, with value deltas.

It runs as the viewer, over the plan's pipeline opportunities the viewer may see (the gate),
and reads each company's space as the viewer sees it *now*:
- the viewer's own space, minus what "hide private fields" hides;
- a partner's space only for the fields that partner shares with the viewer's company now
  (`authz.fields.shares_with`), so a partner's numbers appear only where it chose to share them.
The state of a field at a moment comes from the change log (`record_changes`, read through the
timeline's visibility rule `activity.timeline.change_visible`): the value before the first
change after that moment, else the current value. Stage positions and categories come from each
company's own stage catalogue (`workflows.stages.stages_for`). Amounts are converted into the
viewer's currency with its dated rates on the last day of the range; an amount without a rate is
listed apart, never guessed. Nothing is stored and nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.activity.timeline import change_visible
from coterie.auth.principal import Actor
from coterie.authz import fields, gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.review.schemas import (
    Movement,
    ReviewCompany,
    ReviewItem,
    ReviewOut,
    ReviewSection,
    SectionTotal,
)
from coterie.fields import templates
from coterie.kit.problems import invalid
from coterie.models import Record
from coterie.models.activity import RecordChange
from coterie.models.cosell import PlanRecord
from coterie.network.companies import names as company_names
from coterie.network.currency import Converter
from coterie.workflows.stages import StageCategory, StageInfo, stages_for

KIND = "opportunity"
PLAN = "plan"
TRACKED = ("amount", "stage", "close_date")
MAX_DAYS = 366


@dataclass
class FieldState:
    """One company's tracked fields on one record at one moment (None: empty or not visible)."""

    amount: Decimal | None = None
    currency: str | None = None
    stage: str | None = None
    close_date: date | None = None


@dataclass(frozen=True)
class Range:
    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def holds(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


def review_range(start: date | None, end: date | None, today: date) -> Range:
    """The range asked for; by default the seven days ending today."""
    end = end or today
    start = start or end - timedelta(days=6)
    if start > end:
        raise invalid("query.start", "must be on or before end")
    if (end - start).days >= MAX_DAYS:
        raise invalid("query.start", f"a review covers at most {MAX_DAYS} days")
    return Range(start, end)


def _amount(value: Any) -> tuple[Decimal | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    try:
        return Decimal(str(value.get("value"))), value.get("currency")
    except (InvalidOperation, ValueError):
        return None, None


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _set(state: FieldState, key: str, value: Any) -> None:
    if key == "amount":
        state.amount, state.currency = _amount(value)
    elif key == "stage":
        state.stage = value if isinstance(value, str) else None
    elif key == "close_date":
        state.close_date = _date(value)


def _visible_keys(
    session: Session, principal: Principal, owners: set[uuid.UUID]
) -> dict[uuid.UUID, frozenset[str]]:
    """Which tracked fields of each company's space the viewer may read (from templates)."""
    own = templates.load(session, principal.company_id, KIND).own_policy(principal.hide_private)
    shared = fields.shares_with(session, principal, KIND)
    result: dict[uuid.UUID, frozenset[str]] = {}
    for owner in owners:
        keys = (
            own.visible_standard
            if owner == principal.company_id
            else shared.get(owner, frozenset())
        )
        result[owner] = frozenset(k for k in TRACKED if k in keys)
    return result


def _changes_after(
    session: Session, principal: Principal, record_ids: list[uuid.UUID], since: datetime
) -> list[RecordChange]:
    own = templates.load(session, principal.company_id, KIND).own_policy(principal.hide_private)
    own_keys = own.visible_standard | own.visible_custom
    statement = (
        select(RecordChange)
        .where(
            RecordChange.record_id.in_(record_ids),
            RecordChange.company_id.is_not(None),
            RecordChange.field_key.in_(TRACKED),
            RecordChange.at >= since,
            change_visible(principal, KIND, own_keys),
        )
        .order_by(RecordChange.at.desc(), RecordChange.id.desc())
        .execution_options(**rls.as_company(principal.company_id))
    )
    return list(session.scalars(statement))


def _states(
    current: dict[tuple[uuid.UUID, uuid.UUID], FieldState],
    changes: list[RecordChange],
    moment: datetime,
) -> dict[tuple[uuid.UUID, uuid.UUID], FieldState]:
    """Each space's tracked fields at `moment`: undo, newest first, every change made after."""
    states = {key: FieldState(**vars(state)) for key, state in current.items()}
    for change in changes:  # newest first
        if change.at < moment or change.company_id is None:
            continue
        state = states.get((change.record_id, change.company_id))
        if state is not None:
            _set(state, change.field_key, change.old_value)
    return states


def _position(stages: tuple[StageInfo, ...], stage: str | None) -> StageInfo | None:
    return next((s for s in stages if s.key == stage), None)


def _movement(
    before: FieldState, after: FieldState, stages: tuple[StageInfo, ...], keys: frozenset[str]
) -> list[Movement]:
    """How one space moved between the two states (a space may both advance and slip)."""
    found: list[Movement] = []
    if "stage" in keys and before.stage != after.stage:
        was, now = _position(stages, before.stage), _position(stages, after.stage)
        was_category = was.category if was else StageCategory.OPEN
        now_category = now.category if now else StageCategory.OPEN
        if now_category == StageCategory.WON and was_category != StageCategory.WON:
            found.append(Movement.WON)
        elif now_category == StageCategory.LOST and was_category != StageCategory.LOST:
            found.append(Movement.LOST)
        elif was_category != StageCategory.OPEN and now_category == StageCategory.OPEN:
            found.append(Movement.REGRESSED)  # reopened after it was won or lost
        elif was is not None and now is not None:
            found.append(Movement.ADVANCED if now.position > was.position else Movement.REGRESSED)
        elif was is None and now is not None:
            found.append(Movement.ADVANCED)  # entered the pipeline's stages
    if "close_date" in keys and before.close_date and after.close_date:
        if after.close_date > before.close_date:
            found.append(Movement.SLIPPED)
        elif after.close_date < before.close_date:
            found.append(Movement.PULLED_IN)
    return found


def review(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    start: date | None,
    end: date | None,
    *,
    today: date | None = None,
) -> ReviewOut:
    principal = actor.principal
    gate.check(session, principal, PLAN, plan_id)
    period = review_range(start, end, today or datetime.now(UTC).date())
    links = {
        link.record_id: link
        for link in session.scalars(
            select(PlanRecord)
            .where(
                PlanRecord.plan_id == plan_id,
                PlanRecord.kind == KIND,
                PlanRecord.record_id.in_(gate.visible_ids(principal, KIND)),
                PlanRecord.linked_at < period.ends_at,
            )
            .execution_options(**rls.as_company(principal.company_id))
        )
    }
    records = {
        r.id: r
        for r in session.scalars(gate.visible(principal, KIND).where(Record.id.in_(list(links))))
    }
    own = templates.load(session, principal.company_id, KIND).own_policy(principal.hide_private)
    spaces = gate.spaces(session, principal, KIND, list(records), own)
    current: dict[tuple[uuid.UUID, uuid.UUID], FieldState] = {}
    for space in spaces:
        state = FieldState()
        for key in TRACKED:
            _set(state, key, space.standard.get(key))
        current[(space.record_id, space.company_id)] = state
    owners = {company for _, company in current}
    visible = _visible_keys(session, principal, owners)
    changes = _changes_after(session, principal, list(records), period.starts_at)
    before = _states(current, changes, period.starts_at)
    after = _states(current, changes, period.ends_at)
    converter = Converter.for_company(session, principal.company_id)
    catalogues = {company: stages_for(session, company, KIND) for company in owners}
    names = company_names(session, owners)
    stage_names = {
        company: {s.key: s.name for s in stages} for company, stages in catalogues.items()
    }

    by_company: dict[uuid.UUID, dict[Movement, list[ReviewItem]]] = defaultdict(
        lambda: defaultdict(list)
    )
    pipeline: dict[uuid.UUID, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (record_id, company_id), now_state in sorted(
        after.items(), key=lambda item: (records[item[0][0]].title, str(item[0]))
    ):
        record = records[record_id]
        keys = visible.get(company_id, frozenset())
        if not keys:
            continue
        was = before[(record_id, company_id)]
        is_new = period.holds(links[record_id].linked_at) or period.holds(record.created_at)
        movements = _movement(was, now_state, catalogues[company_id], keys)
        if is_new:
            movements.insert(0, Movement.NEW)
        value_before = _converted(converter, was, period.end) if "amount" in keys else None
        value_after = _converted(converter, now_state, period.end) if "amount" in keys else None
        if "amount" in keys and "stage" in keys:
            for index, state, value in ((0, was, value_before), (1, now_state, value_after)):
                info = _position(catalogues[company_id], state.stage)
                is_open = info is None or info.category == StageCategory.OPEN
                if value is not None and is_open and not (index == 0 and is_new):
                    pipeline[company_id][index] += value
        amount_changed = "amount" in keys and (was.amount, was.currency) != (
            now_state.amount,
            now_state.currency,
        )
        if amount_changed and not movements:
            movements.append(Movement.VALUE_CHANGED)
        for movement in movements:
            by_company[company_id][movement].append(
                ReviewItem(
                    record_id=record_id,
                    title=record.title,
                    customer_name=record.customer_name,
                    stage_before=_label(stage_names[company_id], was.stage, keys),
                    stage_after=_label(stage_names[company_id], now_state.stage, keys),
                    close_date_before=was.close_date if "close_date" in keys else None,
                    close_date_after=now_state.close_date if "close_date" in keys else None,
                    amount_before=_money(was, keys),
                    amount_after=_money(now_state, keys),
                    value_before=value_before,
                    value_after=value_after,
                    delta=_delta(value_before, value_after, is_new),
                    unconverted=_unconverted(converter, (was, now_state), period.end, keys),
                )
            )
    companies = [
        ReviewCompany(
            company_id=company_id,
            company_name=names.get(company_id, ""),
            is_mine=company_id == principal.company_id,
            fields=sorted(visible.get(company_id, frozenset())),
            open_pipeline_before=pipeline[company_id][0] if company_id in pipeline else None,
            open_pipeline_after=pipeline[company_id][1] if company_id in pipeline else None,
            sections=[
                ReviewSection(
                    movement=movement,
                    items=by_company[company_id][movement],
                    total=SectionTotal(
                        count=len(by_company[company_id][movement]),
                        delta=sum(
                            (i.delta for i in by_company[company_id][movement] if i.delta),
                            Decimal(0),
                        ),
                    ),
                )
                for movement in Movement
            ],
        )
        for company_id in sorted(
            owners, key=lambda c: (c != principal.company_id, names.get(c, ""), str(c))
        )
        if visible.get(company_id)
    ]
    return ReviewOut(
        plan_id=plan_id,
        start=period.start,
        end=period.end,
        currency=converter.currency,
        rate_date=period.end,
        opportunities=len(records),
        companies=companies,
    )


def _label(names: dict[str, str], stage: str | None, keys: frozenset[str]) -> str | None:
    if "stage" not in keys or stage is None:
        return None
    return names.get(stage, stage)


def _money(state: FieldState, keys: frozenset[str]) -> dict[str, str] | None:
    if "amount" not in keys or state.amount is None:
        return None
    return {"value": f"{state.amount:.2f}", "currency": state.currency or ""}


def _converted(converter: Converter, state: FieldState, on: date) -> Decimal | None:
    if state.amount is None:
        return None
    return converter.convert(state.amount, state.currency, on)


def _delta(before: Decimal | None, after: Decimal | None, is_new: bool) -> Decimal | None:
    if after is None and before is None:
        return None
    if is_new:
        return after
    return (after or Decimal(0)) - (before or Decimal(0))


def _unconverted(
    converter: Converter, states: tuple[FieldState, ...], on: date, keys: frozenset[str]
) -> list[str]:
    if "amount" not in keys:
        return []
    return sorted(
        {
            s.currency or ""
            for s in states
            if s.amount is not None and converter.convert(s.amount, s.currency, on) is None
        }
    )
