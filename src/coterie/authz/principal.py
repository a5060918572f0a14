"""The principal a read or write of shared records runs as: a user of a company, never "system"."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.kit import txcache
from coterie.models import AccessRule

COMPANY_WIDE = uuid.UUID(int=0)  # the grant principal meaning "every member of the company"
VISIBILITY = "visibility"
AUTO_SHARE = "auto_share"


txcache.register("access_rules", AccessRule)


def company_rules(session: Session, company_id: uuid.UUID) -> tuple[AccessRule, ...]:
    """The company's enabled access rules, oldest first (read once per transaction)."""
    cached = txcache.cache(session, "access_rules")
    found: tuple[AccessRule, ...] | None = cached.get(company_id)
    if found is None:
        found = tuple(
            session.scalars(
                select(AccessRule)
                .where(AccessRule.company_id == company_id, AccessRule.enabled.is_(True))
                .order_by(AccessRule.created_at, AccessRule.id)
            )
        )
        cached[company_id] = found
    return found


def read_rules(session: Session, company_ids: Iterable[uuid.UUID]) -> None:
    """Read the enabled access rules of several companies in one statement, for `company_rules`
    to answer from for the rest of the transaction (companies already read are skipped)."""
    cached = txcache.cache(session, "access_rules")
    missing = {c for c in company_ids if c not in cached}
    if not missing:
        return
    found: dict[uuid.UUID, list[AccessRule]] = {c: [] for c in missing}
    for rule in session.scalars(
        select(AccessRule)
        .where(AccessRule.company_id.in_(missing), AccessRule.enabled.is_(True))
        .order_by(AccessRule.created_at, AccessRule.id)
    ):
        found[rule.company_id].append(rule)
    for company_id, rules in found.items():
        cached[company_id] = tuple(rules)


def note_no_rules(session: Session, company_id: uuid.UUID) -> None:
    """Record that the company has no enabled access rule, as a statement of this transaction
    just read (spares `company_rules` its query for the rest of the transaction)."""
    txcache.cache(session, "access_rules").setdefault(company_id, ())


def has_rules(session: Session, company_id: uuid.UUID, kind: str, type_: str) -> bool:
    return any(r.kind == kind and r.type == type_ for r in company_rules(session, company_id))


def per_user_kinds(session: Session, company_id: uuid.UUID) -> frozenset[str]:
    """Kinds for which the company's visibility rules decide per user who sees what."""
    return frozenset(r.kind for r in company_rules(session, company_id) if r.type == VISIBILITY)


@dataclass(frozen=True)
class Principal:
    """Who a read or write runs as. Built from a user by `auth.principal.principal_of` (the
    caller's once per request, as `Actor.principal`); tests and tooling may build one directly."""

    company_id: uuid.UUID
    user_id: uuid.UUID
    hide_private: bool
    is_admin: bool = False
    per_user: frozenset[str] = frozenset()

    def access_key(self, kind: str) -> uuid.UUID:
        """Which grant rows this principal reads for `kind`: the company-wide ones, or its own
        where the company's visibility rules decide per user (admins always see everything)."""
        if kind in self.per_user and not self.is_admin:
            return self.user_id
        return COMPANY_WIDE
