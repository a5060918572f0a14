"""Templates as read: a company's fields for one record kind (`CompanyTemplate`), loaded once
per transaction and parsed once per process. Saving one is `coterie.records.templates.save`,
which tells this module's cache through `mark_written`.

Parsing a stored definition (Pydantic-validating its `FieldDefinition`s) is the costly part of a
read; a list page shows the labels of dozens of partners' templates. Parsed templates are kept
process-wide (`_ParsedCache`), per engine (never shared across databases, even when company ids
repeat), keyed by (company, kind, version, updated_at): every read still asks the database for
those key columns in its own transaction, and fetches and parses a definition only when the key
is new. Every change of a definition goes through `save`, which bumps `version` and
`updated_at`, so a changed template always has a new key and an old entry is simply never asked
for again (the LRU drops it); the other writers only insert fresh rows (the bench generator) or
move `updated_at` (the demo's backdating), which changes the key too. Entries are never filled
from a transaction that flushed templates itself (it may yet roll back). `CompanyTemplate`s are
shared between requests and threads: never mutate one.
"""

from __future__ import annotations

import functools
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from coterie.fields.defaults import default_fields
from coterie.fields.definitions import STANDARD_FIELDS, FieldDefinition, default_definition
from coterie.fields.policy import OwnFieldPolicy
from coterie.kit import txcache
from coterie.models import Template


class TemplateOut(BaseModel):
    kind: str
    version: int
    fields: list[FieldDefinition]
    retired: list[FieldDefinition] = Field(
        default_factory=list, description="Removed fields; re-adding a key restores its values."
    )


class CompanyTemplate:
    """A company's effective template for a kind: every standard field plus its custom fields."""

    def __init__(
        self, kind: str, version: int, fields: list[FieldDefinition], retired: list[FieldDefinition]
    ) -> None:
        self.kind = kind
        self.version = version
        listed = {f.key: f for f in fields}
        standard = [listed.get(key) or default_definition(key) for key in STANDARD_FIELDS]
        custom = [f for f in fields if not f.is_standard]
        self.fields: list[FieldDefinition] = standard + custom
        self.by_key = {f.key: f for f in self.fields}
        self.retired = retired

    def own_policy(self, hide_private: bool) -> OwnFieldPolicy:
        def shown(f: FieldDefinition) -> bool:
            return not (hide_private and f.visibility_mode() == "private")

        return OwnFieldPolicy(
            visible_standard=frozenset(f.key for f in self.fields if f.is_standard and shown(f)),
            visible_custom=frozenset(f.key for f in self.fields if not f.is_standard and shown(f)),
        )

    def out(self) -> TemplateOut:
        return TemplateOut(
            kind=self.kind, version=self.version, fields=self.fields, retired=self.retired
        )


def _parse_stored(raw: list[dict[str, Any]]) -> list[FieldDefinition]:
    return [FieldDefinition.model_validate(item) for item in raw]


txcache.register("templates", Template)

PROCESS_CACHE_SIZE = 1024  # parsed templates kept per engine (about 20 kB each: ~20 MB at most)
_Key = tuple[uuid.UUID, str, int, datetime]  # company, kind, version, updated_at
_WROTE = "coterie_templates_written"  # session.info: weakref to a transaction that wrote some


