"""Workflow definitions: the built-in templates, validation, and who may read and write them.

A company workflow (`program_id` NULL) belongs to its company: every user of the company reads
it, its managers and admins write it, and nobody else ever sees it. A program workflow belongs to
the program's host (the program record's owner company): its managers and admins write it, and
the program's active participants read it (the gate on the program record decides).

That rule lives once, as SQL, in `coterie.authz.workflows`: every read of a workflow (the
definition routes, a record's workflows, the board, approvals, tasks made by its steps, the
timeline) filters with it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls, workflows
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import ParticipantStatus
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict, forbidden, invalid, not_found
from coterie.models import Company, User
from coterie.models.vocabulary import Role
from coterie.models.workflow import WorkflowDefinition
from coterie.workflows.schemas import (
    StageIn,
    TransitionIn,
    WorkflowIn,
    WorkflowOut,
    WorkflowUpdate,
)
from coterie.workflows.stages import DEFAULT_PIPELINE, company_definition

CORE_REQUIRED = frozenset(
    {"title", "customer_name", "customer_domain", "motion", "description", "account_id"}
)
ANY_OPEN = "*"
SYMBOLIC_COMPANIES = frozenset({"owner", "host", "mover", "partners"})
SYMBOLIC_OWNERS = frozenset({"record_owner", "mover"})

_PIPELINE_EXTRAS: dict[str, dict[str, Any]] = {
    "qualify": {
        "steps": [{"title": "Qualify the need with the customer", "due_in_days": 7}],
    },
    "propose": {
        "required_fields": ["mine.amount"],
        "steps": [{"title": "Send the proposal", "due_in_days": 7}],
    },
    "negotiate": {"required_fields": ["mine.amount", "mine.close_date"]},
    "won": {"required_fields": ["mine.amount", "mine.close_date"]},
}

TEMPLATES: dict[str, dict[str, Any]] = {
    "standard_pipeline": {
        "kind": "opportunity",
        "name": "Standard pipeline",
        "stages": [
            {
                "key": info.key,
                "name": info.name,
                "category": info.category.value,
                **_PIPELINE_EXTRAS.get(info.key, {}),
            }
            for info in DEFAULT_PIPELINE
        ],
        "transitions": [],
    },
    "joint_solution": {
        "kind": "solution",
        "name": "Joint solution",
        "stages": [
            {
                "key": "business_review",
                "name": "Business Review",
                "steps": [
                    {"title": "Review the business case", "owner": "mover", "due_in_days": 7}
                ],
            },
            {"key": "approval", "name": "Approval", "required_fields": ["customer_name"]},
            {"key": "partner_approval", "name": "Partner Approval"},
            {
                "key": "execution",
                "name": "Execution",
                "steps": [{"title": "Kick off the execution", "owner": "mover", "due_in_days": 14}],
            },
            {"key": "completion", "name": "Completion", "category": "won"},
            {"key": "canceled", "name": "Canceled", "category": "lost"},
            {"key": "declined", "name": "Declined", "category": "lost"},
        ],
        "transitions": [
            {"from": "business_review", "to": "approval"},
            {
                "from": "approval",
                "to": "partner_approval",
                "approvals": [{"company": "host", "role": "manager"}],
            },
            {
                "from": "partner_approval",
                "to": "execution",
                "approvals": [{"company": "partners", "role": "admin"}],
                "mode": "parallel",
            },
            {"from": "execution", "to": "completion"},
            {"from": ANY_OPEN, "to": "canceled"},
            {"from": ANY_OPEN, "to": "declined"},
        ],
    },
}


# what every new company starts with (`install_standard`); leads keep the built-in stages
STANDARD_TEMPLATE = "standard_pipeline"
STANDARD_KIND = str(TEMPLATES[STANDARD_TEMPLATE]["kind"])


# -- validation -----------------------------------------------------------------------------


def _parse_template(name: str) -> tuple[list[StageIn], list[TransitionIn]]:
    data = TEMPLATES[name]
    stages = [StageIn.model_validate(s) for s in data["stages"]]
    transitions = [TransitionIn.model_validate(t) for t in data["transitions"]]
    return stages, transitions


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def validate(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    program_id: uuid.UUID | None,
    stages: list[StageIn],
    transitions: list[TransitionIn],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The definition as stored JSON, or 422 naming the first offending path."""
    keys: set[str] = set()
    template = templates.load(session, company_id, kind)
    for i, stage in enumerate(stages):
        path = f"body.stages.{i}"
        if stage.key in keys:
            raise invalid(f"{path}.key", f"'{stage.key}' is used by an earlier stage")
        keys.add(stage.key)
        for j, field in enumerate(stage.required_fields):
            field_path = f"{path}.required_fields.{j}"
            _prefix, dot, key = field.partition(".")
            if not dot:
                if field not in CORE_REQUIRED:
                    raise invalid(
                        field_path,
                        f"'{field}' is not a shared core field; write mine.<key> for a field of "
                        f"the mover's space, or one of {', '.join(sorted(CORE_REQUIRED))}",
                    )
            elif program_id is None and key not in template.by_key:
                raise invalid(field_path, f"'{key}' is not a field of your template for {kind}")
        for j, step in enumerate(stage.steps):
            if step.owner in SYMBOLIC_OWNERS:
                continue
            user_id = _uuid(step.owner)
            user = session.get(User, user_id) if user_id is not None else None
            if user is None or user.company_id != company_id or not user.is_active:
                raise invalid(
                    f"{path}.steps.{j}.owner",
                    "must be record_owner, mover, or an active user of your company",
                )
    seen: set[tuple[str, str]] = set()
    for i, transition in enumerate(transitions):
        path = f"body.transitions.{i}"
        if transition.from_ != ANY_OPEN and transition.from_ not in keys:
            raise invalid(f"{path}.from", f"'{transition.from_}' is not a stage of this workflow")
        if transition.to not in keys:
            raise invalid(f"{path}.to", f"'{transition.to}' is not a stage of this workflow")
        if transition.from_ == transition.to:
            raise invalid(f"{path}.to", "a transition goes to another stage")
        pair = (transition.from_, transition.to)
        if pair in seen:
            raise invalid(path, f"repeats the transition {pair[0]} -> {pair[1]}")
        seen.add(pair)
        for j, approval in enumerate(transition.approvals):
            company_path = f"{path}.approvals.{j}.company"
            company = approval.company
            target = _uuid(company) if company not in SYMBOLIC_COMPANIES else None
            if company not in SYMBOLIC_COMPANIES and (
                target is None or session.get(Company, target) is None
            ):
                raise invalid(company_path, "must be owner, host, mover, partners, or a company id")
            if program_id is None and not (company in {"host", "mover"} or target == company_id):
                raise invalid(
                    company_path,
                    "a company workflow is private to your company: only your company approves "
                    "(host, mover or your company's id)",
                )
    return (
        [s.model_dump(mode="json") for s in stages],
        [t.model_dump(mode="json", by_alias=True) for t in transitions],
    )


