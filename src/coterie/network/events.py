"""What the network announces for the packages above it (`coterie.activity` tells people).

`network` never imports its subscribers; `coterie.activity.subscriptions` subscribes at start-up
(`coterie.wiring.install`). `partnership_notice`: these users are to be told about a partnership
(an invitation to their company, or the answer to their company's invitation).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.kit.hooks import Hook


@dataclass(frozen=True)
class PartnershipNotice:
    session: Session
    actor: Actor
    user_ids: Sequence[uuid.UUID]
    event: str  # partnership_invitation | partnership_accepted | partnership_declined
    partnership_id: uuid.UUID
    settings: Settings | None = None  # the links' base URL (default: the process settings)


partnership_notice: Hook[PartnershipNotice] = Hook("network.partnership_notice")
