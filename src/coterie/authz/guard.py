"""Fail closed: a SELECT on a protected table that did not come through the gate raises.

The gate marks its statements with the execution option `coterie_gate`; migrations and admin
tooling use `unsafe_select()` / `UNSAFE`, named so that every use stands out in review.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Table, TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql import visitors

PROTECTED_TABLES = frozenset(
    {
        # the shared-record core
        "records",
        "record_participants",
        "record_spaces",
        "record_access",
        "search_entries",
        # what hangs off a record (co-selling, workflows, activity): read after the gate
        "program_details",
        "plan_details",
        "plan_records",
        "record_links",
        "plan_goals",
        "account_plans",
        "record_workflows",
        "workflow_moves",
        "workflow_approvals",
        "record_tasks",
        "lead_decisions",
        "deal_registrations",
        "comments",
        "comment_mentions",
        "record_changes",
        "ideas",
        "idea_endorsements",
        "program_idea_settings",
        "attachments",
        # marketing development funds: read only through `coterie.funds.access`, as a company
        "fund_budgets",
        "fund_allocations",
        "fund_requests",
        "fund_claims",
        "fund_notes",
    }
)
GATE = {"coterie_gate": True}
UNSAFE = {"coterie_unsafe": True}


class UnguardedReadError(RuntimeError):
    """A query read shared-record tables without going through `coterie.authz`."""


def _protected_tables_in(statement: Any) -> set[str]:
    return {
        element.name
        for element in visitors.iterate(statement)
        if isinstance(element, Table) and element.name in PROTECTED_TABLES
    }


_RAW_SQL_NAMES = re.compile(r"\b(" + "|".join(sorted(PROTECTED_TABLES)) + r")\b", re.IGNORECASE)


def _check(state: ORMExecuteState) -> None:
    options = state.execution_options
    if options.get("coterie_gate") or options.get("coterie_unsafe"):
        return
    statement = state.statement
    if isinstance(statement, TextClause):
        touched = set(_RAW_SQL_NAMES.findall(statement.text))
    elif state.is_select:
        touched = _protected_tables_in(statement)
    else:
        return
    if touched:
        raise UnguardedReadError(
            f"SELECT on {', '.join(sorted(touched))} outside coterie.authz: read shared records "
            "through authz.gate (or mark admin tooling with authz.guard.UNSAFE)."
        )


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "do_orm_execute", _check)
