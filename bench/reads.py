"""The record page and search figures, each against a plain read measured in the same run.

- Record page: `records.service.read`, what `GET /api/v1/{plural}/{id}` calls (the principal,
  `gate.check`, then `present`: masked spaces, participants, company names, templates),
  against a primary-key read of the record and of its spaces, unmasked.
- Search: `records.search.search`, what `GET /api/v1/search?q=` calls (every kind, a page of
  50, matches and snippets over visible fields only), against the same full-text query over
  `search_entries` without authorization: the page of record ids whose entries match (the same
  `to_tsquery` on PostgreSQL, the same FTS5 MATCH on SQLite), their titles, and the matching
  entries of those records.

The search word is what a user looks for: the customer of one of the viewer's own records (its
first word, typed whole; the app matches the last word as a prefix, and so does the baseline).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Select, Text, column, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bench import timing
from bench.dataset import KIND
from bench.figure import Figure, Viewer, actor_of, principal_of
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.guard import UNSAFE
from coterie.kit.pagination import DEFAULT_LIMIT
from coterie.models import Record, RecordAccess, Space
from coterie.models.search import PG_VECTOR_COLUMN, SEARCH_TABLE, SQLITE_FTS_TABLE, SearchEntry
from coterie.records import search as search_service
from coterie.records import service as records

if TYPE_CHECKING:
    from bench.suite import Suite

SAMPLE = 200  # records the record page figure cycles through


def _sample(session: Session, viewer: Viewer, count: int) -> list[uuid.UUID]:
    """`count` of the viewer's visible records, spread over all of them."""
    ids = list(
        session.scalars(
            gate.visible_ids(principal_of(viewer), KIND).order_by(RecordAccess.record_id)
        )
    )
    return ids[:: max(1, len(ids) // count)][:count]


# --- record page -------------------------------------------------------------------------------


def record_page(suite: Suite, viewer: Viewer) -> None:
    with suite.factory() as session:
        sample = _sample(session, viewer, SAMPLE)

    def prepare(session: Session, _i: int) -> Actor:
        return actor_of(session, viewer.member_id)  # what authentication resolved

    def service_read(session: Session, i: int, actor: Actor) -> None:
        out = records.read(session, actor, KIND, sample[i % len(sample)])
        if not out.spaces:
            raise AssertionError("the record page shows no space of the viewer's company")

    def plain(session: Session, i: int, _actor: Actor) -> None:
        record_id = sample[i % len(sample)]
        session.scalars(
            select(Record).where(Record.id == record_id).execution_options(**UNSAFE)
        ).one()
        session.scalars(
            select(Space).where(Space.record_id == record_id).execution_options(**UNSAFE)
        ).all()

    measured = timing.paired(
        suite.factory,
        service_read,
        plain,
        repetitions=suite.scale.check_repetitions,
        prepare=prepare,
    )
    figure = Figure(
        key=f"record.get.{viewer.name}",
        group="record page",
        label=f"Record page: get with masking ({viewer.name} viewer)",
        subject=measured.subject,
        baseline_label="primary-key read of the record and its spaces",
        baseline=measured.baseline,
        target="< 5 ms",
        unit="ms",
        details={"records": len(sample), **suite.sql_details(measured, explain=True)},
    )
    figure.passed = measured.subject.median < 5e-3
    suite.add(figure)


# --- search ------------------------------------------------------------------------------------

_PG_VECTOR = literal_column(f"{SEARCH_TABLE}.{PG_VECTOR_COLUMN}", type_=TSVECTOR)
_FTS = table(SQLITE_FTS_TABLE, column("rowid", Integer), column(SQLITE_FTS_TABLE, Text))


def _query_word(session: Session, viewer: Viewer) -> str:
    """The first word of the customer of a record in the middle of the viewer's list."""
    sample = _sample(session, viewer, 3)
    customer = session.scalar(
        select(Record.customer_name)
        .where(Record.id == sample[len(sample) // 2])
        .execution_options(**UNSAFE)
    )
    words = search_service.search_terms(customer or "")
    if not words:
        raise LookupError("the sampled record has no customer name to search for")
    return words[0]


def plain_match(dialect: str, word: str) -> ColumnElement[bool]:
    """Entries whose terms hold a word starting with `word` (alphanumeric), without the app."""
    if dialect == "postgresql":
        return _PG_VECTOR.op("@@")(func.to_tsquery(literal_column("'simple'"), f"'{word}':*"))
    matching = select(_FTS.c.rowid).where(_FTS.c[SQLITE_FTS_TABLE].op("MATCH")(f'"{word}" *'))
    return SearchEntry.id.in_(matching)


def search(suite: Suite, viewer: Viewer) -> None:
    with suite.factory() as session:
        word = _query_word(session, viewer)
        dialect = session.get_bind().dialect.name
    if not word.isalnum():
        raise ValueError(f"the search word {word!r} is not alphanumeric")
    hits: list[int] = []
    plain_hits: list[int] = []
    match = plain_match(dialect, word)

    def prepare(session: Session, _i: int) -> Actor:
        return actor_of(session, viewer.member_id)

    def app_search(session: Session, _i: int, actor: Actor) -> None:
        items, _next = search_service.search(
            session, actor, word, kind=None, limit=DEFAULT_LIMIT, cursor=None
        )
        hits.append(len(items))

    def page_ids() -> Select[Any]:
        return (
            select(SearchEntry.record_id)
            .where(match)
            .group_by(SearchEntry.record_id)
            .order_by(SearchEntry.record_id.desc())
            .limit(DEFAULT_LIMIT + 1)
            .execution_options(**UNSAFE)
        )

    def plain(session: Session, _i: int, _actor: Actor) -> None:
        ids = list(session.scalars(page_ids()))[:DEFAULT_LIMIT]
        session.execute(
            select(Record.id, Record.kind, Record.title)
            .where(Record.id.in_(ids))
            .execution_options(**UNSAFE)
        ).all()
        session.execute(
            select(
                SearchEntry.record_id,
                SearchEntry.kind,
                SearchEntry.owner_company_id,
                SearchEntry.field_key,
                SearchEntry.content,
            )
            .where(SearchEntry.record_id.in_(ids), match)
            .order_by(SearchEntry.id)
            .execution_options(**UNSAFE)
        ).all()
        plain_hits.append(len(ids))

    measured = timing.paired(
        suite.factory,
        app_search,
        plain,
        repetitions=suite.scale.write_repetitions,
        prepare=prepare,
    )
    if not max(hits, default=0):
        raise AssertionError(f"searching {word!r} found none of the viewer's records")
    figure = Figure(
        key=f"search.{viewer.name}",
        group="search",
        label=f"Search a customer, first page ({viewer.name} viewer)",
        subject=measured.subject,
        baseline_label="same full-text query, no authorization",
        baseline=measured.baseline,
        target="< 100 ms",
        unit="ms",
        details={
            "query": word,
            "hits": max(hits, default=0),
            "baseline_hits": max(plain_hits, default=0),
            **suite.sql_details(measured, explain=True),
        },
    )
    figure.passed = measured.subject.median < 0.1
    suite.add(figure)
