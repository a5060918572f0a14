"""Running an import: a dry run or the real run, row by row, as the importing user.

Each row is read through its mapping (`targets`), matched (`coterie.sync.matching`, the same
match-or-create as the sync) and written through `coterie.records.service` (`create`, or
`update_core` when the company owns the record and `update_my_space`, each at the version just
read: conditional writes) inside a savepoint of its own. A refused row rolls its savepoint back,
so it never leaves a partial write; a dry run rolls every row's savepoint back, so it decides
exactly as the run would (same validation, same services) and writes nothing but its report.

Rules that keep a dry run and the run alike, and a re-import free of duplicates:
- an ambiguous match is refused with its candidates (a person chooses: add a Coterie id column);
- a record this import created is never matched by a later row (`exclude`), and a row repeating
  an earlier row that creates (same normalized name, customer and domain) is refused;
- a row matching a record an earlier row already updates is refused;
- a matched row whose values change nothing is "unchanged" (its savepoint is rolled back).

Progress is committed with the data, `CHUNK` rows at a time: a run whose worker died resumes
after the last committed chunk (`rows_done`) with no row written twice. A run is claimed by
raising `attempt` (one conditional UPDATE), as company exports are.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from coterie import audit
from coterie.auth.principal import Actor, background_actor
from coterie.authz import gate
from coterie.config import Settings
from coterie.cosell.pipeline.duplicates import normalize_domain, normalize_name
from coterie.db import session_scope, utcnow
from coterie.fields import templates
from coterie.fields.definitions import STANDARD_FIELDS
from coterie.kit.problems import Problem
from coterie.models import Record, Space, SpreadsheetImport, User
from coterie.models.imports import UNFINISHED, ImportMode, ImportStatus
from coterie.records import service as records
from coterie.records.schemas import RecordCreate, RecordPatch
from coterie.sync import matching
from coterie.sync.imports import targets
from coterie.sync.imports.targets import CellError, Converter

log = logging.getLogger(__name__)
RUN_TASK = "imports.run"
CHUNK = 50
QUEUED_GRACE = timedelta(minutes=2)
RUNNING_GRACE = timedelta(minutes=15)
FIRST_ROW = 2  # the header is row 1, as a spreadsheet program numbers them
CREATE, UPDATE, UNCHANGED, REFUSED = "create", "update", "unchanged", "refused"
SPACE_COLUMNS = tuple(f.column for f in STANDARD_FIELDS.values())
FAILED_UNEXPECTEDLY = (
    "The import stopped on an unexpected error. The rows listed were processed; start it "
    "again to finish (rows already imported are recognised and left alone)."
)


class JobContext(Protocol):
    settings: Settings
    session_factory: sessionmaker[Session]


@dataclass
class RowResult:
    row: int
    action: str
    title: str = ""
    record_id: str | None = None
    column: str | None = None
    reason: str = ""
    fields: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "action": self.action,
            "title": self.title,
            "record_id": self.record_id,
            "column": self.column,
            "reason": self.reason,
            "fields": self.fields,
            "candidates": self.candidates,
        }


class _Refused(Exception):  # noqa: N818 (an outcome, not a failure)
    def __init__(self, reason: str, column: str | None = None, **extra: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.extra = extra


@dataclass
class _State:
    """What earlier rows of this run decided, rebuilt from the stored results on resume."""

    created: set[uuid.UUID] = field(default_factory=set)
    updated: dict[uuid.UUID, int] = field(default_factory=dict)  # record -> row
    identities: dict[tuple[str, str, str], int] = field(default_factory=dict)  # -> row


class Importer:
    """Processes rows of one import as `actor` in `session` (the caller commits)."""

    def __init__(self, session: Session, actor: Actor, row: SpreadsheetImport) -> None:
        self.session = session
        self.actor = actor
        self.job = row
        self.dry = row.mode == ImportMode.DRY_RUN.value
        self.kind = row.kind
        template = templates.load(session, actor.company_id, row.kind)
        self.by_key = {t.key: t for t in targets.targets(row.kind, template)}
        self.columns: dict[str, tuple[int, str]] = {
            key: (index, row.headers[index])
            for index, key in enumerate(row.mapping)
            if key is not None and key in self.by_key
        }
        self.converter = Converter(session, actor.company_id)
        self.state = _State()
        for result in row.results:
            self._remember(result, row.rows[result["row"] - FIRST_ROW])

    def header(self, key: str) -> str:
        found = self.columns.get(key)
        return found[1] if found else self.by_key[key].label if key in self.by_key else key

    def _remember(self, result: dict[str, Any], cells: list[str]) -> None:
        record_id = uuid.UUID(result["record_id"]) if result.get("record_id") else None
        if result["action"] == CREATE:
            if record_id is not None and not self.dry:
                self.state.created.add(record_id)
            self.state.identities.setdefault(self._identity(cells), result["row"])
        elif result["action"] in (UPDATE, UNCHANGED) and record_id is not None:
            self.state.updated.setdefault(record_id, result["row"])

    def _cell(self, cells: list[str], key: str) -> str:
        found = self.columns.get(key)
        return cells[found[0]].strip() if found else ""

    def _identity(self, cells: list[str]) -> tuple[str, str, str]:
        return (
            normalize_name(self._cell(cells, targets.TITLE)),
            normalize_name(self._cell(cells, targets.CUSTOMER_NAME)),
            normalize_domain(self._cell(cells, targets.CUSTOMER_DOMAIN)) or "",
        )

    def process(self, index: int) -> RowResult:
        cells = self.job.rows[index]
        number = index + FIRST_ROW
        title = self._cell(cells, targets.TITLE)
        try:
            result = self._process(number, cells, title)
        except _Refused as refused:
            result = RowResult(
                number,
                REFUSED,
                title=title,
                column=refused.column,
                reason=refused.reason,
                candidates=refused.extra.get("candidates", []),
            )
        self._remember(result.as_json(), cells)
        return result

    def _values(self, cells: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        core: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        currency_text = self._cell(cells, "currency")
        currency: str | None = None
        if currency_text:
            try:
                currency = self.converter.value(
                    self.by_key["currency"].definition,  # type: ignore[arg-type]
                    currency_text,
                    None,
                )
            except CellError as exc:
                raise _Refused(str(exc), self.header("currency")) from exc
        for key, (index, header) in self.columns.items():
            text = cells[index].strip()
            if not text:
                continue
            definition = self.by_key[key].definition
            if definition is None:
                core[key] = text
                continue
            try:
                fields[key] = self.converter.value(definition, text, currency)
            except CellError as exc:
                raise _Refused(str(exc), header) from exc
        return core, fields

    def _process(self, number: int, cells: list[str], title: str) -> RowResult:
        core, fields = self._values(cells)
        if not title:
            raise _Refused("is required", self.header(targets.TITLE))
        known_id: uuid.UUID | None = None
        if targets.ID in core:
            try:
                known_id = uuid.UUID(core.pop(targets.ID))
            except ValueError as exc:
                raise _Refused("is not a Coterie id", self.header(targets.ID)) from exc
        found = matching.match(
            self.session,
            self.actor.principal,
            self.kind,
            name=title,
            domain=core.get(targets.CUSTOMER_DOMAIN),
            known_id=known_id,
            customer_name=core.get(targets.CUSTOMER_NAME),
            exclude=self.state.created,
        )
        if found.outcome == "ambiguous":
            raise _Refused(
                "matches several of your records: add a column with the Coterie id of the "
                "right one, or make the name more specific",
                self.header(targets.TITLE),
                candidates=[_candidate(c) for c in found.candidates],
            )
        if found.record_id is None:
            if known_id is not None:
                raise _Refused("is not the id of a record you can see", self.header(targets.ID))
            earlier = self.state.identities.get(self._identity(cells))
            if earlier is not None:
                raise _Refused(f"repeats row {earlier} of this file", self.header(targets.TITLE))
            return self._savepoint(number, title, lambda: self._create(core, fields))
        earlier = self.state.updated.get(found.record_id)
        if earlier is not None:
            raise _Refused(
                f"is the same record as row {earlier} of this file", self.header(targets.TITLE)
            )
        record_id = found.record_id
        return self._savepoint(number, title, lambda: self._update(record_id, core, fields))

    def _savepoint(self, number: int, title: str, write: Any) -> RowResult:
        savepoint = self.session.begin_nested()
        try:
            action, record_id, changed = write()
        except Problem as problem:
            savepoint.rollback()
            column, reason = self._problem(problem)
            raise _Refused(reason, column) from problem
        except ValidationError as error:
            savepoint.rollback()
            first = error.errors()[0]
            key = str(first["loc"][0]) if first["loc"] else targets.TITLE
            raise _Refused(_pydantic_message(first), self.header(key)) from error
        if self.dry or action == UNCHANGED:
            savepoint.rollback()
        else:
            savepoint.commit()
        return RowResult(number, action, title=title, record_id=str(record_id), fields=changed)

    def _problem(self, problem: Problem) -> tuple[str | None, str]:
        errors = problem.errors or []
        if not errors:
            return None, problem.detail
        path = str(errors[0].get("path", ""))
        parts = path.split(".")
        key = parts[2] if parts[:2] == ["body", "fields"] and len(parts) > 2 else parts[-1]
        if parts[:2] == ["body", "fields"] and len(parts) > 3 and parts[3] == "currency":
            key = "currency" if "currency" in self.columns else key
        return self.header(key), str(errors[0].get("message", problem.detail))

    def _create(
        self, core: dict[str, Any], fields: dict[str, Any]
    ) -> tuple[str, uuid.UUID, list[str]]:
        data = RecordCreate(
            title=self._title(core),
            customer_name=core.get(targets.CUSTOMER_NAME, ""),
            customer_domain=core.get(targets.CUSTOMER_DOMAIN),
            description=core.get(targets.DESCRIPTION, ""),
            fields=fields,
        )
        created = records.create(self.session, self.actor, self.kind, data)
        return CREATE, created.id, sorted({*core, *fields} - {targets.ID})

    def _title(self, core: dict[str, Any]) -> str:
        return str(core.get(targets.TITLE, ""))

    def _update(
        self, record_id: uuid.UUID, core: dict[str, Any], fields: dict[str, Any]
    ) -> tuple[str, uuid.UUID, list[str]]:
        record = gate.check(self.session, self.actor.principal, self.kind, record_id)
        changed: list[str] = []
        if record.owner_company_id == self.actor.company_id:
            patch = self._core_changes(record, core)
            if patch:
                records.update_core(
                    self.session,
                    self.actor,
                    self.kind,
                    record_id,
                    RecordPatch(**patch),
                    record.version,
                )
                changed.extend(sorted(patch))
        if fields:
            space = gate.own_space_for_write(
                self.session, self.actor.principal, self.kind, record_id
            )
            before = _snapshot(space)
            records.update_my_space(
                self.session, self.actor, self.kind, record_id, fields, space.version
            )
            self.session.flush()
            after = _snapshot(space)
            changed.extend(k for k in sorted(fields) if _differs(k, before, after))
        return (UPDATE if changed else UNCHANGED), record_id, changed

    def _core_changes(self, record: Record, core: dict[str, Any]) -> dict[str, Any]:
        patch: dict[str, Any] = {}
        for key in (targets.TITLE, targets.CUSTOMER_NAME, targets.DESCRIPTION):
            if key in core and core[key] != getattr(record, key):
                patch[key] = core[key]
        if targets.CUSTOMER_DOMAIN in core:
            wanted = normalize_domain(core[targets.CUSTOMER_DOMAIN])
            if wanted != record.customer_domain:
                patch[targets.CUSTOMER_DOMAIN] = core[targets.CUSTOMER_DOMAIN]
        return patch


def _snapshot(space: Space) -> dict[str, Any]:
    values = {column: getattr(space, column) for column in SPACE_COLUMNS}
    values["custom"] = dict(space.custom or {})
    return values


def _differs(key: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    standard = STANDARD_FIELDS.get(key)
    if standard is None:
        return bool(before["custom"].get(key) != after["custom"].get(key))
    if key == "amount":
        return bool(before["amount"] != after["amount"] or before["currency"] != after["currency"])
    return bool(before[standard.column] != after[standard.column])


def _candidate(candidate: matching.Candidate) -> dict[str, Any]:
    return {
        "record_id": str(candidate.record_id),
        "title": candidate.title,
        "customer_name": candidate.customer_name,
        "customer_domain": candidate.customer_domain,
        "score": candidate.score,
    }


def _pydantic_message(error: Any) -> str:
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


# -- running ------------------------------------------------------------------------------


def run_rows(session: Session, actor: Actor, row: SpreadsheetImport, end: int) -> None:
    """Process rows `rows_done` to `end` (exclusive) of `row` in `session`, appending their
    results; the caller commits (with the progress, in the same transaction)."""
    importer = Importer(session, actor, row)
    results = list(row.results)
    for index in range(row.rows_done, end):
        results.append(importer.process(index).as_json())
    row.results = results
    row.rows_done = end


def finish(session: Session, actor: Actor, row: SpreadsheetImport) -> None:
    """Mark a run complete; a real run is audited with its counts."""
    row.status = (
        ImportStatus.CHECKED.value
        if row.mode == ImportMode.DRY_RUN.value
        else ImportStatus.DONE.value
    )
    row.finished_at = utcnow()
    if row.mode == ImportMode.IMPORT.value:
        audit.record(
            session,
            actor,
            "records.imported",
            "spreadsheet_import",
            row.id,
            kind=row.kind,
            filename=row.filename,
            **counts(row.results),
        )


def counts(results: list[dict[str, Any]]) -> dict[str, int]:
    found = dict.fromkeys((CREATE, UPDATE, UNCHANGED, REFUSED), 0)
    for result in results:
        found[result["action"]] += 1
    return {
        "created": found[CREATE],
        "updated": found[UPDATE],
        "unchanged": found[UNCHANGED],
        "refused": found[REFUSED],
    }


def importer_actor(session: Session, row: SpreadsheetImport) -> Actor | None:
    """The user who uploaded the import, as it runs in the background; None when they are no
    longer an active user of the company (the import then fails, nothing is written)."""
    user = session.get(User, row.user_id)
    if user is None or not user.is_active or user.company_id != row.company_id:
        return None
    return background_actor(session, user, "import")


def run_task(context: JobContext, import_id: str) -> None:
    """The worker's `imports.run`."""
    try:
        parsed = uuid.UUID(import_id)
    except ValueError:
        log.warning("imports.run: %r is no import id", import_id)
        return
    run_in_background(context.session_factory, parsed)