class _ParsedCache:
    """Parsed templates of one database, least recently used dropped first (thread-safe)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[_Key, CompanyTemplate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> CompanyTemplate | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: _Key, template: CompanyTemplate) -> None:
        with self._lock:
            self._entries[key] = template
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


_PARSED: weakref.WeakKeyDictionary[Engine, _ParsedCache] = weakref.WeakKeyDictionary()
_PARSED_LOCK = threading.Lock()


def parsed_cache_of(engine: Engine) -> _ParsedCache:
    """The process-wide cache of parsed templates read through `engine` (one database)."""
    with _PARSED_LOCK:
        found = _PARSED.get(engine)
        if found is None:
            found = _PARSED[engine] = _ParsedCache(PROCESS_CACHE_SIZE)
        return found


def _parsed_cache(session: Session) -> _ParsedCache:
    return parsed_cache_of(session.get_bind(Template).engine)


def _transaction(session: Session) -> SessionTransaction | None:
    transaction = session.get_transaction()
    while transaction is not None and transaction.parent is not None:
        transaction = transaction.parent
    return transaction


def mark_written(session: Session) -> None:
    """Tell the parsed cache that this transaction wrote templates without an ORM flush."""
    transaction = _transaction(session)
    if transaction is not None:
        session.info[_WROTE] = weakref.ref(transaction)


@event.listens_for(Session, "after_flush")
def _note_written(session: Session, _context: UOWTransaction) -> None:
    written = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(instance, Template) for instance in written):
        mark_written(session)


def _may_share(session: Session) -> bool:
    """Whether what this transaction reads of `record_templates` is committed data (it wrote
    none itself), so other transactions may be given it."""
    wrote: weakref.ref[SessionTransaction] | None = session.info.get(_WROTE)
    return wrote is None or wrote() is not _transaction(session)


def _fetch(
    session: Session, kind: str, keys: dict[uuid.UUID, _Key]
) -> dict[uuid.UUID, CompanyTemplate]:
    """The templates of `keys` (company -> key read in this transaction): parsed ones from the
    process cache, the others fetched, parsed and kept (under the key their own row carries)."""
    cache = _parsed_cache(session)
    found: dict[uuid.UUID, CompanyTemplate] = {}
    missing: list[uuid.UUID] = []
    for company_id, key in keys.items():
        hit = cache.get(key)
        if hit is None:
            missing.append(company_id)
        else:
            found[company_id] = hit
    if not missing:
        return found
    share = _may_share(session)
    rows = session.execute(
        select(
            Template.company_id, Template.version, Template.updated_at, Template.definition
        ).where(Template.company_id.in_(missing), Template.kind == kind)
    )
    for company_id, version, updated_at, definition in rows:
        template = _parse(kind, version, definition)
        found[company_id] = template
        if share:
            cache.put((company_id, kind, version, updated_at), template)
    return found


def _parse(kind: str, version: int, definition: dict[str, Any] | None) -> CompanyTemplate:
    stored = definition or {}
    return CompanyTemplate(
        kind,
        version,
        _parse_stored(stored.get("fields", [])),
        _parse_stored(stored.get("retired", [])),
    )


@functools.cache
def _empty(kind: str) -> CompanyTemplate:
    """The template of a company that saved none for `kind`: every standard field, private,
    and the kind's default custom fields (`coterie.fields.defaults`), private too."""
    return CompanyTemplate(kind, 0, default_fields(kind), [])


def _keys(session: Session, company_ids: Iterable[uuid.UUID], kind: str) -> dict[uuid.UUID, _Key]:
    rows = session.execute(
        select(Template.company_id, Template.version, Template.updated_at).where(
            Template.company_id.in_(list(company_ids)), Template.kind == kind
        )
    )
    return {row[0]: (row[0], kind, row[1], row[2]) for row in rows}


def load(session: Session, company_id: uuid.UUID, kind: str) -> CompanyTemplate:
    """The company's template for `kind` (read once per transaction)."""
    return load_many(session, {company_id}, kind)[company_id]


def load_many(
    session: Session, company_ids: set[uuid.UUID], kind: str
) -> dict[uuid.UUID, CompanyTemplate]:
    """Templates of several companies (each read once per transaction); callers show other
    companies only labels of fields whose values the gate let through."""
    cached = txcache.cache(session, "templates")
    wanted = {c for c in company_ids if (c, kind) not in cached}
    stamps: dict[uuid.UUID, Stamp | None] = dict.fromkeys(wanted)
    if wanted:
        stamps.update((key[0], (key[2], key[3])) for key in _keys(session, wanted, kind).values())
    return {
        **load_stamped(session, kind, stamps),
        **{c: cached[(c, kind)] for c in company_ids - wanted},
    }


Stamp = tuple[int, datetime]  # a template row's (version, updated_at)
STAMP_COLUMNS = (Template.version, Template.updated_at)


def load_stamped(
    session: Session, kind: str, stamps: dict[uuid.UUID, Stamp | None]
) -> dict[uuid.UUID, CompanyTemplate]:
    """Templates of companies whose stamps (`STAMP_COLUMNS` of their `kind` row, None: no row)
    the caller read in this transaction, e.g. joined to a query it runs anyway: parsed ones
    come from the process cache, templates read earlier in the transaction from there."""
    cached = txcache.cache(session, "templates")
    result: dict[uuid.UUID, CompanyTemplate] = {}
    keys: dict[uuid.UUID, _Key] = {}
    for company_id, stamp in stamps.items():
        hit: CompanyTemplate | None = cached.get((company_id, kind))
        if hit is not None:
            result[company_id] = hit
        elif stamp is not None:
            keys[company_id] = (company_id, kind, stamp[0], stamp[1])
        else:
            result[company_id] = cached[(company_id, kind)] = _empty(kind)
    if keys:
        found = _fetch(session, kind, keys)
        for company_id in keys:
            template = found.get(company_id) or _empty(kind)
            cached[(company_id, kind)] = template
            result[company_id] = template
    return result
