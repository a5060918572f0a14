"""The field map a new connection starts with, per CRM object: what an admin would map first.

Known objects of the connectors shipped with Coterie name their fields exactly (keyed by
connector kind and object name); any other object, including a third party's, gets the generic
guess: each wanted Coterie field meets the first CRM field whose name or label matches one of
a few usual words and whose type fits. A CRM field that does not exist (any more) is skipped,
each CRM field is used once, and a field the CRM does not let us write only flows into Coterie.
Every default goes both ways with Coterie winning a both-sides edit; the admin changes that in
the mapping editor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from coterie.sync.connectors.base import FieldType, RemoteField, RemoteObject
from coterie.sync.mapping import Direction, FieldMap, Owner, Transform

_TEXT = (FieldType.TEXT,)
_AMOUNT = (FieldType.MONEY, FieldType.NUMBER)
_DATE = (FieldType.DATE, FieldType.DATETIME)
_REFERENCE = (FieldType.REFERENCE,)


@dataclass(frozen=True)
class Want:
    """A Coterie field and the CRM field names or labels it usually meets."""

    local: str
    words: tuple[str, ...]
    types: tuple[FieldType, ...]
    transform: str = "none"


_TITLE = Want("record.title", ("name", "title", "subject", "description"), _TEXT)
_AMOUNT_WANT = Want("space.amount", ("amount", "value", "total", "expected amount"), _AMOUNT)
_CLOSE = Want(
    "space.close_date",
    ("close date", "closedate", "expected close", "end date", "enddate", "close"),
    _DATE,
    "date",
)
_ACCOUNT = Want("record.account", ("account", "accountid", "party", "customer"), _REFERENCE)
_DESCRIPTION = Want("record.description", ("description", "comment", "notes"), _TEXT)
_WEBSITE = Want("record.customer_domain", ("website", "web site", "domain", "url"), _TEXT)
_COMPANY = Want("record.customer_name", ("company", "account name", "organisation"), _TEXT)

GENERIC: dict[str, tuple[Want, ...]] = {
    "opportunity": (_TITLE, _AMOUNT_WANT, _CLOSE, _ACCOUNT, _DESCRIPTION),
    "lead": (_TITLE, _COMPANY, _WEBSITE, _AMOUNT_WANT, _DESCRIPTION),
    "account": (_TITLE, _WEBSITE, _DESCRIPTION),
}

# exact field names of the objects of the connectors shipped with Coterie (local ref -> field)
KNOWN: dict[tuple[str, str], dict[str, str]] = {
    ("salesforce", "Opportunity"): {
        "record.title": "Name",
        "space.amount": "Amount",
        "space.close_date": "CloseDate",
        "record.account": "AccountId",
        "record.description": "Description",
    },
    ("salesforce", "Account"): {
        "record.title": "Name",
        "record.customer_domain": "Website",
        "record.description": "Description",
    },
    ("salesforce", "Lead"): {
        "record.title": "Title",
        "record.customer_name": "Company",
        "record.customer_domain": "Website",
        "record.description": "Description",
    },
    ("tryton", "sale.opportunity"): {
        "record.title": "description",
        "space.amount": "amount",
        "space.close_date": "end_date",
        "record.account": "party",
        "record.description": "comment",
    },
    ("tryton", "party.party"): {"record.title": "name", "record.customer_domain": "website"},
}


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _fits(field: RemoteField, want: Want) -> bool:
    return field.type in want.types


def _guess(obj: RemoteObject, want: Want, used: set[str]) -> RemoteField | None:
    free = [f for f in obj.fields if f.name not in used and _fits(f, want)]
    for word in want.words:
        for field in free:
            if word in (_words(field.name), _words(field.label)):
                return field
    return None


def _transform(field: RemoteField, want: Want) -> Transform:
    if want.transform == "date" or field.type == FieldType.DATE:
        return Transform(kind="date") if field.type in _DATE else Transform()
    return Transform()


def default_fields(connector_kind: str, obj: RemoteObject, record_kind: str) -> list[FieldMap]:
    """The starting field map of `obj` synced as Coterie `record_kind` records."""
    wants = GENERIC.get(record_kind, (_TITLE, _DESCRIPTION))
    known = KNOWN.get((connector_kind, obj.name), {})
    used: set[str] = set()
    fields: list[FieldMap] = []
    for want in wants:
        named = known.get(want.local)
        field = obj.field(named) if named else None
        if field is None or field.name in used:
            field = _guess(obj, want, used)
        if field is None:
            continue
        used.add(field.name)
        fields.append(
            FieldMap(
                local=want.local,
                remote=field.name,
                direction=Direction.BOTH if field.writable else Direction.INTO_COTERIE,
                owner=Owner.COTERIE,
                transform=_transform(field, want),
            )
        )
    return fields


def as_stored(fields: list[FieldMap]) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in fields]
