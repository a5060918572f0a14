"""The field map of a connection's object: which Coterie field meets which CRM field, in which
direction, which side wins a both-sides edit, and how values are transformed on the way.

A local field is named by a reference:
- `record.title`, `record.customer_name`, `record.customer_domain`, `record.description`,
  `record.account` (the account record, as a CRM reference): the shared core, written back only
  when the connection's company owns the record;
- `space.<key>`: a field of my company's space (a standard field such as `space.amount` or a
  custom field of my template);
- `partner.<company id>.<key>`: a partner's field, only ever into the CRM (read-only there), and
  only while the partner shares it with my company (the gate masks it otherwise).

Values are compared in a canonical JSON form (`canonical`): numbers as normalised decimal
strings, dates as ISO strings, references as `object:id`, empty text as None, so 1000, 1000.0
and "1000.00" are the same value and an echo of our own write is recognised.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from coterie.sync.connectors.base import RemoteRef

CORE_FIELDS = {
    "record.title": "Title",
    "record.customer_name": "Customer name",
    "record.customer_domain": "Customer domain",
    "record.description": "Description",
    "record.account": "Account",
}


class Direction(StrEnum):
    BOTH = "both"
    INTO_COTERIE = "in"
    INTO_CRM = "out"


class Owner(StrEnum):
    COTERIE = "coterie"
    CRM = "crm"


class OnCrmDelete(StrEnum):
    """A CRM delete never deletes a shared record in Coterie: partners' data lives on it."""

    UNLINK = "unlink"  # keep the Coterie record, stop syncing it (even after a CRM restore)
    ARCHIVE = "archive"  # keep the record and a tombstoned link, shown as deleted in the CRM


class OnCoterieDelete(StrEnum):
    UNLINK = "unlink"  # leave the CRM record alone
    DELETE = "delete"  # delete it in the CRM (Salesforce: to the recycle bin)


class Transform(BaseModel):
    kind: Literal["none", "map", "date", "currency"] = "none"
    choices: dict[str, str] = Field(default_factory=dict)
    """For "map": Coterie value -> CRM value (stages, picklists)."""
    currency: str | None = None
    """For "currency": the CRM's currency; `rates` convert from others (1 unit = rate CRM units)."""
    rates: dict[str, str] = Field(default_factory=dict)


class FieldMap(BaseModel):
    local: str
    remote: str
    direction: Direction = Direction.BOTH
    owner: Owner = Owner.COTERIE
    transform: Transform = Field(default_factory=Transform)

    @field_validator("local")
    @classmethod
    def _known_reference(cls, value: str) -> str:
        if value in CORE_FIELDS:
            return value
        if value.startswith("space.") and len(value) > len("space."):
            return value
        parts = value.split(".")
        if len(parts) == 3 and parts[0] == "partner":
            uuid.UUID(parts[1])
            return value
        raise ValueError("must be record.<field>, space.<field> or partner.<company>.<field>")

    @model_validator(mode="after")
    def _partner_values_only_go_out(self) -> FieldMap:
        if self.is_partner:
            self.direction = Direction.INTO_CRM
            self.owner = Owner.COTERIE
        return self

    @property
    def is_partner(self) -> bool:
        return self.local.startswith("partner.")

    @property
    def is_core(self) -> bool:
        return self.local.startswith("record.")

    @property
    def space_key(self) -> str | None:
        return self.local.removeprefix("space.") if self.local.startswith("space.") else None

    @property
    def goes_out(self) -> bool:
        return self.direction in (Direction.BOTH, Direction.INTO_CRM)

    @property
    def comes_in(self) -> bool:
        return self.direction in (Direction.BOTH, Direction.INTO_COTERIE) and not self.is_partner


def parse_fields(raw: list[dict[str, Any]]) -> list[FieldMap]:
    return [FieldMap.model_validate(item) for item in raw]


# --- canonical values ---------------------------------------------------------------------


def _decimal_text(value: Decimal) -> str:
    normal = value.normalize()
    return format(normal, "f") if normal == normal.to_integral_value() else str(normal)


def canonical(value: Any) -> Any:
    """The JSON form values are compared and stored in (shadows, conflicts)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _decimal_text(Decimal(str(value)))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, RemoteRef):
        return f"{value.object}:{value.remote_id}"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict) and "value" in value:  # money as the API shows it
        amount = _as_decimal(value["value"])
        return canonical(amount if amount is not None else value["value"])
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return str(value)


def _as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def to_remote(field: FieldMap, local: Any, *, local_currency: str | None = None) -> Any:
    """A canonical Coterie value as the CRM field takes it."""
    if local is None:
        return None
    transform = field.transform
    if transform.kind == "map":
        return transform.choices.get(str(local), local)
    if transform.kind == "date":
        return date.fromisoformat(str(local)[:10])
    if transform.kind == "currency":
        amount = _as_decimal(local)
        if amount is None:
            return local
        if transform.currency and local_currency and local_currency != transform.currency:
            rate = _as_decimal(transform.rates.get(local_currency))
            if rate is None:
                raise ValueError(
                    f"no rate from {local_currency} to {transform.currency} in the mapping"
                )
            amount = (amount * rate).quantize(Decimal("0.01"))
        return amount
    return local


def to_local(field: FieldMap, remote: Any) -> Any:
    """A CRM value as the Coterie field takes it (canonical JSON)."""
    value = canonical(remote)
    if value is None:
        return None
    transform = field.transform
    if transform.kind == "map":
        for ours, theirs in transform.choices.items():
            if theirs == value:
                return ours
        return value
    if transform.kind == "date":
        return str(value)[:10]
    return value
