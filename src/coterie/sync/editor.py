"""The mapping editor's form: rows of selects read into a `MappingIn`, and the rows as the
template draws them (labels on both sides, the words of each choice, the picklist sub-table).

Inputs are named per row (`row-3-local`, `row-3-remote`, `row-3-direction`, `row-3-owner`,
`row-3-transform`, and for a picklist map `row-3-map-0-ours` / `row-3-map-0-theirs`); `rows`
says how many rows the form had. Nobody types JSON or sees a raw key: Coterie fields and CRM
fields are offered by label, partner fields grouped under the partner's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from coterie.models.sync import SyncMapping
from coterie.sync.connectors.base import FieldType, RemoteField, RemoteObject
from coterie.sync.localfields import LocalField
from coterie.sync.mapping import Direction, OnCoterieDelete, OnCrmDelete, Owner
from coterie.sync.schemas import MappingIn
from coterie.web.forms import FormFields, errors_from_validation

MAX_ROWS = 200
DIRECTIONS = (
    (Direction.BOTH.value, "Both ways"),
    (Direction.INTO_COTERIE.value, "Into Coterie only"),
    (Direction.INTO_CRM.value, "Into the CRM only"),
)
OWNERS = ((Owner.COTERIE.value, "Coterie wins"), (Owner.CRM.value, "CRM wins"))
TRANSFORMS = (
    ("none", "As is"),
    ("date", "Date only (no time)"),
    ("map", "Match choices"),
    ("currency", "Convert currency"),
)
ON_CRM_DELETE = (
    (OnCrmDelete.UNLINK.value, "Keep the Coterie record and forget the link"),
    (OnCrmDelete.ARCHIVE.value, "Keep the Coterie record, marked as deleted in the CRM"),
)
ON_COTERIE_DELETE = (
    (OnCoterieDelete.UNLINK.value, "Leave the CRM record alone"),
    (OnCoterieDelete.DELETE.value, "Delete the CRM record too"),
)


@dataclass
class Row:
    local: str = ""
    remote: str = ""
    direction: str = Direction.BOTH.value
    owner: str = Owner.COTERIE.value
    transform: str = "none"
    choices: dict[str, str] = field(default_factory=dict)
    currency: str = ""
    rates: dict[str, str] = field(default_factory=dict)

    def as_field(self) -> dict[str, Any]:
        transform: dict[str, Any] = {"kind": self.transform}
        if self.transform == "map":
            transform["choices"] = {k: v for k, v in self.choices.items() if v}
        if self.transform == "currency":
            transform["currency"] = self.currency or None
            transform["rates"] = self.rates
        return {
            "local": self.local,
            "remote": self.remote,
            "direction": self.direction,
            "owner": self.owner,
            "transform": transform,
        }


@dataclass
class Draft:
    """A mapping as the form holds it (saved or being edited)."""

    remote_object: str
    create_in_coterie: bool
    create_in_crm: bool
    on_crm_delete: str
    on_coterie_delete: str
    rows: list[Row]
    enabled: bool = True


def from_mapping(mapping: SyncMapping) -> Draft:
    rows = []
    for item in mapping.fields:
        transform = item.get("transform") or {}
        rows.append(
            Row(
                local=str(item.get("local", "")),
                remote=str(item.get("remote", "")),
                direction=str(item.get("direction", Direction.BOTH.value)),
                owner=str(item.get("owner", Owner.COTERIE.value)),
                transform=str(transform.get("kind", "none")),
                choices=dict(transform.get("choices") or {}),
                currency=str(transform.get("currency") or ""),
                rates=dict(transform.get("rates") or {}),
            )
        )
    return Draft(
        remote_object=mapping.remote_object,
        create_in_coterie=mapping.create_in_coterie,
        create_in_crm=mapping.create_in_crm,
        on_crm_delete=mapping.on_crm_delete,
        on_coterie_delete=mapping.on_coterie_delete,
        rows=rows,
        enabled=mapping.enabled,
    )


def _row(form: FormFields, i: int) -> Row:
    prefix = f"row-{i}-"
    choices: dict[str, str] = {}
    for n in range(MAX_ROWS):
        ours = form.text(f"{prefix}map-{n}-ours")
        if not ours:
            break
        choices[ours] = form.text(f"{prefix}map-{n}-theirs")
    rates = {}
    for code in form.texts(f"{prefix}rate-codes"):
        rates[code] = form.text(f"{prefix}rate-{code}")
    return Row(
        local=form.text(f"{prefix}local"),
        remote=form.text(f"{prefix}remote"),
        direction=form.text(f"{prefix}direction") or Direction.BOTH.value,
        owner=form.text(f"{prefix}owner") or Owner.COTERIE.value,
        transform=form.text(f"{prefix}transform") or "none",
        choices=choices,
        currency=form.text(f"{prefix}currency").upper(),
        rates=rates,
    )


def from_form(form: FormFields, op: str = "") -> Draft:
    """The draft the form holds, with `op` applied: `add` a row, `remove:<i>` one."""
    try:
        count = min(int(form.text("rows") or "0"), MAX_ROWS)
    except ValueError:
        count = 0
    rows = [_row(form, i) for i in range(count)]
    if op == "add" and len(rows) < MAX_ROWS:
        rows.append(Row())
    elif op.startswith("remove:"):
        index = op.removeprefix("remove:")
        if index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
    return Draft(
        remote_object=form.text("remote_object"),
        create_in_coterie=form.flag("create_in_coterie"),
        create_in_crm=form.flag("create_in_crm"),
        on_crm_delete=form.text("on_crm_delete") or OnCrmDelete.UNLINK.value,
        on_coterie_delete=form.text("on_coterie_delete") or OnCoterieDelete.UNLINK.value,
        rows=rows,
    )


def to_input(draft: Draft) -> tuple[MappingIn | None, dict[str, str]]:
    """The draft as the service takes it, or the errors by field path (`fields.2.remote`);
    rows left entirely blank are dropped."""
    rows = [r for r in draft.rows if r.local or r.remote]
    errors: dict[str, str] = {}
    for i, row in enumerate(rows):
        if not row.local:
            errors[f"fields.{i}.local"] = "Choose a Coterie field."
        if not row.remote:
            errors[f"fields.{i}.remote"] = "Choose a CRM field."
    if errors:
        draft.rows = rows
        return None, errors
    try:
        data = MappingIn.model_validate(
            {
                "remote_object": draft.remote_object,
                "enabled": draft.enabled,
                "create_in_coterie": draft.create_in_coterie,
                "create_in_crm": draft.create_in_crm,
                "on_crm_delete": draft.on_crm_delete,
                "on_coterie_delete": draft.on_coterie_delete,
                "fields": [r.as_field() for r in rows],
            }
        )
    except ValidationError as exc:
        draft.rows = rows
        return None, errors_from_validation(exc)
    draft.rows = rows
    return data, {}


# --- drawing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapLine:
    ours: str
    ours_label: str
    theirs: str


@dataclass(frozen=True)
class RowView:
    index: int
    row: Row
    local: LocalField | None
    remote: RemoteField | None
    picklist: bool  # the CRM field offers fixed choices
    map_lines: tuple[MapLine, ...]
    transforms: tuple[tuple[str, str], ...]


def _map_lines(row: Row, local: LocalField | None) -> tuple[MapLine, ...]:
    if local is not None and local.options:
        return tuple(MapLine(v, label, row.choices.get(v, "")) for v, label in local.options)
    return tuple(MapLine(k, k, v) for k, v in row.choices.items())


def _transforms(
    local: LocalField | None, remote: RemoteField | None
) -> tuple[tuple[str, str], ...]:
    offered = ["none"]
    if remote is not None and remote.type in (FieldType.DATE, FieldType.DATETIME):
        offered.append("date")
    if remote is not None and (remote.choices or (local is not None and local.options)):
        offered.append("map")
    if local is not None and local.type == "money":
        offered.append("currency")
    return tuple((k, label) for k, label in TRANSFORMS if k in offered)


def views(draft: Draft, obj: RemoteObject | None, local: dict[str, LocalField]) -> list[RowView]:
    out = []
    for i, row in enumerate(draft.rows):
        mine = local.get(row.local)
        remote = obj.field(row.remote) if obj is not None and row.remote else None
        picklist = remote is not None and remote.type == FieldType.PICKLIST
        if picklist and row.transform == "none" and mine is not None and mine.options:
            row.transform = "map"  # a picklist just chosen: its choices are to be matched
        if mine is not None and mine.partner:
            row.direction, row.owner = Direction.INTO_CRM.value, Owner.COTERIE.value
        transforms = _transforms(mine, remote)
        if row.transform not in {k for k, _ in transforms}:
            row.transform = "none"
        lines = _map_lines(row, mine) if row.transform == "map" else ()
        out.append(RowView(i, row, mine, remote, picklist, lines, transforms))
    return out


def local_groups(fields: list[LocalField]) -> list[tuple[str, list[LocalField]]]:
    groups: dict[str, list[LocalField]] = {}
    for f in fields:
        groups.setdefault(f.group, []).append(f)
    return list(groups.items())
