"""Where a write in this session comes from, when it is not a person at a screen: a CRM
connection's sync writing as its admin. The change log keeps it (`record_changes.via`), so the
company's own timeline says "Ada Admin (from Tryton) changed Amount" instead of crediting the
admin with an edit made in the CRM. Set and cleared by the sync (`coterie.sync.queueing`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

_VIA = "coterie.origin.via"
MAX_VIA = 80


def set_via(session: Session, label: str | None) -> None:
    if label is None:
        session.info.pop(_VIA, None)
    else:
        session.info[_VIA] = label[:MAX_VIA]


def via(session: Session) -> str | None:
    value = session.info.get(_VIA)
    return value if isinstance(value, str) else None
