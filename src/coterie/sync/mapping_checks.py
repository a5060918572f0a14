"""A mapping as an admin saves it, checked against both sides before it is stored.

Every problem is reported at once, each at its field path (`body.fields.2.remote`):
- the CRM object exists and syncs this record kind;
- each Coterie field is one of `localfields.catalog` (the core, my template, a partner's field
  only while that partner shares it with my company): a partner's private field is refused;
- each CRM field exists in the object as the connector describes it now, and is written to
  only when the CRM lets us;
- no field is mapped twice on either side;
- a picklist map sends only the CRM's own choices, from my own options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coterie.kit.problems import Problem
from coterie.sync.connectors.base import FieldType, RemoteObject
from coterie.sync.localfields import LocalField
from coterie.sync.mapping import FieldMap
from coterie.sync.schemas import MappingIn

_PATH = "body"


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append({"path": f"{_PATH}.{path}", "message": message, "type": "invalid"})

    def raise_any(self) -> None:
        if self.items:
            detail = "; ".join(f"{e['path']}: {e['message']}" for e in self.items[:5])
            raise Problem(422, "validation-error", "Invalid request", detail, errors=self.items)


def _check_field(
    errors: _Errors,
    index: int,
    field: FieldMap,
    obj: RemoteObject,
    local: dict[str, LocalField],
) -> None:
    at = f"fields.{index}"
    mine = local.get(field.local)
    if mine is None:
        message = (
            "is not a field a partner shares with your company"
            if field.is_partner
            else "is not a field of this kind of record"
        )
        errors.add(f"{at}.local", message)
    remote = obj.field(field.remote)
    if remote is None:
        errors.add(f"{at}.remote", f"is not a field of {obj.label} in the CRM")
        return
    if field.goes_out and not remote.writable:
        errors.add(
            f"{at}.direction",
            f"{remote.label} cannot be written in the CRM: choose “Into Coterie only”",
        )
    if field.transform.kind == "map":
        allowed = set(remote.choices)
        options = {value for value, _ in mine.options} if mine and mine.options else None
        for ours, theirs in field.transform.choices.items():
            if options is not None and ours not in options:
                errors.add(f"{at}.transform.choices.{ours}", "is not one of your options")
            if remote.type == FieldType.PICKLIST and theirs not in allowed:
                errors.add(
                    f"{at}.transform.choices.{ours}",
                    f"“{theirs}” is not a choice of {remote.label} in the CRM",
                )


def check(
    data: MappingIn, kind: str, objects: Sequence[RemoteObject], local: dict[str, LocalField]
) -> None:
    """422 with every offending path, or nothing."""
    errors = _Errors()
    obj = next((o for o in objects if o.name == data.remote_object), None)
    if obj is None or kind not in obj.kinds:
        errors.add("remote_object", f"is not a CRM object that holds {kind} records")
        errors.raise_any()
        return
    seen_local: set[str] = set()
    seen_remote: set[str] = set()
    for index, field in enumerate(data.fields):
        _check_field(errors, index, field, obj, local)
        if field.local in seen_local:
            errors.add(f"fields.{index}.local", "is already mapped on another row")
        if field.remote in seen_remote:
            errors.add(f"fields.{index}.remote", "is already mapped on another row")
        seen_local.add(field.local)
        seen_remote.add(field.remote)
    errors.raise_any()