class _SupersededError(Exception):
    """Another attempt took the run over."""


def run_in_background(factory: sessionmaker[Session], import_id: uuid.UUID) -> None:
    """Claim the run and process it chunk by chunk, each chunk committed with its progress."""
    attempt = _claim(factory, import_id)
    if attempt is None:
        return
    try:
        while True:
            with session_scope(factory) as session:
                row = session.get(SpreadsheetImport, import_id, with_for_update=True)
                if row is None or row.attempt != attempt or row.status not in UNFINISHED:
                    raise _SupersededError
                actor = importer_actor(session, row)
                if actor is None:
                    row.status = ImportStatus.FAILED.value
                    row.error = "The user who uploaded this import is no longer active."
                    row.finished_at = utcnow()
                    return
                end = min(row.rows_done + CHUNK, len(row.rows))
                run_rows(session, actor, row, end)
                if end >= len(row.rows):
                    finish(session, actor, row)
                    return
    except _SupersededError:
        return
    except Exception:
        log.exception("spreadsheet import %s failed", import_id)
        with session_scope(factory) as session:
            session.execute(
                update(SpreadsheetImport)
                .where(SpreadsheetImport.id == import_id, SpreadsheetImport.attempt == attempt)
                .values(
                    status=ImportStatus.FAILED.value,
                    error=FAILED_UNEXPECTEDLY,
                    finished_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )


def _claim(factory: sessionmaker[Session], import_id: uuid.UUID) -> int | None:
    with session_scope(factory) as session:
        row = session.get(SpreadsheetImport, import_id)
        if row is None or row.status not in UNFINISHED:
            return None
        claimed = session.execute(
            update(SpreadsheetImport)
            .where(
                SpreadsheetImport.id == import_id,
                SpreadsheetImport.attempt == row.attempt,
                SpreadsheetImport.status.in_(UNFINISHED),
            )
            .values(
                status=ImportStatus.RUNNING.value,
                attempt=row.attempt + 1,
                started_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return row.attempt + 1


def stuck(factory: sessionmaker[Session], now: datetime) -> list[uuid.UUID]:
    """Runs whose wake-up was lost (queued too long) or whose worker died (running too long
    without finishing): the worker's sweeper queues them again; they resume where they were."""
    with factory() as session:
        return list(
            session.scalars(
                select(SpreadsheetImport.id).where(
                    or_(
                        and_(
                            SpreadsheetImport.status == ImportStatus.QUEUED.value,
                            SpreadsheetImport.started_at < now - QUEUED_GRACE,
                        ),
                        and_(
                            SpreadsheetImport.status == ImportStatus.RUNNING.value,
                            SpreadsheetImport.started_at < now - RUNNING_GRACE,
                        ),
                    )
                )
            )
        )
