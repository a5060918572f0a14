"""A record's timeline, newest first: changes, comments and workflow moves, as a principal may
see them *now*.

After `gate.check` (404 when the record is hidden):
- a change of the shared core (and of its participants) is shown to everyone who sees it;
- a change of company X's space on field F is shown to X itself while its template shows F
  (and "hide private fields" does not hide it), and to another company only while X is an
  active participant and shares F with it now (`authz.fields.shared_to`, the very rule that
  `gate.spaces` masks with) — so re-sharing a field reveals its history, unsharing hides it;
- comments the principal may read (`comment_access.readable`);
- workflow moves: on a workflow the principal sees, as moves; of one it does not see, only
  what a completed move did to a field it sees, as that field's change (`activity.moves`).
Values are formatted like the record page (`records.presenters.display`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.activity import comments, cursors, moves
from coterie.activity.changes import PARTICIPANT_PREFIX
from coterie.activity.schemas import ChangeOut, TimelineItem
from coterie.auth.principal import Actor
from coterie.authz import fields, gate, rls
from coterie.authz.principal import Principal
from coterie.fields import templates
from coterie.fields.definitions import STANDARD_FIELDS
from coterie.fields.kinds import ParticipantStatus
from coterie.kit.pagination import check_limit
from coterie.kit.words import possessive
from coterie.models import FieldShare, Participant, User
from coterie.models.activity import Comment, RecordChange
from coterie.models.workflow import WorkflowDefinition, WorkflowMove
from coterie.network.companies import names as company_names
from coterie.records import presenters

CORE_LABELS = {
    "title": "Title",
    "customer_name": "Customer",
    "customer_domain": "Customer domain",
    "account_id": "Account",
    "motion": "Motion",
    "description": "Description",
    "joint_stage": "Joint stage",
}
PARTICIPANT_WORDS = {
    "invited": "was invited",
    "active": "joined",
    "declined": "declined the invitation",
    "left": "left",
    "removed": "was removed",
}


def _shared_now(kind: str, owner: Any, key: Any, audience: uuid.UUID) -> ColumnElement[bool]:
    return (
        select(FieldShare.id)
        .where(fields.shared_to(kind, owner, audience), FieldShare.field_key == key)
        .exists()
    )


def _active(record_id: Any, company_id: Any) -> ColumnElement[bool]:
    return (
        select(Participant.record_id)
        .where(
            Participant.record_id == record_id,
            Participant.company_id == company_id,
            Participant.status == ParticipantStatus.ACTIVE.value,
        )
        .exists()
    )


def own_keys_of(session: Session, principal: Principal, kind: str) -> frozenset[str]:
    """The keys of the principal's own space it may see now ("hide private fields" applied)."""
    policy = templates.load(session, principal.company_id, kind).own_policy(principal.hide_private)
    return policy.visible_standard | policy.visible_custom


def change_visible(
    principal: Principal, kind: str, own_keys: frozenset[str]
) -> ColumnElement[bool]:
    me = principal.company_id
    mine = RecordChange.field_key.in_(sorted(own_keys)) if own_keys else false()
    return or_(
        RecordChange.company_id.is_(None),
        and_(RecordChange.company_id == me, mine),
        and_(
            RecordChange.company_id != me,
            _shared_now(kind, RecordChange.company_id, RecordChange.field_key, me),
            _active(RecordChange.record_id, RecordChange.company_id),
        ),
    )


@dataclass(frozen=True)
class _FieldChange:
    """A change of one field, from the change log or made by a move shown as a change."""

    company_id: uuid.UUID | None  # whose space; None for the core
    field_key: str
    old_value: Any
    new_value: Any
    via: str | None = None  # the CRM whose sync made it, for the actor's own company only

    @classmethod
    def of(cls, item: RecordChange | moves.Moved) -> _FieldChange:
        if isinstance(item, RecordChange):
            return cls(item.company_id, item.field_key, item.old_value, item.new_value, item.via)
        company_id, key = moves.driven_field(item.definition)
        return cls(company_id, key, item.move.from_stage, item.move.to_stage)


@dataclass(frozen=True)
class Entry:
    """One timeline item (a change, a comment, a move) with the time and id it sorts by."""

    at: datetime
    id: uuid.UUID
    item: Any


def _page(
    session: Session, statement: Any, at: Any, id_: Any, position: cursors.Position | None, n: int
) -> list[Any]:
    condition = cursors.beyond(at, id_, position)
    if condition is not None:
        statement = statement.where(condition)
    return list(session.execute(statement.order_by(at.desc(), id_.desc()).limit(n)))


