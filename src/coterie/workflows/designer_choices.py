"""What the workflow designer's selects offer, with labels: the fields an entry criterion may
name (the company's template fields for the workflow's kind and the shared core fields), who
owns a step (the record's owner, the mover, a colleague), and which companies approve (the
company itself; in a program workflow also the program's partners, read through the gate)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.fields import templates
from coterie.fields.kinds import ParticipantStatus
from coterie.models import Company
from coterie.network.companies import names as company_names
from coterie.records import presenters
from coterie.workflows.designer_form import Choices

Options = list[tuple[str, str]]

CORE_FIELDS: Options = [
    ("title", "Title"),
    ("customer_name", "Customer name"),
    ("customer_domain", "Customer domain"),
    ("motion", "Motion"),
    ("description", "Description"),
    ("account_id", "Account"),
]
NOT_CRITERIA = frozenset({"stage"})  # the stage itself is what moves
SYMBOLIC_OWNERS: Options = [
    ("record_owner", "The record's owner"),
    ("mover", "Whoever moves the record"),
]
ROLES: Options = [
    ("manager", "A manager or admin"),
    ("admin", "An admin"),
    ("member", "Any user"),
]
CATEGORIES: Options = [("open", "Open"), ("won", "Won"), ("lost", "Lost")]
MODES: Options = [("sequential", "One after another"), ("parallel", "All at once")]


@dataclass(frozen=True)
class DesignerChoices:
    """The options of each select, as (value, label) pairs."""

    own_fields: Options
    shared_fields: Options
    owners: Options
    companies: Options
    program: bool

    def allowed(self) -> Choices:
        return Choices(
            fields=frozenset(v for v, _ in self.own_fields + self.shared_fields),
            owners=frozenset(v for v, _ in self.owners),
            companies=frozenset(v for v, _ in self.companies),
        )

    def field_labels(self) -> dict[str, str]:
        return dict(self.own_fields + self.shared_fields)


def _own_fields(session: Session, actor: Actor, kind: str) -> Options:
    template = templates.load(session, actor.company_id, kind)
    fields = [f for f in template.fields if f.key not in NOT_CRITERIA]
    return [(f"mine.{f.key}", f.label or f.key.replace("_", " ").capitalize()) for f in fields]


def _partners(
    session: Session, actor: Actor, owner_id: uuid.UUID, program_id: uuid.UUID
) -> Options:
    """The program's active participants but the workflow's company, as the gate shows them."""
    members = gate.participants(session, actor.principal, "program", [program_id])
    partners = company_names(
        session,
        (
            m.company_id
            for m in members
            if m.company_id != owner_id and m.status == ParticipantStatus.ACTIVE.value
        ),
    )
    found = [(str(company_id), name) for company_id, name in partners.items()]
    return sorted(found, key=lambda option: option[1].casefold())


def _companies(
    session: Session, actor: Actor, owner_id: uuid.UUID, program_id: uuid.UUID | None
) -> Options:
    company = session.get(Company, owner_id)
    name = company.name if company is not None else "The workflow's company"
    if program_id is None:
        mine = " (your company)" if owner_id == actor.company_id else ""
        return [("host", f"{name}{mine}")]
    return [
        ("host", f"{name} (the program's host)"),
        ("owner", "The record owner's company"),
        ("mover", "The mover's company"),
        ("partners", "Each partner on the program"),
        *_partners(session, actor, owner_id, program_id),
    ]


def load(
    session: Session,
    actor: Actor,
    kind: str,
    program_id: uuid.UUID | None,
    owner_id: uuid.UUID | None = None,
) -> DesignerChoices:
    """The options for a workflow of `owner_id` (default: my company) for records of `kind`."""
    return DesignerChoices(
        own_fields=_own_fields(session, actor, kind),
        shared_fields=CORE_FIELDS,
        owners=SYMBOLIC_OWNERS + presenters.colleague_choices(session, actor),
        companies=_companies(session, actor, owner_id or actor.company_id, program_id),
        program=program_id is not None,
    )
