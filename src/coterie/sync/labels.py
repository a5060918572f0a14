"""Names people read for sync things: a CRM's name ("Salesforce"), a mapped field's label from
my company's template (not its reference `space.amount`), and a canonical value as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coterie.fields.templates import CompanyTemplate
from coterie.sync.connectors import registry
from coterie.sync.mapping import CORE_FIELDS

EMPTY = "(empty)"


def crm_label(kind: str) -> str:
    """The connector's label, or the kind itself when that connector is not installed here."""
    try:
        return registry.connector_class(kind).label
    except registry.UnknownConnector:  # also one that failed to load (left out of `installed`)
        return kind.capitalize()


@dataclass(frozen=True)
class FieldInfo:
    label: str
    private: bool = False
    choices: dict[str, str] = field(default_factory=dict)
    boolean: bool = False

    def show(self, value: Any) -> str:
        if value is None:
            return EMPTY
        if self.boolean or isinstance(value, bool):
            return "Yes" if value in (True, "true", "True") else "No"
        if isinstance(value, list):
            return ", ".join(self.show(v) for v in value) or EMPTY
        return self.choices.get(str(value), str(value))


def field_info(template: CompanyTemplate, ref: str) -> FieldInfo:
    """How a local field reference reads on my company's pages."""
    if ref in CORE_FIELDS:
        return FieldInfo(CORE_FIELDS[ref])
    if ref.startswith("space."):
        key = ref.removeprefix("space.")
        definition = template.by_key.get(key)
        if definition is None:
            return FieldInfo(key.replace("_", " ").capitalize())
        choices = {o.key: o.label for o in definition.options or []}
        return FieldInfo(
            definition.label or key,
            private=definition.visibility_mode() == "private",
            choices=choices,
            boolean=definition.type is not None and definition.type.value == "bool",
        )
    return FieldInfo(ref)