def install_standard(
    session: Session, company_id: uuid.UUID, user_id: uuid.UUID | None
) -> WorkflowDefinition | None:
    """Give a company the standard pipeline workflow for its opportunities, unless it already
    has an active company workflow for them (None then). Its stages are the template's, so
    there is nothing to validate against the company's own field template."""
    if company_definition(session, company_id, STANDARD_KIND) is not None:
        return None
    stages, transitions = _parse_template(STANDARD_TEMPLATE)
    now = utcnow()
    definition = WorkflowDefinition(
        company_id=company_id,
        program_id=None,
        kind=STANDARD_KIND,
        name=str(TEMPLATES[STANDARD_TEMPLATE]["name"]),
        stages=[s.model_dump(mode="json") for s in stages],
        transitions=[t.model_dump(mode="json", by_alias=True) for t in transitions],
        active=True,
        version=1,
        created_by_user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(definition)
    session.flush()
    audit.record_as(
        session,
        company_id=company_id,
        actor_user_id=user_id,
        action="workflow.created",
        subject_type="workflow",
        subject_id=definition.id,
        **_described(definition),
        template=STANDARD_TEMPLATE,
    )
    return definition


# -- reading --------------------------------------------------------------------------------


def out(session: Session, definition: WorkflowDefinition) -> WorkflowOut:
    company = session.get(Company, definition.company_id)
    return WorkflowOut(
        id=definition.id,
        company_id=definition.company_id,
        company_name=company.name if company is not None else "",
        program_id=definition.program_id,
        scope="program" if definition.program_id is not None else "company",
        kind=definition.kind,
        name=definition.name,
        stages=list(definition.stages),
        transitions=list(definition.transitions),
        active=definition.active,
        version=definition.version,
        created_at=definition.created_at,
        updated_at=definition.updated_at,
    )


def readable(session: Session, principal: Principal, definition: WorkflowDefinition) -> bool:
    """Whether the principal sees `definition` (`authz.workflows.visible_condition`)."""
    statement = workflows.visible_ids(principal).where(WorkflowDefinition.id == definition.id)
    return session.scalar(statement) is not None


def audience(
    session: Session, principal: Principal, definition: WorkflowDefinition
) -> frozenset[uuid.UUID]:
    """The companies that see `definition`: its company's, or the program's active participants
    as the gate shows them to `principal` (who sees the workflow, hence the program)."""
    if definition.program_id is None:
        return frozenset({definition.company_id})
    members = gate.participants(session, principal, "program", [definition.program_id])
    return frozenset(p.company_id for p in members if p.status == ParticipantStatus.ACTIVE.value)


def get(session: Session, actor: Actor, workflow_id: uuid.UUID) -> WorkflowDefinition:
    definition = session.get(WorkflowDefinition, workflow_id)
    if definition is None or not readable(session, actor.principal, definition):
        raise not_found("workflow")
    return definition


def list_readable(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    program_id: uuid.UUID | None = None,
    include_inactive: bool = True,
) -> list[WorkflowDefinition]:
    principal = actor.principal
    statement = (
        select(WorkflowDefinition)
        .where(workflows.visible_condition(principal))
        .order_by(WorkflowDefinition.kind, WorkflowDefinition.created_at)
        .execution_options(**rls.as_company(actor.company_id))
    )
    if kind is not None:
        statement = statement.where(WorkflowDefinition.kind == kind)
    if program_id is not None:
        statement = statement.where(WorkflowDefinition.program_id == program_id)
    if not include_inactive:
        statement = statement.where(WorkflowDefinition.active.is_(True))
    return list(session.scalars(statement))


# -- writing --------------------------------------------------------------------------------


def _check_program(session: Session, actor: Actor, program_id: uuid.UUID) -> None:
    """The program must be one I see (else 404) and my company must host it (else 403)."""
    principal = actor.principal
    try:
        program = gate.check(session, principal, "program", program_id)
    except Problem as exc:
        raise invalid("body.program_id", "is not a program you can see") from exc
    if program.owner_company_id != actor.company_id:
        raise forbidden("Only the program's host company defines the program's workflows.")


def _check_single_active(session: Session, definition: WorkflowDefinition) -> None:
    if not definition.active:
        return
    statement = select(WorkflowDefinition.id).where(
        WorkflowDefinition.company_id == definition.company_id,
        WorkflowDefinition.kind == definition.kind,
        WorkflowDefinition.active.is_(True),
        WorkflowDefinition.id != definition.id,
        WorkflowDefinition.program_id.is_(None)
        if definition.program_id is None
        else WorkflowDefinition.program_id == definition.program_id,
    )
    if session.scalars(statement).first() is not None:
        where = "this program" if definition.program_id else "your company"
        raise conflict(
            "workflow-exists",
            f"{where.capitalize()} already has an active {definition.kind} workflow: "
            "deactivate it first (PUT with active false) or edit it.",
        )


def _manageable(session: Session, actor: Actor, definition: WorkflowDefinition) -> None:
    if definition.company_id != actor.company_id:
        raise forbidden("Only the company that owns a workflow edits it.")
    actor.require_role(Role.MANAGER, "edit workflows")
    if definition.program_id is not None:
        _check_program(session, actor, definition.program_id)


def create(session: Session, actor: Actor, data: WorkflowIn) -> WorkflowDefinition:
    actor.require_role(Role.MANAGER, "define workflows")
    stages, transitions = data.stages, data.transitions
    kind = data.kind.value if data.kind is not None else None
    name = data.name
    if data.template is not None:
        built_in = TEMPLATES[data.template]
        template_stages, template_transitions = _parse_template(data.template)
        stages = stages if stages is not None else template_stages
        transitions = transitions if transitions is not None else template_transitions
        kind = kind or str(built_in["kind"])
        name = name or str(built_in["name"])
        if data.template == "joint_solution" and data.program_id is None:
            raise invalid(
                "body.program_id",
                "the joint solution workflow runs on a program (its partners approve): give the "
                "id of a program your company hosts",
            )
    if stages is None:
        raise invalid("body.stages", "give the stages, or a template to start from")
    if kind is None:
        raise invalid("body.kind", "say which kind of record the workflow is for")
    if name is None:
        raise invalid("body.name", "give the workflow a name")
    if data.program_id is not None:
        _check_program(session, actor, data.program_id)
    stored_stages, stored_transitions = validate(
        session, actor.company_id, kind, data.program_id, stages, transitions or []
    )
    now = utcnow()
    definition = WorkflowDefinition(
        company_id=actor.company_id,
        program_id=data.program_id,
        kind=kind,
        name=name,
        stages=stored_stages,
        transitions=stored_transitions,
        active=data.active,
        version=1,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    _check_single_active(session, definition)
    session.add(definition)
    session.flush()
    audit.record(
        session,
        actor,
        "workflow.created",
        "workflow",
        definition.id,
        **_described(definition),
        template=data.template,
    )
    return definition


def update(
    session: Session,
    actor: Actor,
    workflow_id: uuid.UUID,
    data: WorkflowUpdate,
    expected: int,
) -> WorkflowDefinition:
    definition = get(session, actor, workflow_id)
    _manageable(session, actor, definition)
    conditional.claim_version(session, definition, expected, "workflow")
    stages, transitions = validate(
        session,
        actor.company_id,
        definition.kind,
        definition.program_id,
        data.stages,
        data.transitions,
    )
    definition.name = data.name
    definition.stages = stages
    definition.transitions = transitions
    definition.active = data.active
    _check_single_active(session, definition)
    definition.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor, "workflow.updated", "workflow", definition.id, **_described(definition)
    )
    return definition


def delete(session: Session, actor: Actor, workflow_id: uuid.UUID, expected: int) -> None:
    """Delete a definition with its record states, moves and approvals (its generated tasks
    stay, detached). To keep the history, deactivate it instead."""
    definition = get(session, actor, workflow_id)
    _manageable(session, actor, definition)
    conditional.claim_version(session, definition, expected, "workflow")
    audit.record(
        session, actor, "workflow.deleted", "workflow", definition.id, **_described(definition)
    )
    session.delete(definition)
    session.flush()


def _described(definition: WorkflowDefinition) -> dict[str, Any]:
    """The audit data of a workflow definition: its kind and program."""
    return {
        "kind": definition.kind,
        "program_id": str(definition.program_id) if definition.program_id else None,
    }
