"""Proof of performance: a fund claim's files, through `coterie.attachments`.

Registers the subject kind "fund_claim" (`coterie.attachments.subjects`) and installs the proof
counter (`funds.proof`), both from `coterie.wiring.install`:

- A claim's files are read by whoever may read the claim (`access.claim`): the requesting
  company and the funding company, nobody else (another partner of the same program or budget
  gets 404 for the files' metadata and content alike).
- They are attached by the requesting company while the claim is a draft or waiting for more
  information (403 for the funder, 409 once the claim was submitted).
- The files hang on the budget's program record (`Subject.record_kind` / `record_id`): both
  companies take part in it, and the attachments table's gate filter and row-level security
  key on it before the claim's own check runs.
- Submitting a claim counts its files as the submitting company reads them: none is 422 on
  `proof`.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.orm import Session

from coterie.attachments import service, subjects
from coterie.attachments.subjects import Subject, SubjectKind
from coterie.auth.principal import Actor
from coterie.authz.principal import Principal
from coterie.fields.kinds import Kind
from coterie.funds import access, proof
from coterie.funds.schemas import ClaimStatus
from coterie.kit.problems import Problem, conflict, forbidden
from coterie.models.attachment import Attachment
from coterie.models.funds import FundBudget, FundClaim

KIND = proof.SUBJECT_KIND
# the routes that take a proof file (API and request page): they take a body up to the file
# limit (`coterie.app` gives them `attachments.api.upload_body_limit`, like record uploads)
UPLOAD_PATH = re.compile(r"(/api/v1)?/funds/claims/[0-9A-Fa-f-]{32,36}/proof")
OPEN = (ClaimStatus.DRAFT.value, ClaimStatus.MORE_INFO.value)


def _subject(session: Session, principal: Principal, claim: FundClaim) -> Subject:
    request = access.request(session, principal, claim.request_id)
    budget = session.scalars(
        access.budgets(principal).where(FundBudget.id == request.budget_id)
    ).one()
    return Subject(KIND, claim.id, Kind.PROGRAM.value, budget.program_id)


def readable(session: Session, principal: Principal, claim_id: uuid.UUID) -> Subject | None:
    """The claim as a subject if the principal's company requested or funds it; else None."""
    try:
        claim = access.claim(session, principal, claim_id)
        return _subject(session, principal, claim)
    except Problem:
        return None


def attachable(session: Session, actor: Actor, claim_id: uuid.UUID) -> Subject:
    """The requesting company attaches proof while the claim is open (404 hidden, 403, 409)."""
    claim = access.claim(session, actor.principal, claim_id)
    if claim.requester_company_id != actor.company_id:
        raise forbidden("Only the company that made the claim attaches its proof.")
    if claim.status not in OPEN:
        raise conflict(
            "claim-not-open",
            "Proof is attached while the claim is a draft or waiting for more information.",
        )
    return _subject(session, actor.principal, claim)


def files_of(
    session: Session, principal: Principal, claim_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Attachment]]:
    """The proof files of claims the principal may read, by claim id (others are left out)."""
    readable_subjects = [
        s for s in (readable(session, principal, cid) for cid in claim_ids) if s is not None
    ]
    return service.for_subjects(session, principal, readable_subjects)


def count(session: Session, principal: Principal, claim_id: uuid.UUID) -> int:
    """How many proof files of the claim the principal reads (0 when it may not see it)."""
    return len(files_of(session, principal, [claim_id]).get(claim_id, []))


def install() -> None:
    subjects.register(SubjectKind(KIND, "fund claim", readable, attachable))
    proof.install(count)
