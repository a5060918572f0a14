"""The Coterie fields a connection's mapping may name for one record kind, with their labels:
what the mapping editor offers and what a saved mapping is checked against.

- the shared core (`record.*`; an account has no account of its own);
- every field of my company's template for the kind (`space.<key>`), with its options (the
  stage's are my company's pipeline stages);
- each active partner's fields that partner shares with my company now
  (`partner.<company>.<key>`), grouped "Partner: <name>". A partner's private field is not
  offered and is refused if named: it never reaches my CRM.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import fields as field_shares
from coterie.authz.partners import partner_ids
from coterie.fields import templates
from coterie.fields.definitions import FieldDefinition
from coterie.network.companies import names as company_names
from coterie.sync.mapping import CORE_FIELDS
from coterie.workflows.stages import stages_for

CORE_GROUP = "Shared record"
OWN_GROUP = "Our fields"


@dataclass(frozen=True)
class LocalField:
    ref: str
    label: str
    group: str
    type: str
    options: tuple[tuple[str, str], ...] = ()  # (value, label) of an enum or the stage
    partner: bool = False


def _options(
    session: Session, company_id: uuid.UUID, kind: str, definition: FieldDefinition
) -> tuple[tuple[str, str], ...]:
    if definition.key == "stage":
        return tuple((s.key, s.name) for s in stages_for(session, company_id, kind))
    if definition.options:
        return tuple((o.key, o.label) for o in definition.options)
    return tuple((key, key.replace("_", " ").capitalize()) for key in definition.option_keys())


def _type(definition: FieldDefinition) -> str:
    return definition.type.value if definition.type is not None else "text"


def catalog(session: Session, actor: Actor, kind: str) -> list[LocalField]:
    """Every field a mapping of `kind` may name for the actor's company, in display order."""
    found = [
        LocalField(ref, label, CORE_GROUP, "reference" if ref == "record.account" else "text")
        for ref, label in CORE_FIELDS.items()
        if not (kind == "account" and ref == "record.account")
    ]
    mine = templates.load(session, actor.company_id, kind)
    found += [
        LocalField(
            f"space.{d.key}",
            d.label or d.key,
            OWN_GROUP,
            _type(d),
            _options(session, actor.company_id, kind, d),
        )
        for d in mine.fields
    ]
    partners = partner_ids(session, actor.company_id)
    shared = {
        owner: keys
        for owner, keys in field_shares.shares_with(session, actor.principal, kind).items()
        if owner in partners
    }
    names = company_names(session, shared)
    for owner in sorted(shared, key=lambda company: names.get(company, "").lower()):
        template = templates.load(session, owner, kind)
        group = f"Partner: {names.get(owner, 'a partner')}"
        for definition in template.fields:
            if definition.key not in shared[owner]:
                continue
            found.append(
                LocalField(
                    f"partner.{owner}.{definition.key}",
                    definition.label or definition.key,
                    group,
                    _type(definition),
                    _options(session, owner, kind, definition),
                    partner=True,
                )
            )
    return found


def by_ref(fields: list[LocalField]) -> dict[str, LocalField]:
    return {f.ref: f for f in fields}
