"""Full-text search over shared records: keeping the index, and querying it through the gate.

The index (`coterie.models.search.SearchEntry`) has one row per searchable text value: the core
texts of a record (title, customer name and domain, description; `owner_company_id` NULL) and
the text fields of each company's space (the standard `stage` and `product`, and custom `text`
and `long_text` fields; `owner_company_id` = that company). `records.service` calls
`index_record` / `index_core` / `index_space` in the same transaction as every write that
changes those values, so the index never lags; `reindex_all` rebuilds it (migrations, admin).

Words are normalized once, here, for both databases (`search_terms`: case-folded, accents
removed, split on anything that is not a letter or digit), and the engines index the
normalized `terms`: PostgreSQL through a `tsvector` column with a GIN index (`simple`
configuration), SQLite through an FTS5 table. A query matches a record when each of its words
is found in some field of that record the caller may see; the last word, and any word written
with a trailing `*`, matches as a prefix. User input never reaches the engines' query syntax:
only the normalized words do, quoted (`'word':*` for `to_tsquery`, `"word" *` for FTS5).

Searching on a field the caller cannot see is impossible by construction. Every statement
keeps an index row only when the caller may see that field now:
- the record is one the gate lets the principal read (`gate.visible_ids`, per kind);
- core rows: always (every active participant sees the shared core);
- rows of the caller's own space: the field is in the caller's current template and is not
  hidden by "hide private fields" (`CompanyTemplate.own_policy`, as the gate masks them);
- rows of a partner's space: the partner is an *active* participant and shares the field with
  the caller (`field_shares`, compiled from the partner's current template: audience NULL for
  every participant, or the caller's company).
Matching, the per-record "every word" test, ordering, pagination and snippets are all computed
over those rows only, so a hidden value can neither produce a hit nor change which records,
how many, or in what order the caller gets. Revocation is immediate: nothing is cached.

Every read carries the gate's execution options (`rls.as_company`, which includes the guard's
`GATE`), so on PostgreSQL row-level security (migration 0005, `search_entries` included) reads
as the caller's company too. Index maintenance runs in `rls.unsafe_system_scope`: it replaces
rows on behalf of a write the service already authorized.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Integer,
    Select,
    Text,
    and_,
    case,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.fields import shared_to
from coterie.authz.guard import UNSAFE
from coterie.authz.principal import Principal
from coterie.fields import templates
from coterie.fields.definitions import STANDARD_FIELDS, FieldType
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.fields.policy import OwnFieldPolicy
from coterie.kit.pagination import SortKey, check_limit, decode_cursor, encode_cursor
from coterie.kit.problems import invalid
from coterie.models import FieldShare, Participant, Record, Space, Template
from coterie.models.search import PG_VECTOR_COLUMN, SEARCH_TABLE, SQLITE_FTS_TABLE, SearchEntry

MAX_QUERY = 200
MAX_TERMS = 16
SNIPPET_CHARS = 160
CHUNK = 1000

CORE_FIELDS: dict[str, str] = {
    "title": "Title",
    "customer_name": "Customer",
    "customer_domain": "Customer domain",
    "description": "Description",
}
STANDARD_TEXT_FIELDS = ("stage", "product")
TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT})

_WORD = re.compile(r"[^\W_]+")
_CURSOR = (SortKey(SearchEntry.record_id, is_uuid=True),)
_PG_VECTOR = literal_column(f"{SEARCH_TABLE}.{PG_VECTOR_COLUMN}", type_=TSVECTOR)
_FTS = table(SQLITE_FTS_TABLE, column("rowid", Integer), column(SQLITE_FTS_TABLE, Text))


# --- words -----------------------------------------------------------------------------------


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_terms(value: str) -> list[str]:
    """The normalized words of a text, as both engines index them and queries look them up."""
    return _WORD.findall(_fold(value))


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool

    def hits(self, word: str) -> bool:
        return word.startswith(self.word) if self.prefix else word == self.word


def parse_query(q: str) -> list[Term]:
    """The words of a query (422 when empty, too long or too many words). A query of only
    punctuation has no words: it finds nothing."""
    if len(q) > MAX_QUERY:
        raise invalid("query.q", f"must be at most {MAX_QUERY} characters")
    if not q.strip():
        raise invalid("query.q", "must not be empty")
    terms: list[Term] = []
    for chunk in q.split():
        words = search_terms(chunk)
        for i, word in enumerate(words):
            terms.append(Term(word, prefix=chunk.endswith("*") and i == len(words) - 1))
    if terms:
        terms[-1] = Term(terms[-1].word, prefix=True)  # search as you type
    unique = list(dict.fromkeys(terms))
    if len(unique) > MAX_TERMS:
        raise invalid("query.q", f"must have at most {MAX_TERMS} words")
    return unique


def _match(dialect: str, term: Term) -> ColumnElement[bool]:
    """Index rows whose terms contain the word; the word is alphanumeric, and quoted anyway."""
    if dialect == "postgresql":
        lexeme = "'" + term.word.replace("\\", "\\\\").replace("'", "''") + "'"
        query = func.to_tsquery(literal_column("'simple'"), lexeme + (":*" if term.prefix else ""))
        return _PG_VECTOR.op("@@")(query)
    phrase = '"' + term.word.replace('"', '""') + '"' + (" *" if term.prefix else "")
    matching = select(_FTS.c.rowid).where(_FTS.c[SQLITE_FTS_TABLE].op("MATCH")(phrase))
    return SearchEntry.id.in_(matching)


# --- the index -------------------------------------------------------------------------------


def _entry(
    record_id: uuid.UUID, kind: str, owner: uuid.UUID | None, key: str, content: Any
) -> dict[str, Any] | None:
    if not isinstance(content, str):
        return None
    terms = " ".join(search_terms(content))
    if not terms:
        return None
    return {
        "record_id": record_id,
        "kind": kind,
        "owner_company_id": owner,
        "field_key": key,
        "content": content,
        "terms": terms,
    }


def core_entries(
    record_id: uuid.UUID, kind: str, values: Mapping[Any, Any]
) -> list[dict[str, Any]]:
    entries = (_entry(record_id, kind, None, key, values.get(key)) for key in CORE_FIELDS)
    return [e for e in entries if e is not None]


def space_entries(
    record_id: uuid.UUID,
    kind: str,
    company_id: uuid.UUID,
    standard: Mapping[Any, Any],
    custom: Mapping[str, Any],
    custom_types: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Index rows of one space: its standard text fields and its custom text fields (a key
    keeps its type for ever, so a value's type is known from the current or retired fields)."""
    pairs = [(key, standard.get(key)) for key in STANDARD_TEXT_FIELDS]
    pairs += [
        (key, value) for key, value in sorted(custom.items()) if custom_types.get(key) in TEXT_TYPES
    ]
    entries = (_entry(record_id, kind, company_id, key, value) for key, value in pairs)
    return [e for e in entries if e is not None]


