"""Grant maintenance after changes that are not record writes: a company's rules edited, a
partnership ended, a membership changed (team, role, deactivation).

Each runs in the transaction of the change, so a narrowed rule or an ended partnership revokes
at once. Record writes go through `grants.after_write`. `coterie.policies` and
`coterie.network` call down into these; nothing here knows those packages."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.authz import grants, rls, rules
from coterie.authz.principal import per_user_kinds
from coterie.fields.kinds import Kind


@rls.unsafe_system_maintenance
def reapply(
    session: Session,
    company_id: uuid.UUID,
    kind: str,
    acting_user_id: uuid.UUID | None,
    *,
    auto_share: bool = True,
    visibility: bool = True,
) -> None:
    """Re-apply every rule of one company and kind to all its records.

    Auto-share rules invite (no grant yet) or withdraw companies: grants change only where an
    active company was withdrawn, and it loses all its rows there. `visibility=False` when no
    visibility rule changed: the company's own per-user rows stay as they are (auto-share
    rules never change whom the company itself works with); `auto_share=False` likewise."""
    if auto_share:
        changes = rules.apply_auto_share(session, company_id, kind, acting_user_id=acting_user_id)
        if changes.revoked:
            grants.refresh_records(session, sorted(changes.revoked), kind)
    if visibility:
        rules.refresh_visibility(session, company_id, kind)


def reapply_all_kinds(
    session: Session, company_id: uuid.UUID, acting_user_id: uuid.UUID | None
) -> None:
    """Every rule of the company, every kind (e.g. after one of its partnerships ended)."""
    for kind in Kind:
        reapply(session, company_id, kind.value, acting_user_id)


@rls.unsafe_system_maintenance
def reapply_visibility(session: Session, company_id: uuid.UUID) -> None:
    """After membership changes (teams, roles, deactivation): per-user grants of every kind."""
    for kind in per_user_kinds(session, company_id):
        rules.refresh_visibility(session, company_id, kind)
