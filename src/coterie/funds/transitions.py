"""State changes of requests and claims, each one UPDATE that claims its row: `WHERE id = :id
AND version = :expected AND status IN (...)` (and any further condition), whose row count
decides. The loser gets 412 when the row moved to another version, else 409 naming the status
the row is in; it has written nothing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from coterie.authz import rls
from coterie.authz.principal import Principal
from coterie.funds import access
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict
from coterie.models.funds import FundClaim, FundRequest

Row = FundRequest | FundClaim

STATUS_WORDS = {
    "draft": "a draft",
    "submitted": "submitted",
    "more_info": "waiting for more information",
    "approved": "approved",
    "rejected": "rejected",
    "paid": "paid",
}


def move(
    session: Session,
    principal: Principal,
    row: Row,
    expected_version: int,
    from_statuses: Collection[str],
    values: Mapping[str, Any],
    *,
    what: str,
    also: Collection[ColumnElement[bool]] = (),
) -> None:
    """Make the transition or raise its refusal; `row` shows the stored values afterwards."""
    model = type(row)
    table = access.table(model)
    done = session.execute(
        update(table)
        .where(
            table.c.id == row.id,
            table.c.version == expected_version,
            table.c.status.in_(list(from_statuses)),
            *also,
        )
        .values({**values, "version": expected_version + 1})
        .execution_options(**rls.as_company(principal.company_id))
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise refusal(session, principal, row, expected_version, from_statuses, what)
    access.reload(session, principal, row)


def refusal(
    session: Session,
    principal: Principal,
    row: Row,
    expected_version: int,
    from_statuses: Collection[str],
    what: str,
) -> Problem:
    access.reload(session, principal, row)
    if row.version != expected_version:
        return conditional.stale(what, row.version, expected_version)
    if row.status not in from_statuses:
        return conflict(
            "wrong-status", f"The {what} is {STATUS_WORDS.get(row.status, row.status)}."
        )
    return conflict("refused", f"The {what} cannot make that change now.")
