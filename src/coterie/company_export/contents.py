"""What a company export holds, read as the company through the API's own read paths.

The reader is the requesting admin's principal with "hide private fields" off (the company's
private values are its own data): every record read goes through the gate (`records.query`,
`records.service.present`, `records.export`), so a partner's space appears only with the fields
it shares with this company now, and nothing else of a partner ever does. Comments are read
after the gate admitted their record (`activity.comment_access.readable`), plan goals through
`goals.list_goals`, reports and dashboards through their `list_visible`, the audit log as its API
reads it (this company's rows only).

Files (each collection's JSON is an array; CSV where the data is a table):
- `company.json` (one object): the profile, members, templates and partnerships.
- `records/<plural>.json` (as `GET /api/v1/<plural>/{id}` answers) and `records/<plural>.csv`
  (as `GET /api/v1/<plural>/export` writes: "My ..." columns, then each partner's shared fields).
- `comments.json` / `comments.csv`, `attachments.json` / `attachments.csv` (the metadata of the
  files the company uploaded, on records it may still see; not their content),
  `plan_goals.json`, `reports.json`, `dashboards.json`, `audit_events.json` /
  `audit_events.csv`; `manifest.json` last (`builder`).
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.activity import comments
from coterie.activity.comment_access import readable
from coterie.attachments import service as attachments
from coterie.auth.principal import Actor
from coterie.authz import rls
from coterie.authz.partners import involving
from coterie.authz.principal import Principal
from coterie.company_export import zipfile_writer as out
from coterie.cosell.planning import goals
from coterie.cosell.schemas import GoalOut
from coterie.fields import templates
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.models import AuditEvent, Company, Partnership, Record, User
from coterie.models.activity import Comment
from coterie.network import partnerships
from coterie.records import export as record_export
from coterie.records import query
from coterie.records import service as records
from coterie.reports.dashboards import service as dashboards
from coterie.reports.saved import service as saved_reports

BATCH_SIZE = 200
Counts = dict[str, int]


@dataclass(frozen=True)
class Reader:
    """The export's unit of work: one read transaction, as the requesting admin."""

    session: Session
    actor: Actor

    @property
    def principal(self) -> Principal:
        return self.actor.principal

    @property
    def company_id(self) -> uuid.UUID:
        return self.actor.company_id


@dataclass(frozen=True)
class Step:
    label: str
    write: Callable[[Reader, zipfile.ZipFile], Counts]


# --- the company -------------------------------------------------------------------------------


def _company(reader: Reader, archive: zipfile.ZipFile) -> Counts:
    session = reader.session
    company = session.get(Company, reader.company_id)
    if company is None:  # pragma: no cover (the company owns the export row)
        raise LookupError("the company is gone")
    members = session.scalars(
        select(User).where(User.company_id == company.id).order_by(User.created_at, User.id)
    ).all()
    links = session.scalars(
        select(Partnership)
        .where(involving(company.id))
        .order_by(Partnership.created_at, Partnership.id)
    ).all()
    document: dict[str, Any] = {
        "profile": {
            "id": str(company.id),
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "regions": company.regions,
            "partner_types": company.partner_types,
            "hq_country": company.hq_country,
            "size": company.size,
            "currency": company.currency,
            "website": company.website,
            "description": company.description,
            "created_at": company.created_at.isoformat(),
        },
        "members": [
            {
                "id": str(user.id),
                "name": user.name,
                "email": user.email,
                "role": user.role,
                "is_active": user.is_active,
                "created_at": user.created_at.isoformat(),
            }
            for user in members
        ],
        "templates": {
            info.kind.value: templates.load(session, company.id, info.kind.value)
            .out()
            .model_dump(mode="json")
            for info in KINDS.values()
        },
        "partnerships": [
            partnerships.to_out(link, company.id).model_dump(mode="json") for link in links
        ],
    }
    out.write_document(archive, "company.json", document)
    return {"members": len(members), "partnerships": len(links)}


# --- records -----------------------------------------------------------------------------------


def _record_batches(reader: Reader, kind: Kind) -> Iterator[list[Record]]:
    listing = query.build(reader.session, reader.principal, kind.value)
    for rows in listing.batches(reader.session, [Record], BATCH_SIZE):
        yield [row[0] for row in rows]


def _records(info: KindInfo) -> Step:
    def write(reader: Reader, archive: zipfile.ZipFile) -> Counts:
        session, kind = reader.session, info.kind.value

        def presented() -> Iterator[Any]:
            for batch in _record_batches(reader, info.kind):
                yield from records.present(session, reader.actor, reader.principal, kind, batch)

        count = out.write_json(archive, f"records/{info.plural}.json", presented())
        listing = query.build(session, reader.principal, kind)
        spec = record_export.columns(session, listing)
        chunks = record_export.csv_chunks(
            [column.header for column in spec], record_export.rows(session, listing, spec)
        )
        out.write_chunks(archive, f"records/{info.plural}.csv", chunks)
        return {info.plural: count}

    return Step(f"{info.label} records", write)