def custom_types_of(definition: Mapping[str, Any] | None) -> dict[str, str]:
    """Custom field key -> type, from a stored template definition (current and retired)."""
    found: dict[str, str] = {}
    stored = definition or {}
    for item in [*stored.get("retired", []), *stored.get("fields", [])]:
        key, kind = item.get("key"), item.get("type")
        if isinstance(key, str) and isinstance(kind, str) and key not in STANDARD_FIELDS:
            found[key] = kind
    return found


def _write(session: Session, entries: list[dict[str, Any]]) -> None:
    if entries:
        session.execute(insert(SearchEntry), entries)


# Index upkeep is maintenance for a write already authorized, like grants: on PostgreSQL it runs
# with the RLS bypass (its INSERT ... RETURNING must pass search_entries' read policy, and a new
# record has no grant yet).
@rls.unsafe_system_maintenance
def index_core(session: Session, record: Record) -> None:
    """Replace the core rows of a record (after it was created or its core changed)."""
    _index_core(session, record)


def _index_core(session: Session, record: Record) -> None:
    session.execute(
        delete(SearchEntry)
        .where(SearchEntry.record_id == record.id, SearchEntry.owner_company_id.is_(None))
        .execution_options(synchronize_session=False)
    )
    values = {key: getattr(record, key) for key in CORE_FIELDS}
    _write(session, core_entries(record.id, record.kind, values))


