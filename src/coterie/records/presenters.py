"""Shaping shared records for pages: display values, my own fields, form values and errors.

Pages show only what `coterie.records.service` returned. This module formats those values,
lays out the company's own fields from its template (to put a lock on private fields and a
badge on fields shared with chosen companies), and turns submitted form text back into the
field values the service expects. It never reads records, spaces or participants itself.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields.definitions import (
    DATE_PATTERN,
    STANDARD_FIELDS,
    CompaniesAudience,
    FieldDefinition,
    FieldType,
    default_definition,
)
from coterie.fields.kinds import Motion
from coterie.fields.templates import CompanyTemplate
from coterie.kit.problems import Problem
from coterie.models import User
from coterie.models.vocabulary import PartnershipStatus
from coterie.network import partnerships
from coterie.records.schemas import RecordOut, SpaceOut
from coterie.web.forms import FORM_ERROR, FormFields
from coterie.web.templating import LABELS

FIELD_PREFIX = "field."
EMPTY = "—"
MOTION_LABELS = {
    Motion.CO_SELL.value: "Co-sell",
    Motion.RESELL.value: "Resell",
    Motion.CROSS_SELL.value: "Cross-sell",
    Motion.RENEWAL.value: "Renewal",
    Motion.REFERRAL.value: "Referral",
}
TYPE_LABELS = {
    FieldType.TEXT.value: "Text",
    FieldType.LONG_TEXT.value: "Long text",
    FieldType.NUMBER.value: "Number",
    FieldType.MONEY.value: "Money",
    FieldType.DATE.value: "Date",
    FieldType.ENUM.value: "Choice",
    FieldType.MULTI_ENUM.value: "Multiple choice",
    FieldType.USER.value: "User",
    FieldType.BOOL.value: "Yes / no",
}
# Shown with the amount it belongs to: one currency column backs both standard fields.
NOT_SHOWN_ALONE = frozenset({"currency"})
_PARTNER_LIMIT = 200
_USER_LIMIT = 500
_NUMBER_NOISE = re.compile(r"[,\s_]")

Inputs = dict[str, str | list[str]]


def humanize(key: str) -> str:
    """An option key as a person reads it: `best_case` -> "Best case", `emea` -> "EMEA"."""
    return LABELS.get(key) or key.replace("_", " ").replace("-", " ").capitalize()


def initials(name: str) -> str:
    words = [w for w in re.split(r"[\s\-_.]+", name) if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def motion_choices() -> list[tuple[str, str]]:
    return list(MOTION_LABELS.items())


def field_name(key: str) -> str:
    return f"{FIELD_PREFIX}{key}"


# -- display ----------------------------------------------------------------------------------


def _date_text(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _number_text(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,f}"


def money_text(value: Any) -> str:
    """`{"value": "1234.50", "currency": "EUR"}` as "EUR 1,234.50"."""
    if not isinstance(value, Mapping):
        return str(value)
    try:
        amount = f"{Decimal(str(value.get('value'))):,.2f}"
    except InvalidOperation:
        amount = str(value.get("value"))
    currency = value.get("currency")
    return f"{currency} {amount}" if currency else amount


def _option_label(definition: FieldDefinition | None, key: str) -> str:
    if definition is None:
        return key
    for option in definition.options or []:
        if option.key == key:
            return option.label
    return humanize(key) if definition.is_standard or definition.options is None else key


def display(
    value: Any, definition: FieldDefinition | None, user_names: Mapping[str, str] | None = None
) -> str:
    """A field value as text. `definition` is None for a partner's custom field: its shape
    alone decides (partners' option labels and types are theirs)."""
    if value is None or value == "" or value == []:
        return EMPTY
    kind = definition.type if definition is not None else None
    if isinstance(value, Mapping) and "value" in value:
        return money_text(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_option_label(definition, str(v)) for v in value)
    if kind == FieldType.DATE or (
        kind is None and isinstance(value, str) and DATE_PATTERN.match(value)
    ):
        try:
            return _date_text(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if kind == FieldType.USER:
        return (user_names or {}).get(str(value), "A former user")
    if kind == FieldType.ENUM:
        return _option_label(definition, str(value))
    if kind == FieldType.NUMBER or isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def definition_for(template: CompanyTemplate | None, key: str) -> FieldDefinition | None:
    """My own field's definition; for a partner, only standard fields are known to everyone."""
    if template is not None and key in template.by_key:
        return template.by_key[key]
    return default_definition(key) if key in STANDARD_FIELDS else None


# -- my fields --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    """One of my company's fields on a page: its definition, visibility and value."""

    key: str
    label: str
    type: str
    visibility: str  # "private" | "participants" | "companies"
    audience: tuple[str, ...]  # company names, when visibility is "companies"
    required: bool
    help: str
    hidden: bool  # private while "hide private fields" is on: no value was read
    value: Any
    display: str
    options: tuple[tuple[str, str], ...]
    definition: FieldDefinition = field(repr=False)

    @property
    def name(self) -> str:
        return field_name(self.key)

    @property
    def is_private(self) -> bool:
        return self.visibility == "private"


def _options(definition: FieldDefinition) -> tuple[tuple[str, str], ...]:
    return tuple((key, _option_label(definition, key)) for key in definition.option_keys())


def my_fields(
    template: CompanyTemplate,
    space: SpaceOut | None,
    *,
    hide_private: bool,
    user_names: Mapping[str, str],
    company_names: Mapping[uuid.UUID, str],
) -> list[FieldView]:
    """My template's fields, with the values the service returned for my space."""
    values = space.fields if space is not None else {}
    views: list[FieldView] = []
    for definition in template.fields:
        if definition.key in NOT_SHOWN_ALONE:
            continue
        mode = definition.visibility_mode()
        audience: tuple[str, ...] = ()
        if isinstance(definition.visibility, CompaniesAudience):
            audience = tuple(
                company_names.get(c, "a former partner") for c in definition.visibility.companies
            )
        hidden = hide_private and mode == "private"
        value = None if hidden else values.get(definition.key)
        views.append(
            FieldView(
                key=definition.key,
                label=definition.label or definition.key,
                type=(definition.type or FieldType.TEXT).value,
                visibility=mode,
                audience=audience,
                required=definition.required,
                help=definition.help,
                hidden=hidden,
                value=value,
                display=display(value, definition, user_names),
                options=_options(definition),
                definition=definition,
            )
        )
    return views


@dataclass(frozen=True)
class SharedField:
    label: str
    display: str


def partner_fields(space: SpaceOut, user_names: Mapping[str, str]) -> list[SharedField]:
    """A partner's fields exactly as the gate returned them, read-only."""
    shown: list[SharedField] = []
    for key, value in space.fields.items():
        if key in NOT_SHOWN_ALONE and "amount" in space.fields:
            continue
        definition = default_definition(key) if key in STANDARD_FIELDS else None
        shown.append(
            SharedField(
                label=space.labels.get(key, key), display=display(value, definition, user_names)
            )
        )
    return shown


# -- form values ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def inputs_of(view: FieldView) -> Inputs:
    """What the edit form shows for a field: input name -> text (or chosen options)."""
    value = view.value
    if view.type == FieldType.MONEY:
        money = value if isinstance(value, Mapping) else {}
        return {
            view.name: _text(money.get("value")),
            f"{view.name}.currency": _text(money.get("currency")),
        }
    if view.type == FieldType.MULTI_ENUM:
        return {view.name: sorted(str(v) for v in value or [])}
    if view.type == FieldType.BOOL:
        return {view.name: "" if value is None else ("true" if value else "false")}
    return {view.name: _text(value)}


def submitted(view: FieldView, form: FormFields) -> Inputs:
    if view.type == FieldType.MONEY:
        return {
            view.name: form.text(view.name),
            f"{view.name}.currency": form.text(f"{view.name}.currency").upper(),
        }
    if view.type == FieldType.MULTI_ENUM:
        return {view.name: sorted(set(form.texts(view.name)))}
    if view.type == FieldType.LONG_TEXT:
        return {view.name: multiline(form, view.name)}
    return {view.name: form.text(view.name)}


def multiline(form: FormFields, name: str) -> str:
    """A textarea's text with the line breaks it was shown with (browsers send CR LF)."""
    return form.text(name, strip=False).replace("\r\n", "\n").replace("\r", "\n").strip()


def _same(view: FieldView, before: Inputs, after: Inputs) -> bool:
    if view.type == FieldType.MONEY:
        old, new = before.get(view.name, ""), after.get(view.name, "")
        same_amount = old == new or _as_decimal(old) == _as_decimal(new) is not None
        old_currency = before.get(f"{view.name}.currency") or ""
        new_currency = after.get(f"{view.name}.currency") or ""
        return same_amount and (not new or not new_currency or old_currency == new_currency)
    if view.type == FieldType.NUMBER:
        old, new = before.get(view.name, ""), after.get(view.name, "")
        return old == new or _as_decimal(old) == _as_decimal(new) is not None
    return before.get(view.name) == after.get(view.name)


def _as_decimal(text: str | list[str] | None) -> Decimal | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return Decimal(_NUMBER_NOISE.sub("", text))
    except InvalidOperation:
        return None


def raw_value(view: FieldView, inputs: Inputs) -> Any:
    """Submitted inputs as the value `records.service` expects; None clears the field."""
    main = inputs.get(view.name)
    if view.type == FieldType.MULTI_ENUM:
        return list(main) if isinstance(main, list) else []
    text = main if isinstance(main, str) else ""
    if not text:
        return None
    if view.type == FieldType.MONEY:
        money: dict[str, str] = {"value": _NUMBER_NOISE.sub("", text)}
        currency = inputs.get(f"{view.name}.currency")
        if isinstance(currency, str) and currency:
            money["currency"] = currency
        return money
    if view.type == FieldType.NUMBER:
        return _NUMBER_NOISE.sub("", text)
    if view.type == FieldType.BOOL:
        return {"true": True, "false": False}.get(text, text)
    return text


def changes(views: Iterable[FieldView], form: FormFields) -> tuple[dict[str, Any], Inputs]:
    """The fields whose submitted input differs from what the form showed, and all inputs."""
    patch: dict[str, Any] = {}
    everything: Inputs = {}
    for view in views:
        if view.hidden:
            continue
        after = submitted(view, form)
        everything.update(after)
        if not _same(view, inputs_of(view), after):
            patch[view.key] = raw_value(view, after)
    return patch, everything


def new_values(views: Iterable[FieldView], form: FormFields) -> tuple[dict[str, Any], Inputs]:
    """Values for a new record: filled inputs only, so template defaults apply to the rest."""
    values: dict[str, Any] = {}
    everything: Inputs = {}
    for view in views:
        after = submitted(view, form)
        everything.update(after)
        value = raw_value(view, after)
        if value is not None and value != []:
            values[view.key] = value
    return values, everything


def field_errors(problem: Problem, known_inputs: Iterable[str]) -> dict[str, str]:
    """A service problem's field paths (`body.fields.amount.currency`) as input names."""
    names = set(known_inputs)
    errors: dict[str, str] = {}
    for error in problem.errors or []:
        path = str(error.get("path", ""))
        message = str(error.get("message", "")) or problem.detail
        message = message[:1].upper() + message[1:]
        if path.startswith("body.fields."):
            parts = path.removeprefix("body.fields.").split(".")
            full, first = field_name(".".join(parts)), field_name(parts[0])
            target = full if full in names else first if first in names else FORM_ERROR
        else:
            target = path.removeprefix("body.") if path.startswith("body.") else FORM_ERROR
        errors.setdefault(target, message if target != FORM_ERROR else problem.detail)
    if not errors:
        errors[FORM_ERROR] = problem.detail
    return errors


def describe_changes(
    views: Iterable[FieldView], patch: Mapping[str, Any], user_names: Mapping[str, str]
) -> list[str]:
    """`["Stage: Won", ...]`: what a refused save tried to change, for the conflict message."""
    described = []
    for view in views:
        if view.key in patch:
            value = patch[view.key]
            text = display(value, view.definition, user_names)
            described.append(f"{view.label}: {text}")
    return described


# -- people and companies ---------------------------------------------------------------------


def colleague_names(session: Session, actor: Actor) -> dict[str, str]:
    """My company's users by id (for user fields), active or not."""
    rows = session.execute(
        select(User.id, User.name).where(User.company_id == actor.company_id).limit(_USER_LIMIT)
    )
    return {str(row[0]): row[1] for row in rows}


def colleague_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    rows = session.execute(
        select(User.id, User.name, User.email)
        .where(User.company_id == actor.company_id, User.is_active.is_(True))
        .order_by(User.name)
        .limit(_USER_LIMIT)
    )
    return [(str(row[0]), f"{row[1]} ({row[2]})") for row in rows]


def user_names_for(session: Session, actor: Actor, records: Iterable[RecordOut]) -> dict[str, str]:
    """Names behind user values the service returned: a user shown in a company's space must
    belong to that company (values are checked on write; this keeps it so on read)."""
    wanted: dict[uuid.UUID, set[uuid.UUID]] = {}
    for record in records:
        for space in record.spaces:
            if space.is_mine:
                continue
            owner = space.fields.get("owner")
            if isinstance(owner, str):
                try:
                    wanted.setdefault(space.company_id, set()).add(uuid.UUID(owner))
                except ValueError:
                    continue
    names = colleague_names(session, actor)
    for company_id, ids in wanted.items():
        rows = session.execute(
            select(User.id, User.name).where(User.company_id == company_id, User.id.in_(ids))
        )
        names.update({str(row[0]): row[1] for row in rows})
    return names


def partner_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """My company's active partners as (id, name), by name."""
    found, _ = partnerships.list_for(
        session, actor, status=PartnershipStatus.ACTIVE, limit=_PARTNER_LIMIT, cursor=None
    )
    partners = {p.other_company(actor.company_id) for p in found}
    return sorted(((str(c.id), c.name) for c in partners), key=lambda c: c[1].lower())


def audience_ids(template: CompanyTemplate) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = set()
    for definition in [*template.fields, *template.retired]:
        if isinstance(definition.visibility, CompaniesAudience):
            ids.update(definition.visibility.companies)
    return ids
