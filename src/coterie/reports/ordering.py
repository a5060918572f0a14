"""The order and names of option-like group values: stages, joint stages, enum options, motions.

A report grouped by stage lists its stages in the workflow's order, not alphabetically: the
viewer company's applicable workflow for the kind first (its active company workflow, else the
built-in default pipeline), then stages known only from its other workflows of the kind, then
any other key (alphabetically by name); the empty group ("No stage") always comes last. The
joint stage follows the program workflows of the programs the viewer may see (in the order the
workflows were made), then the built-in stages. An enum field's options follow its template's
order with their labels; a motion follows the motion list. The engine sorts every table, chart,
export and deck from these positions, so they all agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.fields.definitions import FieldDefinition
from coterie.models.workflow import WorkflowDefinition
from coterie.records import presenters
from coterie.workflows.stages import default_stages, infos, stages_for


@dataclass
class Options:
    """Known values of a dimension: their names and their places (unknown values go after)."""

    labels: dict[str, str] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, label: str) -> None:
        if key not in self.order:
            self.order[key] = len(self.order)
            self.labels[key] = label

    def position(self, key: str | None) -> int:
        """The place of `key`; every unknown key after the known ones."""
        if key is None:
            return len(self.order) + 1
        return self.order.get(key, len(self.order))


def stages(session: Session, principal: Principal, kind: str) -> Options:
    """The viewer company's stages of `kind`: its applicable workflow's, then its other
    workflows' (older or inactive ones), then the built-in ones."""
    found = Options()
    for info in stages_for(session, principal.company_id, kind):
        found.add(info.key, info.name)
    others = session.scalars(
        select(WorkflowDefinition)
        .where(
            WorkflowDefinition.company_id == principal.company_id,
            WorkflowDefinition.program_id.is_(None),
            WorkflowDefinition.kind == kind,
        )
        .order_by(WorkflowDefinition.created_at)
        .execution_options(**rls.as_company(principal.company_id))
    )
    for definition in others:
        for info in infos(definition.stages):
            found.add(info.key, info.name)
    for info in default_stages(kind):
        found.add(info.key, info.name)
    return found


def joint_stages(session: Session, principal: Principal, kind: str) -> Options:
    """The joint stages of `kind`: those of the program workflows of programs the viewer may
    see, in the order the workflows were made, then the built-in ones."""
    found = Options()
    programs = list(session.scalars(gate.visible_ids(principal, "program")))
    if programs:
        definitions = session.scalars(
            select(WorkflowDefinition)
            .where(
                WorkflowDefinition.program_id.in_(programs),
                WorkflowDefinition.kind == kind,
                WorkflowDefinition.active.is_(True),
            )
            .order_by(WorkflowDefinition.created_at)
            .execution_options(**rls.as_company(principal.company_id))
        )
        for definition in definitions:
            for info in infos(definition.stages):
                found.add(info.key, info.name)
    for info in default_stages(kind):
        found.add(info.key, info.name)
    return found


def enum_options(definition: FieldDefinition | None) -> Options:
    """An enum field's options in its template's order, with their labels."""
    found = Options()
    if definition is None:
        return found
    for key in definition.option_keys():
        found.add(key, presenters.display(key, definition))
    return found


def motions() -> Options:
    found = Options()
    for key, label in presenters.motion_choices():
        found.add(key, label)
    return found


def booleans() -> Options:
    found = Options()
    found.add("true", "Yes")
    found.add("false", "No")
    return found