def index_space(
    session: Session, kind: str, space: Space, changed: Iterable[str] | None = None
) -> None:
    """Replace the rows of one company's space on a record (after the space was written);
    nothing to do when `changed` (the keys written) holds no searchable field.

    Runs as the space's company: row-level security lets a company find its own index rows."""
    if changed is not None:
        template = templates.load(session, space.company_id, kind)
        searchable = set(STANDARD_TEXT_FIELDS) | {
            f.key for f in template.fields if not f.is_standard and f.type in TEXT_TYPES
        }
        if searchable.isdisjoint(changed):
            return
    rls.bind(session, space.company_id)
    _index_space(session, kind, space)


def _index_space(session: Session, kind: str, space: Space) -> None:
    template = templates.load(session, space.company_id, kind)
    old_rows = delete(SearchEntry).where(
        SearchEntry.record_id == space.record_id,
        SearchEntry.owner_company_id == space.company_id,
    )
    standard = {key: getattr(space, key) for key in STANDARD_TEXT_FIELDS}
    custom_types = {
        f.key: f.type.value
        for f in [*template.retired, *template.fields]
        if not f.is_standard and f.type is not None
    }
    entries = space_entries(
        space.record_id, kind, space.company_id, standard, space.custom or {}, custom_types
    )
    if entries and session.get_bind().dialect.name == "postgresql":
        # one round trip: the DELETE runs as a data-modifying CTE of the INSERT (it sees only
        # the rows that existed before the statement)
        session.execute(
            insert(SearchEntry).values(entries).add_cte(old_rows.cte("old_rows")),
            execution_options={"synchronize_session": False},
        )
        return
    session.execute(old_rows.execution_options(synchronize_session=False))
    _write(session, entries)


@rls.unsafe_system_maintenance
def index_record(session: Session, record: Record, space: Space) -> None:
    """Index a new record: its core and its creator's space."""
    with rls.unsafe_system_scope(session):
        _index_core(session, record)
        _index_space(session, record.kind, space)


def reindex_all(session: Session) -> int:
    """Rebuild the whole index from records, spaces and templates; returns the rows written.

    For migrations and admin tooling only: it reads every record, so its reads are marked
    `UNSAFE` (and on PostgreSQL run in `rls.unsafe_system_scope`). It selects named columns
    only, so it runs on the schema of migration 0004 too.
    """
    with rls.unsafe_system_scope(session):
        return _reindex_all(session)


