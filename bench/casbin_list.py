"""The approach people would pick instead of a compiled gate: a general-purpose Python
authorization library (Casbin, `pycasbin`) checking each candidate row, filtering the same first
list page of 50 opportunities, against Coterie's `gate.visible_ids` page.

What the Casbin side models: the rule "a company sees a record when it is an active participant"
(field masking by share policy is left out: the Casbin arm only decides which rows are listed,
so it does strictly less work than the gate's page, which is the same ids query as
`list.ids.first`). It is written the way Casbin's documentation writes attribute-based access
control ("ABAC with policy rules"): one policy line holding the rule, evaluated by the matcher
against the request's subject (the viewer's company) and object (the row's attributes):

    [matchers] m = eval(p.sub_rule) && r.act == p.act
    policy:    p, r.sub.company in r.obj.active, read

The developer's loop: read candidate opportunities in id order, a batch of 500 at a time with
their participants (two queries a batch, no authorization in SQL), build each row's attributes,
`enforce` per row, and stop at 50 allowed rows. A viewer that sees few records scans far (the
small viewer sees 200 of 1M: about a quarter of the table for one page); a scan stops at the
scale's `casbin_scan_cap` rows at most, and the figure says whether the cap was hit.

The other common form, one policy line per (company, record) read grant (an ACL, `p, company,
record, read`), makes each check walk every loaded line (Casbin does not index policies): the
figure's details give the cost of one such check with the viewer's own grants loaded, for
comparison.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import casbin  # type: ignore[import-untyped]
from casbin.model import Model  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench import timing
from bench.dataset import KIND
from bench.figure import Figure, Viewer, principal_of
from coterie.authz import gate
from coterie.authz.guard import UNSAFE
from coterie.models import Participant, Record, RecordAccess
from coterie.records.kinds import ParticipantStatus

if TYPE_CHECKING:
    from bench.suite import Suite

PAGE = 50
BATCH = 500
ACL_CHECKS = 5

ABAC_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub_rule, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = eval(p.sub_rule) && r.act == p.act
"""
ABAC_POLICY = ("r.sub.company in r.obj.active", "read")

