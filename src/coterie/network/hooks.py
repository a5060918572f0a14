"""What the network announces, for the packages above it to react to (`kit.hooks`).

`network` never imports its subscribers; they subscribe at start-up (`coterie.wiring.install`).

- `company_created`: a company signed up with its first admin; both are flushed, nothing is
  committed. `coterie.workflows` gives it the standard pipeline workflow (when the settings
  say so), in the same transaction.
- `partnership_notice`: these users are to be told about a partnership (an invitation to their
  company, or the answer to their company's invitation); `coterie.activity` tells them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.kit.hooks import Hook
from coterie.models import Company, User


@dataclass(frozen=True)
class CompanyCreated:
    session: Session
    settings: Settings
    company: Company
    admin: User


company_created: Hook[CompanyCreated] = Hook("network.company_created")


@dataclass(frozen=True)
class PartnershipNotice:
    session: Session
    actor: Actor
    user_ids: Sequence[uuid.UUID]
    event: str  # partnership_invitation | partnership_accepted | partnership_declined
    partnership_id: uuid.UUID
    settings: Settings | None = None  # the links' base URL (default: the process settings)


partnership_notice: Hook[PartnershipNotice] = Hook("network.partnership_notice")