def timeline(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[TimelineItem], str | None]:
    check_limit(limit)
    principal = actor.principal
    gate.check(session, principal, kind, record_id)
    position = cursors.decode(cursor)
    own_keys = own_keys_of(session, principal, kind)
    options = rls.as_company(principal.company_id)
    change_rows = _page(
        session,
        select(RecordChange)
        .where(RecordChange.record_id == record_id, change_visible(principal, kind, own_keys))
        .execution_options(**options),
        RecordChange.at,
        RecordChange.id,
        position,
        limit + 1,
    )
    comment_rows = _page(
        session,
        comments.for_record(principal, record_id),
        Comment.created_at,
        Comment.id,
        position,
        limit + 1,
    )
    # a move read as a move is dated when asked; one read as a change, when the field changed
    company_shares_stage = and_(
        _shared_now(kind, WorkflowDefinition.company_id, "stage", principal.company_id),
        _active(WorkflowMove.record_id, WorkflowDefinition.company_id),
    )
    as_change = moves.shown_as_change(principal, company_shares_stage)
    repeated = moves.echoes(session, principal, record_id)
    move_at = case((as_change, WorkflowMove.completed_at), else_=WorkflowMove.requested_at)
    move_rows = _page(
        session,
        select(WorkflowMove, WorkflowDefinition, as_change.label("as_change"), move_at.label("at"))
        .join(WorkflowDefinition, WorkflowDefinition.id == WorkflowMove.workflow_id)
        .where(
            WorkflowMove.record_id == record_id,
            or_(
                moves.shown_as_move(principal, own_keys),
                and_(as_change, WorkflowMove.id.not_in(repeated)),
            ),
        )
        .execution_options(**options),
        move_at,
        WorkflowMove.id,
        position,
        limit + 1,
    )
    entries = sorted(
        [
            *(Entry(r[0].at, r[0].id, r[0]) for r in change_rows),
            *(Entry(r[0].created_at, r[0].id, r[0]) for r in comment_rows),
            *(Entry(r.at, r[0].id, moves.Moved(r[0], r[1], bool(r.as_change))) for r in move_rows),
        ],
        key=lambda e: (e.at, e.id),
        reverse=True,
    )
    more = len(entries) > limit
    entries = entries[:limit]
    items = present_entries(session, actor, principal, kind, entries)
    next_cursor = cursors.encode((entries[-1].at, entries[-1].id)) if more and entries else None
    return items, next_cursor


def present_entries(
    session: Session, actor: Actor, principal: Principal, kind: str, entries: Sequence[Entry]
) -> list[TimelineItem]:
    """The entries as the principal may read them (values masked as its own keys allow)."""
    logged = [e.item for e in entries if isinstance(e.item, RecordChange)]
    comment_rows = [e.item for e in entries if isinstance(e.item, Comment)]
    moved = [e.item for e in entries if isinstance(e.item, moves.Moved)]
    changes = {c.id: _FieldChange.of(c) for c in logged}
    changes |= {m.move.id: _FieldChange.of(m) for m in moved if m.as_change}
    user_ids = {c.actor_user_id for c in logged if c.actor_user_id is not None}
    user_ids |= {m.move.requested_by_user_id for m in moved if m.move.requested_by_user_id}
    people = comments.people_refs(session, user_ids)
    company_ids = {c.company_id for c in changes.values() if c.company_id is not None}
    company_ids |= {
        uuid.UUID(c.field_key.removeprefix(PARTICIPANT_PREFIX))
        for c in changes.values()
        if c.field_key.startswith(PARTICIPANT_PREFIX)
    }
    names = company_names(session, company_ids)
    own_template = templates.load(session, principal.company_id, kind)
    partner_ids = company_ids - {principal.company_id}
    partner_templates = templates.load_many(session, partner_ids, kind)
    user_names = _user_names(session, list(changes.values()))
    comment_out = {c.id: c for c in comments.present(session, principal, comment_rows)}
    items: list[TimelineItem] = []
    for entry in entries:
        item = entry.item
        if isinstance(item, Comment):
            out = comment_out[item.id]
            where = " (internal note)" if out.audience == "company" else ""
            items.append(
                TimelineItem(
                    id=item.id,
                    type="comment",
                    at=item.created_at,
                    actor=out.author,
                    text=f"{out.author.name} commented{where}",
                    comment=out,
                )
            )
            continue
        author = item.actor_user_id if isinstance(item, RecordChange) else None
        if isinstance(item, moves.Moved):
            author = item.move.requested_by_user_id
        actor_ref = people.get(author) if author else None
        who = actor_ref.name if actor_ref is not None else "Someone"
        if isinstance(item, moves.Moved) and not item.as_change:
            items.append(moves.move_item(item, entry.at, actor_ref, who))
            continue
        field_change = changes[entry.id]
        template: templates.CompanyTemplate | None = None
        if field_change.company_id == principal.company_id:
            template = own_template
        elif field_change.company_id is not None:
            template = partner_templates.get(field_change.company_id)
        change = _change(
            field_change,
            template,
            names,
            user_names,
            is_mine=field_change.company_id == principal.company_id,
        )
        items.append(
            TimelineItem(
                id=entry.id,
                type="change",
                at=entry.at,
                actor=actor_ref,
                text=_change_text(_by(who, item, field_change, principal.company_id), change),
                change=change,
            )
        )
    return items


