"""Tasks on records: made by a stage's steps or by hand.

A task belongs to one company: it is visible to that company only, unless `shared` (then to
every company that sees the record). Only its company edits or deletes it. Another company's
shared task shows its title, due date and done state, never who owns it. A task made by a
program workflow's step is part of that workflow: another company sees it only while it sees the
workflow (`authz.workflows.visible_condition`), and a task's workflow and stage are shown only to
those who see its workflow.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls, workflows
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import Kind
from coterie.kit import conditional
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import Problem, forbidden, invalid, not_found
from coterie.models import User
from coterie.models.workflow import RecordTask, WorkflowDefinition
from coterie.network.companies import names as company_names
from coterie.workflows.schemas import TaskIn, TaskOut, TaskPatch

LIST_ORDER = (SortKey(RecordTask.id, is_uuid=True),)


def _visible_to(principal: Principal) -> Any:
    unseen_program_workflows = select(WorkflowDefinition.id).where(
        WorkflowDefinition.program_id.is_not(None),
        not_(workflows.visible_condition(principal)),
    )
    return or_(
        RecordTask.company_id == principal.company_id,
        and_(
            RecordTask.shared.is_(True),
            or_(
                RecordTask.workflow_id.is_(None),
                RecordTask.workflow_id.not_in(unseen_program_workflows),
            ),
        ),
    )


def _seen_workflows(
    session: Session, principal: Principal, tasks: list[RecordTask]
) -> set[uuid.UUID]:
    ids = {t.workflow_id for t in tasks if t.workflow_id is not None}
    if not ids:
        return set()
    statement = workflows.visible_ids(principal).where(WorkflowDefinition.id.in_(ids))
    return set(session.scalars(statement))


def out(session: Session, principal: Principal, tasks: list[RecordTask]) -> list[TaskOut]:
    mine = [t for t in tasks if t.company_id == principal.company_id]
    owners = {t.owner_user_id for t in mine if t.owner_user_id is not None}
    users = (
        {r[0]: r[1] for r in session.execute(select(User.id, User.name).where(User.id.in_(owners)))}
        if owners
        else {}
    )
    company_ids = {t.company_id for t in tasks}
    companies = company_names(session, company_ids)
    seen = _seen_workflows(session, principal, tasks)
    result = []
    for t in tasks:
        own = t.company_id == principal.company_id
        linked = t.workflow_id in seen
        result.append(
            TaskOut(
                id=t.id,
                record_id=t.record_id,
                record_kind=t.kind,
                company_id=t.company_id,
                company_name=companies.get(t.company_id, ""),
                mine=own,
                workflow_id=t.workflow_id if linked else None,
                stage_key=t.stage_key if linked else None,
                title=t.title,
                owner_user_id=t.owner_user_id if own else None,
                owner_name=users.get(t.owner_user_id) if own and t.owner_user_id else None,
                due_date=t.due_date,
                shared=t.shared,
                done=t.done,
                done_at=t.done_at,
                done_by_user_id=t.done_by_user_id if own else None,
                version=t.version,
                created_at=t.created_at,
            )
        )
    return result


def for_record(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> list[TaskOut]:
    principal = actor.principal
    gate.check(session, principal, kind, record_id)
    statement = (
        select(RecordTask)
        .where(RecordTask.record_id == record_id, _visible_to(principal))
        .order_by(
            RecordTask.done, RecordTask.due_date.is_(None), RecordTask.due_date, RecordTask.id
        )
        .execution_options(**rls.as_company(principal.company_id))
    )
    return out(session, principal, list(session.scalars(statement)))


def next_open(
    session: Session, principal: Principal, record_ids: list[uuid.UUID]
) -> dict[uuid.UUID, RecordTask]:
    """Per record (all admitted by the gate), the open task the principal sees that is due
    first (tasks without a due date last): the record's next step."""
    if not record_ids:
        return {}
    statement = (
        select(RecordTask)
        .where(
            RecordTask.record_id.in_(record_ids),
            RecordTask.done.is_(False),
            _visible_to(principal),
        )
        .order_by(RecordTask.due_date.is_(None), RecordTask.due_date, RecordTask.id)
        .execution_options(**rls.as_company(principal.company_id))
    )
    found: dict[uuid.UUID, RecordTask] = {}
    for task in session.scalars(statement):
        found.setdefault(task.record_id, task)
    return found


