"""The principal a read or write of shared records runs as: a user of a company, never "system"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from coterie.auth.preferences import read as read_preferences
from coterie.auth.principal import Actor

COMPANY_WIDE = uuid.UUID(int=0)  # the grant principal meaning "every member of the company"


@dataclass(frozen=True)
class Principal:
    company_id: uuid.UUID
    user_id: uuid.UUID
    hide_private: bool

    @property
    def access_key(self) -> uuid.UUID:
        """Which grant rows this principal reads (per-user rows arrive with internal rules)."""
        return COMPANY_WIDE

    @classmethod
    def of(cls, actor: Actor) -> Principal:
        return cls(
            company_id=actor.company_id,
            user_id=actor.user_id,
            hide_private=read_preferences(actor.user.preferences).hide_private_fields,
        )