def _reindex_all(session: Session) -> int:
    session.execute(delete(SearchEntry).execution_options(synchronize_session=False))
    written = 0
    last: uuid.UUID | None = None
    while True:
        statement = (
            select(Record.id, Record.kind, *(getattr(Record, key) for key in CORE_FIELDS))
            .order_by(Record.id)
            .limit(CHUNK)
            .execution_options(**UNSAFE)
        )
        if last is not None:
            statement = statement.where(Record.id > last)
        rows = session.execute(statement).mappings().all()
        if not rows:
            break
        entries = [e for row in rows for e in core_entries(row["id"], row["kind"], row)]
        _write(session, entries)
        written += len(entries)
        last = rows[-1]["id"]
    types: dict[tuple[uuid.UUID, str], dict[str, str]] = {
        (company_id, kind): custom_types_of(definition)
        for company_id, kind, definition in session.execute(
            select(Template.company_id, Template.kind, Template.definition)
        )
    }
    after: tuple[uuid.UUID, uuid.UUID] | None = None
    while True:
        spaces = (
            select(
                Space.record_id,
                Space.company_id,
                Record.kind,
                *(getattr(Space, key) for key in STANDARD_TEXT_FIELDS),
                Space.custom,
            )
            .join(Record, Record.id == Space.record_id)
            .order_by(Space.record_id, Space.company_id)
            .limit(CHUNK)
            .execution_options(**UNSAFE)
        )
        if after is not None:
            spaces = spaces.where(
                or_(
                    Space.record_id > after[0],
                    and_(Space.record_id == after[0], Space.company_id > after[1]),
                )
            )
        rows = session.execute(spaces).mappings().all()
        if not rows:
            break
        entries = [
            e
            for row in rows
            for e in space_entries(
                row["record_id"],
                row["kind"],
                row["company_id"],
                row,
                row["custom"] or {},
                types.get((row["company_id"], row["kind"]), {}),
            )
        ]
        _write(session, entries)
        written += len(entries)
        after = (rows[-1]["record_id"], rows[-1]["company_id"])
    if session.get_bind().dialect.name == "sqlite":
        # the triggers kept FTS5 in step; a rebuild also repairs an index that had drifted
        session.execute(
            text(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
        )
    session.flush()
    return written


# --- the query -------------------------------------------------------------------------------


class SearchMatch(BaseModel):
    owner_company_id: uuid.UUID | None = Field(
        description="The company whose space holds the field; null for the shared core"
    )
    field: str
    label: str
    snippet: str = Field(description="A short excerpt of the visible value around the match")


class SearchHit(BaseModel):
    record_id: uuid.UUID
    kind: str
    title: str
    matches: list[SearchMatch]


def _visible_entries(
    principal: Principal, policies: Mapping[str, OwnFieldPolicy]
) -> ColumnElement[bool]:
    """Index rows of records the principal may read, of fields it may see (see the module)."""
    entry = SearchEntry
    clauses: list[ColumnElement[bool]] = []
    for kind, own in policies.items():
        own_keys = sorted(own.visible_standard | own.visible_custom)
        partner_active = exists().where(
            Participant.record_id == entry.record_id,
            Participant.company_id == entry.owner_company_id,
            Participant.status == ParticipantStatus.ACTIVE.value,
        )
        partner_shares = exists().where(
            shared_to(kind, entry.owner_company_id, principal.company_id),
            FieldShare.field_key == entry.field_key,
        )
        field_visible = or_(
            entry.owner_company_id.is_(None),
            and_(
                entry.owner_company_id == principal.company_id,
                entry.field_key.in_(own_keys) if own_keys else false(),
            ),
            and_(entry.owner_company_id != principal.company_id, partner_active, partner_shares),
        )
        clauses.append(
            and_(
                entry.kind == kind,
                entry.record_id.in_(gate.visible_ids(principal, kind)),
                field_visible,
            )
        )
    return or_(*clauses)


def search(
    session: Session,
    actor: Actor,
    q: str,
    *,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[SearchHit], str | None]:
    """Records the actor may see with a visible field matching every word of `q`, newest
    first, each with the visible fields that matched and a snippet of each."""
    check_limit(limit)
    terms = parse_query(q)
    after = decode_cursor(cursor, _CURSOR)[0] if cursor else None
    if not terms:
        return [], None
    principal = actor.principal
    kinds = [kind] if kind is not None else [k.value for k in Kind]
    own_templates = {k: templates.load(session, actor.company_id, k) for k in kinds}
    policies = {k: t.own_policy(principal.hide_private) for k, t in own_templates.items()}
    visible = _visible_entries(principal, policies)
    dialect = session.get_bind().dialect.name
    hits = [_match(dialect, term) for term in terms]

    page = (
        select(SearchEntry.record_id)
        .where(visible, or_(*hits))
        .group_by(SearchEntry.record_id)
        .order_by(SearchEntry.record_id.desc())
        .limit(limit + 1)
        .execution_options(**rls.as_company(principal.company_id))
    )
    if len(hits) > 1:  # every word, each in some visible field of the record
        page = page.having(and_(*(func.max(case((hit, 1), else_=0)) == 1 for hit in hits)))
    if after is not None:
        page = page.where(SearchEntry.record_id < after)
    ids = list(session.scalars(page))
    next_cursor = None
    if len(ids) > limit:
        ids = ids[:limit]
        next_cursor = encode_cursor([ids[-1]])
    if not ids:
        return [], None

    records: dict[uuid.UUID, Record] = {}
    for k in kinds:
        for record in session.scalars(gate.visible(principal, k).where(Record.id.in_(ids))):
            records[record.id] = record
    rows = session.execute(
        select(
            SearchEntry.record_id,
            SearchEntry.kind,
            SearchEntry.owner_company_id,
            SearchEntry.field_key,
            SearchEntry.content,
        )
        .where(SearchEntry.record_id.in_(ids), visible, or_(*hits))
        .order_by(SearchEntry.id)
        .execution_options(**rls.as_company(principal.company_id))
    ).all()
    partners = {
        k: templates.load_many(
            session,
            {r.owner_company_id for r in rows if r.kind == k and r.owner_company_id is not None}
            - {actor.company_id},
            k,
        )
        for k in kinds
    }

    def label(kind_: str, owner: uuid.UUID | None, key: str) -> tuple[int, str, int, str]:
        """(group, company, position, label): core first, then mine, then partners."""
        if owner is None:
            return 0, "", list(CORE_FIELDS).index(key), CORE_FIELDS[key]
        mine = owner == actor.company_id
        template = own_templates[kind_] if mine else partners[kind_][owner]
        definition = template.by_key.get(key)
        position = template.fields.index(definition) if definition else len(template.fields)
        text_label = (definition.label if definition else None) or key
        return (1 if mine else 2), str(owner), position, text_label

    by_record: dict[uuid.UUID, list[tuple[tuple[int, str, int, str], SearchMatch]]] = {
        i: [] for i in ids
    }
    for row in rows:
        order = label(row.kind, row.owner_company_id, row.field_key)
        by_record[row.record_id].append(
            (
                order,
                SearchMatch(
                    owner_company_id=row.owner_company_id,
                    field=row.field_key,
                    label=order[3],
                    snippet=snippet(row.content, terms),
                ),
            )
        )
    items = [
        SearchHit(
            record_id=i,
            kind=records[i].kind,
            title=records[i].title,
            matches=[m for _, m in sorted(by_record[i], key=lambda pair: pair[0][:3])],
        )
        for i in ids
        if i in records
    ]
    return items, next_cursor


def core_word_matches(
    dialect: str, principal: Principal, kind: str, words: Sequence[str], field_keys: Sequence[str]
) -> Select[uuid.UUID]:
    """Ids of records of `kind` the principal may read whose shared-core fields `field_keys`
    (title, customer_name...) hold any of `words` (normalized as `search_terms` gives them; a
    word of four letters or more also matches as a prefix). Answered by the index, not by a
    scan: match-or-create (`coterie.sync.matching`) narrows its candidates with it."""
    if not words or not field_keys:
        return select(SearchEntry.record_id).where(false())
    hits = [_match(dialect, Term(word, prefix=len(word) >= 4)) for word in words]
    return (
        select(SearchEntry.record_id)
        .where(
            SearchEntry.kind == kind,
            SearchEntry.owner_company_id.is_(None),
            SearchEntry.field_key.in_(list(field_keys)),
            SearchEntry.record_id.in_(gate.visible_ids(principal, kind)),
            or_(*hits),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def snippet(content: str, terms: Sequence[Term]) -> str:
    """About SNIPPET_CHARS characters of `content` around its first matching word."""
    flat = " ".join(content.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    start = _first_hit(flat, terms)
    left = max(0, start - SNIPPET_CHARS // 3)
    right = min(len(flat), left + SNIPPET_CHARS)
    left = max(0, right - SNIPPET_CHARS)
    if left > 0:
        space = flat.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(flat):
        space = flat.rfind(" ", start, right)
        right = space if space > start else right
    return ("…" if left > 0 else "") + flat[left:right] + ("…" if right < len(flat) else "")


def _first_hit(value: str, terms: Iterable[Term]) -> int:
    wanted = list(terms)
    for found in _WORD.finditer(value):
        if any(t.hits(w) for w in search_terms(found.group()) for t in wanted):
            return found.start()
    return 0
