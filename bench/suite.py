"""The benchmarks of the authorization gate, each against a baseline measured in the same run.

- List page, ids: a `gate.visible_ids` page of 50 (the first, and a deep keyset page), against
  `SELECT id FROM records ORDER BY id LIMIT 50` (same keyset position).
- List page, masked: a `gate.visible` page of 50 records plus `gate.spaces` (masked in SQL),
  against the same page of records and their spaces, unmasked.
- Rule evaluation: `conditions.evaluate` of a parsed, realistic condition, in process, against
  the same predicate written by hand in Python.
- Single check: `gate.check` of one record, against a primary-key read of it.
- Write: `records.service.update_my_space` (grant maintenance, search index, audit row), against
  `UPDATE record_spaces ... WHERE` primary key.
- Rule change: `policies.service.create_rule` of an auto-share rule matching `rule_matches`
  records (validation and the whole re-application), against an `INSERT INTO
  record_participants ... SELECT` of the same records.
- Report: `reports.engine.run_for` grouped by region (count and sum of the own amount, in the
  viewer's currency) over the large viewer's visible records, against the same `GROUP BY` over
  its own spaces written by hand without authorization, masking or conversion.
- Record page and search (`bench.reads`): `records.service.read` against a primary-key read of
  the record and its spaces; `records.search.search` against the same full-text query over
  `search_entries` without authorization.
- Casbin (`bench.casbin_list`): the first list page built by per-row checks with a
  general-purpose authorization library, against the gate's page.
- Export memory (`bench.memory`): peak memory growth of a fresh process exporting the export
  company's records (100k at the large scale), against exporting a tenth of them (bytes).

Baselines read opportunities only (`kind = 'opportunity'`): the data set also holds leads and
joint plans.

Reads run as a member of the viewer company (company-wide grants), with the principal and the
own-field policy resolved once, as a request would have them. Every repetition is one
transaction, rolled back (writes are timed up to their flush; commit is in neither arm).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from bench import casbin_list, memory, reads, timing
from bench.dataset import KIND, STAGES, Landmarks
from bench.figure import Figure as Figure
from bench.figure import Viewer as Viewer
from bench.figure import actor_of as _actor
from bench.figure import principal_of as _principal
from bench.figure import viewers as viewers
from bench.scales import Scale
from bench.timing import Paired, Statement
from coterie.auth.principal import Actor
from coterie.authz import conditions, gate
from coterie.authz.catalog import attributes, catalog
from coterie.authz.gate import OwnFieldPolicy
from coterie.authz.guard import UNSAFE
from coterie.authz.principal import Principal
from coterie.config import Settings
from coterie.models import Participant, Record, RecordAccess, Space
from coterie.policies import service as policies
from coterie.policies.schemas import Grantees, RuleIn
from coterie.records import service as records
from coterie.records import templates
from coterie.records.fields import STANDARD_FIELDS
from coterie.records.kinds import Kind, ParticipantStatus
from coterie.reports import engine as reports
from coterie.reports.schemas import Measure, ReportIn

PAGE = 50
RULE_CONDITION: dict[str, Any] = {
    "all": [
        {"field": "region", "op": "eq", "value": "emea"},
        {"field": "amount", "op": "gte", "value": 1000},
    ]
}
# what a company admin writes: several fields, a nested any, a negation
EVALUATED_CONDITION: dict[str, Any] = {
    "all": [
        {"field": "region", "op": "in", "value": ["emea", "apac", "north-america"]},
        {"field": "amount", "op": "gte", "value": 1000},
        {
            "any": [
                {"field": "stage", "op": "starts_with", "value": "pro"},
                {"field": "forecast_category", "op": "in", "value": ["commit", "best_case"]},
                {"field": "close_date", "op": "lt", "value": "2027-01-01"},
            ]
        },
        {"not": {"field": "motion", "op": "eq", "value": "referral"}},
    ]
}


ServerTime = Callable[[Session, list[Statement]], float] | None


class Suite:
    """Runs every benchmark against one prepared data set."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        scale: Scale,
        landmarks: Landmarks,
        *,
        server_time: ServerTime = None,
        on_figure: Callable[[Figure], None] | None = None,
    ) -> None:
        self.factory = factory
        self.scale = scale
        self.landmarks = landmarks
        self.server_time = server_time
        self.on_figure = on_figure
        self.figures: list[Figure] = []

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        if self.on_figure is not None:
            self.on_figure(figure)

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        steps: list[tuple[str, Callable[[], None]]] = []
        for viewer in viewers(self.landmarks):
            steps.append((f"list pages, {viewer.name} viewer", self._bind_list(viewer)))
        steps.append(("rule evaluation", self.evaluation))
        steps.append(("single check", self.single_check))
        for viewer in viewers(self.landmarks):
            steps.append((f"write, {viewer.name} viewer", self._bind_write(viewer)))
        steps.append(("auto-share rule change", self.rule_change))
        steps.append(("grouped report, large viewer", self.report))
        for viewer in viewers(self.landmarks):
            steps.append(
                (f"record page, {viewer.name} viewer", self._bind(reads.record_page, viewer))
            )
        for viewer in viewers(self.landmarks):
            steps.append((f"search, {viewer.name} viewer", self._bind(reads.search, viewer)))
        for viewer in viewers(self.landmarks):
            steps.append(
                (f"casbin list, {viewer.name} viewer", self._bind(casbin_list.casbin_list, viewer))
            )
        steps.append(("export memory", lambda: memory.export_memory(self)))
        return steps

    def _bind(self, step: Callable[[Suite, Viewer], None], viewer: Viewer) -> Callable[[], None]:
        return lambda: step(self, viewer)

    def _bind_list(self, viewer: Viewer) -> Callable[[], None]:
        return lambda: self.list_pages(viewer)

    def _bind_write(self, viewer: Viewer) -> Callable[[], None]:
        return lambda: self.write(viewer)

    def sql_details(self, measured: Paired, *, explain: bool) -> dict[str, Any]:
        """How many statements each arm sends, and (PostgreSQL, reads) the server's own time to
        run them: EXPLAIN ANALYZE of each SELECT, what the design's reference figures measure."""
        details: dict[str, Any] = {
            "statements": len(measured.subject_sql),
            "baseline_statements": len(measured.baseline_sql),
            # what each statement is (its first 100 characters), to see where the time goes
            "sent": [" ".join(sql.split())[:100] for sql, _ in measured.subject_sql],
        }
        if explain and self.server_time is not None:
            with self.factory() as session:
                details["server_ms"] = self.server_time(session, measured.subject_sql) * 1000
                details["baseline_server_ms"] = (
                    self.server_time(session, measured.baseline_sql) * 1000
                )
        return details

    # --- list pages ------------------------------------------------------------------------------

    def list_pages(self, viewer: Viewer) -> None:
        principal = _principal(viewer)
        with self.factory() as session:
            own = templates.load(session, viewer.company_id, KIND).own_policy(False)
            depth = max(0, min(int(viewer.visible * 0.9), viewer.visible - PAGE - 1))
            deep_after = session.scalars(
                gate.visible_ids(principal, KIND)
                .order_by(RecordAccess.record_id)
                .offset(depth)
                .limit(1)
            ).one()
        for page, after in (("first", None), ("deep", deep_after)):
            where = "page 1" if after is None else f"keyset page after row {depth:,}"
            self._list_ids(viewer, principal, page, after, where)
            self._list_masked(viewer, principal, own, page, after, where)

    def _list_ids(
        self,
        viewer: Viewer,
        principal: Principal,
        page: str,
        after: uuid.UUID | None,
        where: str,
    ) -> None:
        def gated_statement() -> Select[Any]:
            statement = gate.visible_ids(principal, KIND).order_by(RecordAccess.record_id)
            if after is not None:
                statement = statement.where(RecordAccess.record_id > after)
            return statement.limit(PAGE)

        def plain_statement() -> Select[Any]:
            statement = (
                select(Record.id)
                .where(Record.kind == KIND)
                .order_by(Record.id)
                .execution_options(**UNSAFE)
            )
            if after is not None:
                statement = statement.where(Record.id > after)
            return statement.limit(PAGE)

        def gated(session: Session, _i: int, _c: Any) -> None:
            ids = session.scalars(gated_statement()).all()
            if len(ids) != PAGE:
                raise AssertionError(f"the gate returned {len(ids)} ids, not a page of {PAGE}")

        def plain(session: Session, _i: int, _c: Any) -> None:
            session.scalars(plain_statement()).all()

        measured = timing.paired(
            self.factory, gated, plain, repetitions=self.scale.list_repetitions
        )
        details = {
            "visible": viewer.visible,
            "page": where,
            **self.sql_details(measured, explain=True),
        }
        self._list_figure(viewer, page, "ids", measured, details)

    def _list_masked(
        self,
        viewer: Viewer,
        principal: Principal,
        own: OwnFieldPolicy,
        page: str,
        after: uuid.UUID | None,
        where: str,
    ) -> None:
        standard = [getattr(Space, f.column) for k, f in STANDARD_FIELDS.items() if k != "currency"]
        space_columns = [Space.record_id, Space.company_id, Space.version, *standard]

        def gated(session: Session, _i: int, _c: Any) -> None:
            statement = gate.visible(principal, KIND).order_by(RecordAccess.record_id)
            if after is not None:
                statement = statement.where(RecordAccess.record_id > after)
            page_records = session.scalars(statement.limit(PAGE)).all()
            ids = [r.id for r in page_records]
            gate.spaces(session, principal, KIND, ids, own)

        def plain(session: Session, _i: int, _c: Any) -> None:
            statement = (
                select(Record).where(Record.kind == KIND).order_by(Record.id)
            ).execution_options(**UNSAFE)
            if after is not None:
                statement = statement.where(Record.id > after)
            page_records = session.scalars(statement.limit(PAGE)).all()
            ids = [r.id for r in page_records]
            session.execute(
                select(*space_columns, Space.currency, Space.custom)
                .where(Space.record_id.in_(ids))
                .order_by(Space.record_id, Space.company_id)
                .execution_options(**UNSAFE)
            ).all()

        measured = timing.paired(
            self.factory, gated, plain, repetitions=self.scale.list_repetitions
        )
        details = {
            "visible": viewer.visible,
            "page": where,
            **self.sql_details(measured, explain=True),
        }
        self._list_figure(viewer, page, "masked", measured, details)

    def _list_figure(
        self,
        viewer: Viewer,
        page: str,
        variant: str,
        measured: Paired,
        details: dict[str, Any],
    ) -> None:
        what = "ids only" if variant == "ids" else "records + masked spaces"
        label = (
            f"List {page} page of {PAGE}, {what} ({viewer.name} viewer, {viewer.visible:,} visible)"
        )
        plain = "plain SELECT ids" if variant == "ids" else "plain records + unmasked spaces"
        figure = Figure(
            key=f"list.{variant}.{page}.{viewer.name}",
            group="list page",
            label=label,
            subject=measured.subject,
            baseline_label=plain,
            baseline=measured.baseline,
            target="<= 2x baseline",
            unit="ms",
            details=details,
        )
        figure.passed = figure.ratio <= 2.0
        self.add(figure)

    # --- single check ----------------------------------------------------------------------------

    def evaluation(self) -> None:
        large = viewers(self.landmarks)[1]
        with self.factory() as session:
            template = templates.load(session, large.company_id, KIND)
            condition = conditions.parse(EVALUATED_CONDITION, catalog(template))
            record_id = session.scalars(
                gate.visible_ids(_principal(large), KIND).order_by(RecordAccess.record_id).limit(1)
            ).one()
            record = gate.check(session, _principal(large), KIND, record_id)
            space = session.scalars(
                select(Space)
                .where(Space.record_id == record_id, Space.company_id == large.company_id)
                .execution_options(**UNSAFE)
            ).one()
            attrs = attributes(record, space, template)
        regions = ("emea", "apac", "north-america")
        due = datetime(2027, 1, 1, tzinfo=UTC).date()

        def by_hand() -> bool:
            amount = attrs["amount"]
            stage = attrs["stage"]
            return (
                attrs["region"] in regions
                and amount is not None
                and amount >= 1000
                and (
                    (stage is not None and stage.lower().startswith("pro"))
                    or attrs["forecast_category"] in ("commit", "best_case")
                    or (attrs["close_date"] is not None and attrs["close_date"] < due)
                )
                and attrs["motion"] != "referral"
            )

        def evaluated() -> bool:
            return conditions.evaluate(condition, attrs)

        if evaluated() != by_hand():
            raise AssertionError("the hand-written predicate disagrees with conditions.evaluate")
        loops = self.scale.evaluate_loops
        subject = timing.loop(evaluated, loops=loops)
        baseline = timing.loop(by_hand, loops=loops)
        figure = Figure(
            key="check.evaluate",
            group="single check",
            label="Rule evaluation in process (conditions.evaluate, 7 leaves)",
            subject=subject,
            baseline_label="same predicate by hand",
            baseline=baseline,
            target="< 5 us",
            unit="us",
            details={"loops": loops, "result": evaluated(), "condition": EVALUATED_CONDITION},
        )
        figure.passed = subject.median < 5e-6
        self.add(figure)

    def single_check(self) -> None:
        large = viewers(self.landmarks)[1]
        principal = _principal(large)
        with self.factory() as session:
            ids = list(
                session.scalars(gate.visible_ids(principal, KIND).order_by(RecordAccess.record_id))
            )
        sample = ids[:: max(1, len(ids) // 200)]

        def gated(session: Session, i: int, _c: Any) -> None:
            gate.check(session, principal, KIND, sample[i % len(sample)])

        def plain(session: Session, i: int, _c: Any) -> None:
            statement = select(Record).where(Record.id == sample[i % len(sample)])
            session.scalars(statement.execution_options(**UNSAFE)).one()

        measured = timing.paired(
            self.factory, gated, plain, repetitions=self.scale.check_repetitions
        )
        subject, baseline = measured.subject, measured.baseline
        figure = Figure(
            key="check.database",
            group="single check",
            label="Database check of one record (gate.check)",
            subject=subject,
            baseline_label="primary-key read",
            baseline=baseline,
            target="< 1 ms",
            unit="ms",
            details={"records": len(sample), **self.sql_details(measured, explain=True)},
        )
        figure.passed = subject.median < 1e-3
        self.add(figure)

    # --- write -----------------------------------------------------------------------------------

    def write(self, viewer: Viewer) -> None:
        with self.factory() as session:
            partners = (
                select(Participant.record_id)
                .where(
                    Participant.record_id == Record.id,
                    Participant.company_id != viewer.company_id,
                    Participant.status == ParticipantStatus.ACTIVE.value,
                )
                .exists()
            )
            targets = list(
                session.scalars(
                    select(Record.id)
                    .where(
                        Record.owner_company_id == viewer.company_id, Record.kind == KIND, partners
                    )
                    .order_by(Record.id)
                    .limit(50)
                    .execution_options(**UNSAFE)
                )
            )
        if not targets:
            raise LookupError(f"the {viewer.name} viewer owns no shared record")
        with self.factory() as session:  # each timed write rolls back: these stay current
            versions: dict[uuid.UUID, int] = dict(
                session.execute(
                    select(Space.record_id, Space.version)
                    .where(Space.record_id.in_(targets), Space.company_id == viewer.company_id)
                    .execution_options(**UNSAFE)
                ).all()
            )

        def values(i: int) -> dict[str, Any]:
            return {"amount": 10_000 + i, "stage": STAGES[i % len(STAGES)]}

        def prepare(session: Session, _i: int) -> Actor:
            return _actor(session, viewer.member_id)  # what authentication resolved

        def service_write(session: Session, i: int, actor: Actor) -> None:
            target = targets[i % len(targets)]
            records.update_my_space(session, actor, KIND, target, values(i), versions[target])
            session.flush()

        def plain_update(session: Session, i: int, _actor: Actor) -> None:
            target = targets[i % len(targets)]
            session.execute(
                update(Space)
                .where(Space.record_id == target, Space.company_id == viewer.company_id)
                .values(
                    amount=Decimal(10_000 + i),
                    stage=STAGES[i % len(STAGES)],
                    version=Space.version + 1,
                )
            )

        measured = timing.paired(
            self.factory,
            service_write,
            plain_update,
            repetitions=self.scale.write_repetitions,
            prepare=prepare,
        )
        subject, baseline = measured.subject, measured.baseline
        figure = Figure(
            key=f"write.{viewer.name}",
            group="write",
            label=f"Write my space with grant maintenance ({viewer.name} viewer)",
            subject=subject,
            baseline_label="plain UPDATE of the space",
            baseline=baseline,
            target="< 5 ms",
            unit="ms",
            details={"records": len(targets), **self.sql_details(measured, explain=False)},
        )
        figure.passed = subject.median < 5e-3
        self.add(figure)

    # --- auto-share rule change ------------------------------------------------------------------

    def rule_change(self) -> None:
        landmarks = self.landmarks
        large = viewers(landmarks)[1]
        settings = Settings(rule_grant_cap=10 * self.scale.records)
        rule = RuleIn(
            name="EMEA opportunities go to Harbor Systems",
            kind=Kind.OPPORTUNITY,
            type="auto_share",
            condition=RULE_CONDITION,
            grantees=Grantees(companies=[landmarks.target_company]),
        )
        touched: list[int] = []
        inserted: list[int] = []

        def prepare(session: Session, _i: int) -> Actor:
            return _actor(session, large.admin_id)

        def create_rule(session: Session, _i: int, actor: Actor) -> None:
            policies.create_rule(session, settings, actor, rule)
            session.flush()

        def invited(session: Session) -> int:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Participant)
                    .where(
                        Participant.company_id == landmarks.target_company,
                        Participant.status == ParticipantStatus.INVITED.value,
                    )
                    .execution_options(**UNSAFE)
                )
                or 0
            )

        def count_rule(session: Session, _i: int, _actor: Actor) -> None:
            touched.append(invited(session))

        def count_plain(session: Session, _i: int, _actor: Actor) -> None:
            inserted.append(invited(session))

        def insert_select(session: Session, _i: int, _actor: Actor) -> None:
            active = exists().where(
                Participant.record_id == Space.record_id,
                Participant.company_id == Space.company_id,
                Participant.status == ParticipantStatus.ACTIVE.value,
            )
            now = datetime.now(UTC)
            rows = select(
                Space.record_id,
                literal(landmarks.target_company),
                literal(ParticipantStatus.INVITED.value),
                literal(large.company_id),
                literal(large.admin_id),
                literal(now),
                literal("bench-baseline"),
            ).where(
                and_(Space.company_id == large.company_id, Space.region == "emea"),
                Space.amount >= 1000,
                active,
            )
            session.execute(
                insert(Participant).from_select(
                    [
                        Participant.record_id,
                        Participant.company_id,
                        Participant.status,
                        Participant.invited_by_company_id,
                        Participant.invited_by_user_id,
                        Participant.invited_at,
                        Participant.source,
                    ],
                    rows.execution_options(**UNSAFE),
                )
            )

        measured = timing.paired(
            self.factory,
            create_rule,
            insert_select,
            repetitions=self.scale.rule_repetitions,
            warmup=1,
            prepare=prepare,
            after_subject=count_rule,
            after_baseline=count_plain,
        )
        subject, baseline = measured.subject, measured.baseline
        figure = Figure(
            key="rule.auto_share",
            group="rule change",
            label=f"Auto-share rule change ({landmarks.rule_matches:,} records)",
            subject=subject,
            baseline_label="INSERT ... SELECT of the participants",
            baseline=baseline,
            target="< 2 s",
            unit="s",
            details={
                "records_invited": max(touched, default=0),
                "baseline_rows": max(inserted, default=0),
                "condition": RULE_CONDITION,
                **self.sql_details(measured, explain=False),
            },
        )
        figure.passed = subject.median < 2.0
        self.add(figure)

    # --- grouped report --------------------------------------------------------------------------

    def report(self) -> None:
        large = viewers(self.landmarks)[1]
        principal = _principal(large)
        definition = ReportIn(
            kind=KIND,
            group_by=["region"],
            measures=[Measure(op="count"), Measure(op="sum", field="mine.amount")],
        )
        rows: list[int] = []

        def gated(session: Session, _i: int, _c: Any) -> None:
            result = reports.run_for(session, principal, definition)
            rows.append(int(result.totals.measures["count"] or 0))

        def plain(session: Session, _i: int, _c: Any) -> None:
            session.execute(
                select(Space.region, func.count(), func.sum(Space.amount))
                .join(Record, Record.id == Space.record_id)
                .where(Space.company_id == large.company_id, Record.kind == KIND)
                .group_by(Space.region)
                .execution_options(**UNSAFE)
            ).all()

        measured = timing.paired(
            self.factory, gated, plain, repetitions=self.scale.write_repetitions
        )
        subject, baseline = measured.subject, measured.baseline
        figure = Figure(
            key="report.grouped.large",
            group="report",
            label=f"Grouped report by region, count + sum ({large.visible:,} visible)",
            subject=subject,
            baseline_label="same GROUP BY by hand, no authorization",
            baseline=baseline,
            target="< 300 ms and <= 1.5x baseline",
            unit="ms",
            details={
                "visible": large.visible,
                "counted": max(rows, default=0),
                **self.sql_details(measured, explain=True),
            },
        )
        figure.passed = subject.median < 0.3 and figure.ratio <= 1.5
        self.add(figure)