def _by(who: str, item: object, change: _FieldChange, viewer: uuid.UUID) -> str:
    """`who`, and the CRM the change came from when the viewer's own company made it (another
    company's CRM is that company's business)."""
    if change.via and isinstance(item, RecordChange) and item.actor_company_id == viewer:
        return f"{who} (from {change.via})"
    return who


def _change_text(who: str, change: ChangeOut) -> str:
    if change.scope == "participant":
        status = str(change.new)
        return f"{change.company_name} {PARTICIPANT_WORDS.get(status, status)}"
    if change.scope == "core":
        return f"{who} changed {change.label}: {change.old_display} → {change.new_display}"
    return (
        f"{who} changed {possessive(change.company_name)} {change.label}: "
        f"{change.old_display} → {change.new_display}"
    )


def _user_names(session: Session, changes: Sequence[_FieldChange]) -> dict[str, str]:
    """Names behind user values (the owner field), each from the space's own company."""
    wanted: dict[uuid.UUID, set[uuid.UUID]] = {}
    for change in changes:
        if change.company_id is None or change.field_key != "owner":
            continue
        for value in (change.old_value, change.new_value):
            try:
                wanted.setdefault(change.company_id, set()).add(uuid.UUID(str(value)))
            except ValueError:
                continue
    names: dict[str, str] = {}
    for company_id, ids in wanted.items():
        rows = session.execute(
            select(User.id, User.name).where(User.company_id == company_id, User.id.in_(ids))
        )
        names.update({str(r[0]): r[1] for r in rows})
    return names


def _change(
    change: _FieldChange,
    template: templates.CompanyTemplate | None,
    company_names: dict[uuid.UUID, str],
    user_names: dict[str, str],
    *,
    is_mine: bool,
) -> ChangeOut:
    key = change.field_key
    if key.startswith(PARTICIPANT_PREFIX):
        company_id = uuid.UUID(key.removeprefix(PARTICIPANT_PREFIX))
        name = company_names.get(company_id, "A company")
        return ChangeOut(
            scope="participant",
            company_id=company_id,
            company_name=name,
            field="participant",
            label="Participation",
            old=change.old_value,
            new=change.new_value,
            old_display=presenters.humanize(str(change.old_value)) if change.old_value else "—",
            new_display=presenters.humanize(str(change.new_value)) if change.new_value else "—",
        )
    if change.company_id is None:
        return ChangeOut(
            scope="core",
            company_id=None,
            company_name="",
            field=key,
            label=CORE_LABELS.get(key, presenters.humanize(key)),
            old=change.old_value,
            new=change.new_value,
            old_display=_core_text(key, change.old_value),
            new_display=_core_text(key, change.new_value),
        )
    if is_mine:
        definition = presenters.definition_for(template, key)
    else:
        definition = presenters.definition_for(None, key)
    label = key
    if template is not None and key in template.by_key:
        label = template.by_key[key].label or key
    elif key in STANDARD_FIELDS:
        label = STANDARD_FIELDS[key].label
    return ChangeOut(
        scope="space",
        company_id=change.company_id,
        company_name=company_names.get(change.company_id, ""),
        field=key,
        label=label,
        old=change.old_value,
        new=change.new_value,
        old_display=presenters.display(change.old_value, definition, user_names),
        new_display=presenters.display(change.new_value, definition, user_names),
    )


def _core_text(key: str, value: Any) -> str:
    if value is None or value == "":
        return presenters.EMPTY
    if key == "motion":
        return presenters.MOTION_LABELS.get(str(value), str(value))
    if key == "account_id":
        return "an account"
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"
