"""Proof of performance: the seam through which a claim's files are counted at submit.

Until a counter is installed no proof is required. `coterie.attachments` (built in parallel)
installs one at start-up that counts the files attached to the subject kind "fund_claim" with
the claim's id, read as the principal; from then on a claim cannot be submitted without one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.kit.problems import invalid

SUBJECT_KIND = "fund_claim"
ProofCounter = Callable[[Session, Principal, uuid.UUID], int]
_counter: list[ProofCounter] = []


def install(counter: ProofCounter) -> None:
    """Require proof: `counter(session, principal, claim_id)` is the number of proof files."""
    _counter[:] = [counter]


def uninstall() -> None:
    _counter.clear()


def proof_required() -> bool:
    return bool(_counter)


def check(session: Session, principal: Principal, claim_id: uuid.UUID) -> None:
    """422 when proof is required and the claim has no file attached."""
    if _counter and _counter[0](session, principal, claim_id) < 1:
        raise invalid("proof", "attach at least one proof of performance file to the claim first")