ACL_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && r.obj == p.obj && r.act == p.act
"""


@dataclass(frozen=True)
class Subject:
    company: str


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    owner: str
    active: frozenset[str]


def enforcer(model_text: str) -> casbin.Enforcer:
    model = Model()
    model.load_model_from_text(model_text)
    return casbin.Enforcer(model)


def abac_enforcer() -> casbin.Enforcer:
    checker = enforcer(ABAC_MODEL)
    checker.add_policy(*ABAC_POLICY)
    return checker


@dataclass
class Scan:
    allowed: list[uuid.UUID]
    scanned: int
    capped: bool


def casbin_page(session: Session, checker: casbin.Enforcer, company: uuid.UUID, cap: int) -> Scan:
    """The first page of 50 opportunities Casbin allows `company` to read, in id order."""
    subject = Subject(str(company))
    allowed: list[uuid.UUID] = []
    scanned = 0
    after: uuid.UUID | None = None
    while len(allowed) < PAGE and scanned < cap:
        statement = select(Record.id, Record.owner_company_id).where(Record.kind == KIND)
        if after is not None:
            statement = statement.where(Record.id > after)
        batch = session.execute(
            statement.order_by(Record.id)
            .limit(min(BATCH, cap - scanned))
            .execution_options(**UNSAFE)
        ).all()
        if not batch:
            break
        ids = [row.id for row in batch]
        active: dict[uuid.UUID, set[str]] = {i: set() for i in ids}
        for record_id, company_id, status in session.execute(
            select(Participant.record_id, Participant.company_id, Participant.status)
            .where(Participant.record_id.in_(ids))
            .execution_options(**UNSAFE)
        ):
            if status == ParticipantStatus.ACTIVE.value:
                active[record_id].add(str(company_id))
        for row in batch:
            scanned += 1
            obj = Row(row.id, str(row.owner_company_id), frozenset(active[row.id]))
            if checker.enforce(subject, obj, "read"):
                allowed.append(row.id)
                if len(allowed) == PAGE:
                    break
        after = ids[-1]
    return Scan(allowed, scanned, scanned >= cap and len(allowed) < PAGE)


def _acl_check_seconds(session: Session, viewer: Viewer, probe: uuid.UUID) -> tuple[int, float]:
    """(policy lines, seconds per check) of the ACL form with the viewer's read grants loaded,
    checking a record it may not read (the worst case: every line is compared)."""
    company = str(viewer.company_id)
    lines = [
        (company, str(record_id), "read")
        for record_id in session.scalars(
            select(RecordAccess.record_id)
            .where(RecordAccess.company_id == viewer.company_id, RecordAccess.kind == KIND)
            .execution_options(**UNSAFE)
        )
    ]
    checker = enforcer(ACL_MODEL)
    checker.add_policies(lines)
    started = time.perf_counter()
    for _ in range(ACL_CHECKS):
        checker.enforce(company, str(probe), "read")
    return len(lines), (time.perf_counter() - started) / ACL_CHECKS


def casbin_list(suite: Suite, viewer: Viewer) -> None:
    principal = principal_of(viewer)
    checker = abac_enforcer()
    cap = suite.scale.casbin_scan_cap
    scans: list[Scan] = []

    def gate_page(session: Session) -> list[uuid.UUID]:
        return list(
            session.scalars(
                gate.visible_ids(principal, KIND).order_by(RecordAccess.record_id).limit(PAGE)
            )
        )

    def with_casbin(session: Session, _i: int, _c: Any) -> None:
        scans.append(casbin_page(session, checker, viewer.company_id, cap))

    def with_gate(session: Session, _i: int, _c: Any) -> None:
        if len(gate_page(session)) != PAGE:
            raise AssertionError("the gate returned less than a page")

    measured = timing.paired(
        suite.factory,
        with_casbin,
        with_gate,
        repetitions=suite.scale.casbin_repetitions,
        warmup=1,
    )
    scan = scans[-1]
    with suite.factory() as session:
        expected = gate_page(session)
        probe = session.scalars(
            select(Record.id)
            .where(Record.kind == KIND, Record.id.not_in(expected))
            .order_by(Record.id)
            .limit(1)
            .execution_options(**UNSAFE)
        ).one()
        acl_lines, acl_seconds = _acl_check_seconds(session, viewer, probe)
    same = scan.allowed == expected[: len(scan.allowed)]
    if not same:
        raise AssertionError("Casbin allowed other records than the gate lists")
    enforce_calls = scan.scanned
    figure = Figure(
        key=f"casbin.list.{viewer.name}",
        group="casbin",
        label=(
            f"Casbin per-row checks, first list page of {PAGE} ({viewer.name} viewer, "
            f"{scan.scanned:,} rows scanned{', CAPPED' if scan.capped else ''})"
        ),
        subject=measured.subject,
        baseline_label="Coterie gate.visible_ids page",
        baseline=measured.baseline,
        target="gate faster (ratio > 1x)",
        unit="ms",
        details={
            "visible": viewer.visible,
            "model": "ABAC, one rule: r.sub.company in r.obj.active (rows' active participants)",
            "rows_scanned": scan.scanned,
            "enforce_calls": enforce_calls,
            "rows_allowed": len(scan.allowed),
            "scan_cap": cap,
            "capped": scan.capped,
            "same_page_as_gate": same and len(scan.allowed) == PAGE,
            "per_enforce_us": measured.subject.median / max(1, enforce_calls) * 1e6,
            "acl_policy_lines": acl_lines,
            "acl_check_ms": acl_seconds * 1e3,
        },
    )
    figure.passed = figure.ratio > 1.0
    suite.add(figure)
