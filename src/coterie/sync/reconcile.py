"""Reconciling one linked record with its CRM counterpart: the three-way merge of every mapped
field, Coterie written where the CRM's value wins, conflicts recorded, shadows saved. What the
CRM must receive is left to the push (`coterie.sync.push`), queued through the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.models.sync import SyncConflict, SyncLink
from coterie.sync import links, localview
from coterie.sync.connectors.base import RemoteRecord
from coterie.sync.mapping import FieldMap, canonical
from coterie.sync.merge import Outcome, Shadow, merge
from coterie.sync.queueing import set_origin


@dataclass(frozen=True)
class Reconciled:
    written: list[str]  # Coterie field refs written from the CRM
    conflicts: int
    push: bool  # Coterie holds values the CRM has not received


def reconcile(
    session: Session,
    actor: Actor,
    connection_id: uuid.UUID,
    link: SyncLink,
    fields: list[FieldMap],
    local: localview.LocalRecord,
    remote: RemoteRecord,
) -> Reconciled:
    base = links.shadows(session, link.id)
    into: dict[str, Any] = {}
    shadows: dict[str, Shadow] = {}
    push = False
    conflicts = 0
    for field in fields:
        if field.remote not in remote.values:
            continue  # not read (a field removed from the CRM's schema is reported elsewhere)
        outcome = merge(
            field, base.get(field.local), local.values.get(field.local), _value(remote, field)
        )
        written_here = outcome.into_coterie
        if written_here is not None and field.is_core and not local.owned:
            # only the owner company edits the shared core: keep ours, note the CRM's value
            outcome = Outcome(
                None, False, Shadow(local.values.get(field.local), outcome.shadow.remote)
            )
        elif written_here is not None:
            into[field.local] = written_here[0]
        push = push or outcome.push
        shadows[field.local] = outcome.shadow
        if outcome.conflict is not None:
            conflicts += 1
            session.add(
                SyncConflict(
                    connection_id=connection_id,
                    link_id=link.id,
                    record_id=local.record.id,
                    kind=local.record.kind,
                    field=field.local,
                    base_value=outcome.conflict.base,
                    coterie_value=outcome.conflict.coterie,
                    crm_value=outcome.conflict.crm,
                    winner=outcome.conflict.winner.value,
                )
            )
    written: list[str] = []
    if into:
        set_origin(session, connection_id)
        try:
            written = localview.write(session, actor, connection_id, local, into)
        finally:
            set_origin(session, None)
    links.save_shadows(session, link.id, shadows, remote.version)
    return Reconciled(written, conflicts, push)


def _value(remote: RemoteRecord, field: FieldMap) -> Any:
    return canonical(remote.values.get(field.remote))
