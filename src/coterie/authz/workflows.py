"""Who sees a workflow definition: the one rule every read of a workflow filters with.

A company workflow (`program_id` NULL) is seen by its own company only. A program workflow is
seen by whoever sees the program record through the gate: the program's active participants, the
host among them, per user where a company's visibility rules decide.
A company on a record or a plan but not on the program sees nothing of the program's workflow:
not its name, stages or program, nor its moves, approvals and the tasks its steps made. The
workflow module's reads (definitions, a record's workflows, board, approvals, tasks) and the
timeline all build on `visible_condition`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.models.workflow import WorkflowDefinition


def visible_condition(principal: Principal) -> ColumnElement[bool]:
    """A condition on `WorkflowDefinition`: the principal sees the definition."""
    return or_(
        and_(
            WorkflowDefinition.program_id.is_(None),
            WorkflowDefinition.company_id == principal.company_id,
        ),
        WorkflowDefinition.program_id.in_(gate.visible_ids(principal, "program")),
    )


def visible_ids(principal: Principal) -> Select[uuid.UUID]:
    """Ids of the workflow definitions the principal sees (a subquery for other statements)."""
    return (
        select(WorkflowDefinition.id)
        .where(visible_condition(principal))
        .execution_options(**rls.as_company(principal.company_id))
    )
