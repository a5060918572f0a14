"""What the network announces, for the packages above it to react to (`kit.hooks`).

- `company_created`: a company signed up with its first admin; both are flushed, nothing is
  committed. `coterie.workflows` gives it the standard pipeline workflow (when the settings
  say so), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

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
