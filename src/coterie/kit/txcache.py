"""Values kept for the lifetime of a session's current transaction (one request's unit of work).

A write path reads the same small rows several times (the company's template, its access
rules); this keeps them for the rest of the transaction. Entries are tied to ORM classes: a
flush that writes an instance of one of them empties the entry, and a read flushes pending
changes of those classes first, so a transaction always sees its own writes. A new transaction
(after commit or rollback) starts empty. Never used for decisions across transactions.
"""

from __future__ import annotations

import weakref
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

_KEY = "coterie_txcache"
_WATCHED: dict[str, tuple[type, ...]] = {}


def register(name: str, *classes: type) -> None:
    """Declare entry `name`, emptied whenever instances of `classes` are flushed."""
    _WATCHED[name] = classes


def _entries(session: Session) -> dict[str, dict[Any, Any]] | None:
    transaction = session.get_transaction()
    if transaction is None:
        return None
    held = session.info.get(_KEY)
    if held is None or held[0]() is not transaction:
        held = (weakref.ref(transaction), {})
        session.info[_KEY] = held
    entries: dict[str, dict[Any, Any]] = held[1]
    return entries


def cache(session: Session, name: str) -> dict[Any, Any]:
    """The dict of entry `name` for the current transaction (a throwaway dict outside one)."""
    classes = _WATCHED[name]
    if any(
        isinstance(instance, classes)
        for instance in chain(session.new, session.dirty, session.deleted)
    ):
        session.flush()
    entries = _entries(session)
    if entries is None:
        return {}
    return entries.setdefault(name, {})


@event.listens_for(Session, "after_flush")
def _forget_written(session: Session, _context: UOWTransaction) -> None:
    held = session.info.get(_KEY)
    if held is None:
        return
    written = list(chain(session.new, session.dirty, session.deleted))
    for name, classes in _WATCHED.items():
        if any(isinstance(instance, classes) for instance in written):
            held[1].pop(name, None)