# --- comments ----------------------------------------------------------------------------------

COMMENT_HEADER = (
    "id",
    "record_kind",
    "record_id",
    "audience",
    "author",
    "author_company",
    "created_at",
    "edited_at",
    "body",
)


def _comments(reader: Reader, archive: zipfile.ZipFile) -> Counts:
    session, principal = reader.session, reader.principal
    with out.table(archive, "comments", COMMENT_HEADER) as table:
        for info in KINDS.values():
            for batch in _record_batches(reader, info.kind):
                found = session.scalars(
                    select(Comment)
                    .where(
                        Comment.kind == info.kind.value,
                        Comment.record_id.in_([r.id for r in batch]),
                        readable(principal),
                    )
                    .order_by(Comment.record_id, Comment.created_at, Comment.id)
                    .execution_options(**rls.as_company(principal.company_id))
                ).all()
                for comment in comments.present(session, principal, found):
                    table.add(
                        comment,
                        [
                            str(comment.id),
                            comment.kind,
                            str(comment.record_id),
                            comment.audience,
                            comment.author.name,
                            comment.author.company_name,
                            comment.created_at,
                            comment.edited_at,
                            comment.body,
                        ],
                    )
        return {"comments": table.count}


# --- attachments (metadata of the company's own uploads) ----------------------------------------

ATTACHMENT_HEADER = (
    "id",
    "filename",
    "content_type",
    "size",
    "sha256",
    "subject_kind",
    "subject_id",
    "record_kind",
    "record_id",
    "uploaded_by",
    "created_at",
)


def _attachments(reader: Reader, archive: zipfile.ZipFile) -> Counts:
    session, actor = reader.session, reader.actor
    after: uuid.UUID | None = None
    with out.table(archive, "attachments", ATTACHMENT_HEADER) as table:
        while True:
            batch = attachments.uploaded_by_company(
                session, reader.principal, after=after, limit=BATCH_SIZE
            )
            for item in attachments.present(session, actor, batch):
                table.add(
                    item,
                    [
                        str(item.id),
                        item.filename,
                        item.content_type,
                        item.size,
                        item.sha256,
                        item.subject_kind,
                        str(item.subject_id),
                        item.record_kind,
                        str(item.record_id),
                        item.uploaded_by.name,
                        item.created_at,
                    ],
                )
            if len(batch) < BATCH_SIZE:
                return {"attachments": table.count}
            after = batch[-1].id


# --- plans' goals, reports, dashboards ---------------------------------------------------------


def _plan_goals(reader: Reader, archive: zipfile.ZipFile) -> Counts:
    def found() -> Iterator[GoalOut]:
        for batch in _record_batches(reader, Kind.PLAN):
            for plan in batch:
                yield from goals.list_goals(reader.session, reader.actor, plan.id)

    return {"plan_goals": out.write_json(archive, "plan_goals.json", found())}


def _reports(reader: Reader, archive: zipfile.ZipFile) -> Counts:
    session, actor = reader.session, reader.actor
    found = (
        saved_reports.to_out(session, actor, r) for r in saved_reports.list_visible(session, actor)
    )
    boards = (dashboards.to_out(session, actor, b) for b in dashboards.list_visible(session, actor))
    return {
        "reports": out.write_json(archive, "reports.json", found),
        "dashboards": out.write_json(archive, "dashboards.json", boards),
    }


# --- the audit log -----------------------------------------------------------------------------

AUDIT_HEADER = ("id", "created_at", "action", "actor_user_id", "subject_type", "subject_id")


def _audit(reader: Reader, archive: zipfile.ZipFile) -> Counts:
    session = reader.session
    after: uuid.UUID | None = None
    with out.table(archive, "audit_events", AUDIT_HEADER) as table:
        while True:
            statement = select(AuditEvent).where(AuditEvent.company_id == reader.company_id)
            if after is not None:
                statement = statement.where(AuditEvent.id > after)
            batch = session.scalars(statement.order_by(AuditEvent.id).limit(BATCH_SIZE)).all()
            for event in batch:
                actor_id = str(event.actor_user_id) if event.actor_user_id else None
                item: dict[str, Any] = {
                    "id": str(event.id),
                    "action": event.action,
                    "actor_user_id": actor_id,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "data": event.data,
                    "created_at": event.created_at.isoformat(),
                }
                table.add(
                    item,
                    [
                        str(event.id),
                        event.created_at,
                        event.action,
                        actor_id,
                        event.subject_type,
                        event.subject_id,
                    ],
                )
            if len(batch) < BATCH_SIZE:
                return {"audit_events": table.count}
            after = batch[-1].id


def steps() -> list[Step]:
    """Every step of an export, in the order the zip is written."""
    return [
        Step("Company profile and members", _company),
        *(_records(info) for info in KINDS.values()),
        Step("Comments", _comments),
        Step("Files (metadata)", _attachments),
        Step("Plan goals", _plan_goals),
        Step("Reports and dashboards", _reports),
        Step("Audit log", _audit),
    ]