def _check_owner(session: Session, company_id: uuid.UUID, user_id: uuid.UUID | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or user.company_id != company_id or not user.is_active:
        raise invalid("body.owner_user_id", "is not an active user of your company")


def create(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, data: TaskIn
) -> RecordTask:
    principal = actor.principal
    gate.require_edit(session, principal, kind, record_id)
    _check_owner(session, actor.company_id, data.owner_user_id)
    task = RecordTask(
        record_id=record_id,
        kind=kind,
        company_id=actor.company_id,
        title=data.title,
        owner_user_id=data.owner_user_id,
        due_date=data.due_date,
        shared=data.shared,
        done=False,
        version=1,
        created_by_user_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(task)
    session.flush()
    audit.record(session, actor, "task.created", task.kind, task.record_id, task_id=str(task.id))
    return task


def _mine_for_write(session: Session, actor: Actor, task_id: uuid.UUID) -> RecordTask:
    """A task I may edit: 404 when I may not see it, 403 when it is another company's."""
    principal = actor.principal
    task = session.scalars(
        select(RecordTask)
        .where(RecordTask.id == task_id, _visible_to(principal))
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if task is None:
        raise not_found("task")
    try:
        gate.check(session, principal, task.kind, task.record_id)
    except Problem as exc:
        raise not_found("task") from exc
    if task.company_id != actor.company_id:
        raise forbidden("This task belongs to another company on the record.")
    return task


def get(session: Session, actor: Actor, task_id: uuid.UUID) -> TaskOut:
    principal = actor.principal
    task = session.scalars(
        select(RecordTask)
        .where(RecordTask.id == task_id, _visible_to(principal))
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if task is None:
        raise not_found("task")
    try:
        gate.check(session, principal, task.kind, task.record_id)
    except Problem as exc:
        raise not_found("task") from exc
    return out(session, principal, [task])[0]


def update(
    session: Session, actor: Actor, task_id: uuid.UUID, patch: TaskPatch, expected: int
) -> RecordTask:
    task = _mine_for_write(session, actor, task_id)
    changes = patch.model_dump(exclude_unset=True)
    if "title" in changes and changes["title"] is None:
        raise invalid("body.title", "cannot be null")
    if "done" in changes and changes["done"] is None:
        raise invalid("body.done", "cannot be null")
    if "shared" in changes and changes["shared"] is None:
        raise invalid("body.shared", "cannot be null")
    if "owner_user_id" in changes:
        _check_owner(session, actor.company_id, changes["owner_user_id"])
    changed = [key for key, value in changes.items() if getattr(task, key) != value]
    if not changed:
        conditional.check_version(task, expected, "task")
        return task
    conditional.claim_version(session, task, expected, "task", rls.as_company(actor.company_id))
    for key in changed:
        setattr(task, key, changes[key])
    if "done" in changed:
        task.done_at = utcnow() if task.done else None
        task.done_by_user_id = actor.user_id if task.done else None
    audit.record(
        session,
        actor,
        "task.updated",
        task.kind,
        task.record_id,
        task_id=str(task.id),
        fields=sorted(changed),
    )
    session.flush()
    return task


def delete(session: Session, actor: Actor, task_id: uuid.UUID, expected: int) -> None:
    task = _mine_for_write(session, actor, task_id)
    conditional.claim_version(session, task, expected, "task", rls.as_company(actor.company_id))
    audit.record(session, actor, "task.deleted", task.kind, task.record_id, task_id=str(task.id))
    session.delete(task)
    session.flush()


def _listing(
    principal: Principal, *, mine: bool, due_before: date | None, done: bool | None
) -> Select[Any]:
    on_visible = [
        and_(
            RecordTask.kind == kind.value,
            RecordTask.record_id.in_(gate.visible_ids(principal, kind.value)),
        )
        for kind in Kind
    ]
    statement = select(RecordTask).where(_visible_to(principal), or_(*on_visible))
    if mine:
        statement = statement.where(
            RecordTask.owner_user_id == principal.user_id,
            RecordTask.company_id == principal.company_id,
        )
    if due_before is not None:
        statement = statement.where(RecordTask.due_date < due_before)
    if done is not None:
        statement = statement.where(RecordTask.done.is_(done))
    return statement.execution_options(**rls.as_company(principal.company_id))


def list_tasks(
    session: Session,
    actor: Actor,
    *,
    mine: bool,
    due_before: date | None,
    done: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[TaskOut], str | None]:
    """Tasks on records I may see: mine (I own them), or every task I may see."""
    principal = actor.principal
    rows, next_cursor = paginate(
        session,
        _listing(principal, mine=mine, due_before=due_before, done=done),
        LIST_ORDER,
        limit=limit,
        cursor=cursor,
        key_of=lambda t: [t.id],
    )
    return out(session, principal, list(rows)), next_cursor
