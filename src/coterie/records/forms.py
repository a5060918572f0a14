"""The forms of each record kind: which shared-core inputs and which of my template's fields a
"New …" form and my space's form offer for accounts, leads, opportunities, solutions, programs
and plans, so that no kind asks for another kind's fields and no form offers a field the server
then refuses (motion exists on leads and opportunities only: `fields.kinds.MOTION_KINDS`).

Two things come from packages above `records`, installed at start-up (`coterie.wiring`):
- the stage choices of a company's workflow for a kind (`install_stage_choices`, from
  `coterie.workflows`): with a workflow, my `stage` is a select of its stages by label;
- a kind's extra create step (`install_extension`, from `coterie.cosell` for programs and
  plans): more inputs in the same dialog (a program's dates, a plan's program, period and
  first goal), saved in the same transaction as the record.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pycountry
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields.kinds import MOTION_KINDS, Kind
from coterie.records.presenters import FieldView
from coterie.web.forms import FormFields


@dataclass(frozen=True)
class CoreInput:
    """One input of the shared core on a create form."""

    name: str  # the RecordCreate key: title, customer_name, customer_domain, motion, description
    label: str
    required: bool = False
    hint: str = ""


@dataclass(frozen=True)
class KindForm:
    core: tuple[CoreInput, ...]
    standard: frozenset[str]  # the standard fields of my space this kind asks for

    @property
    def core_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.core)


def _name(label: str) -> CoreInput:
    return CoreInput("title", label, required=True)


_DESCRIPTION = CoreInput("description", "Description")
_CUSTOMER = (
    CoreInput("customer_name", "Customer"),
    CoreInput("customer_domain", "Customer domain", hint="Such as customer.com"),
)
_MOTION = CoreInput("motion", "Motion")

KIND_FORMS: dict[Kind, KindForm] = {
    Kind.ACCOUNT: KindForm(
        (
            _name("Account name"),
            CoreInput("customer_domain", "Domain", hint="Such as customer.com"),
            _DESCRIPTION,
        ),
        frozenset({"owner", "industry", "region"}),
    ),
    Kind.LEAD: KindForm(
        (_name("Title"), *_CUSTOMER, _MOTION, _DESCRIPTION),
        frozenset({"owner", "stage", "region", "industry", "product"}),
    ),
    Kind.OPPORTUNITY: KindForm(
        (_name("Title"), *_CUSTOMER, _MOTION, _DESCRIPTION),
        frozenset(
            {
                "amount",
                "stage",
                "forecast_category",
                "close_date",
                "owner",
                "region",
                "industry",
                "product",
            }
        ),
    ),
    Kind.SOLUTION: KindForm(
        (_name("Solution name"), _DESCRIPTION),
        frozenset({"owner", "stage", "product", "region", "industry"}),
    ),
    Kind.CAMPAIGN: KindForm(
        (_name("Campaign name"), _DESCRIPTION),
        frozenset({"owner", "region", "industry"}),  # solutions are links, not a product text
    ),
    Kind.PROGRAM: KindForm((_name("Program name"), _DESCRIPTION), frozenset({"owner"})),
    Kind.PLAN: KindForm((_name("Plan name"), _DESCRIPTION), frozenset({"owner"})),
}
assert all(  # noqa: S101  (a definition error, caught at import)
    ("motion" in f.core_names) == (kind.value in MOTION_KINDS) for kind, f in KIND_FORMS.items()
)


def kind_form(kind: str) -> KindForm:
    return KIND_FORMS[Kind(kind)]


def _offered(kind: str, view: FieldView, keep_filled: bool) -> bool:
    definition = view.definition
    if not definition.is_standard:
        return True  # the company's own custom fields for this kind
    if view.key in kind_form(kind).standard or definition.required:
        return True  # a required field is always asked for: the server insists on it
    return keep_filled and view.value not in (None, "", [])


def create_fields(kind: str, views: list[FieldView]) -> list[FieldView]:
    """My template's fields a new record of `kind` asks for."""
    return [v for v in views if _offered(kind, v, keep_filled=False)]


def space_fields(kind: str, views: list[FieldView]) -> list[FieldView]:
    """My space's fields on a record of `kind`: the kind's, and any other that holds a value
    (never hide data that is there)."""
    return [v for v in views if _offered(kind, v, keep_filled=True)]


# -- stage choices -----------------------------------------------------------------------------

StageChoices = Callable[[Session, uuid.UUID, str], "list[tuple[str, str]] | None"]
_stage_choices: list[StageChoices] = []


class NotInstalledError(RuntimeError):
    """A form asked for what `coterie.wiring.install()` provides before it ran."""


def install_stage_choices(provider: StageChoices) -> None:
    """`provider(session, company_id, kind)`: the (key, label) stages of the company's workflow
    for the kind, or None when no workflow applies (stage stays free text)."""
    _stage_choices[:] = [provider]


def stage_choices(
    session: Session, company_id: uuid.UUID, kind: str
) -> list[tuple[str, str]] | None:
    if not _stage_choices:
        raise NotInstalledError("no stage choices: call coterie.wiring.install() at start-up")
    return _stage_choices[0](session, company_id, kind)


def with_stage_choices(
    session: Session, company_id: uuid.UUID, kind: str, views: list[FieldView]
) -> list[FieldView]:
    """`views` with my stage as a choice of my workflow's stages (labels shown), if one applies."""
    if not any(v.key == "stage" for v in views):
        return views
    choices = stage_choices(session, company_id, kind)
    if choices is None:
        return views
    labels = dict(choices)
    return [
        dataclasses.replace(
            v,
            type="enum",
            options=tuple(choices),
            display=labels.get(str(v.value), v.display) if v.value else v.display,
        )
        if v.key == "stage"
        else v
        for v in views
    ]


# -- extra create steps ------------------------------------------------------------------------

Inputs = dict[str, Any]
SaveStep = Callable[[Session, Actor, uuid.UUID], None]


@dataclass
class ExtraInput:
    """What a kind's extra inputs read from a submitted form."""

    inputs: dict[str, str]  # input name -> submitted text (shown again on errors)
    errors: dict[str, str] = field(default_factory=dict)  # input name -> message
    save: SaveStep | None = None  # runs after the record is created, in the same transaction


class CreateExtension(Protocol):
    template: str  # included in the create form, after the shared core

    def context(
        self, session: Session, actor: Actor, preset: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def read(self, form: FormFields) -> ExtraInput: ...


_extensions: dict[str, CreateExtension] = {}


def install_extension(kind: str, extension: CreateExtension) -> None:
    _extensions[Kind(kind).value] = extension


def extension(kind: str) -> CreateExtension | None:
    return _extensions.get(kind)


# -- currencies --------------------------------------------------------------------------------


@functools.cache
def _all_currencies() -> tuple[tuple[str, str], ...]:
    found = sorted((c.alpha_3, f"{c.alpha_3}: {c.name}") for c in pycountry.currencies)
    return tuple(found)


def currency_choices(own: str) -> list[tuple[str, str]]:
    """Every ISO 4217 currency as (code, "EUR: Euro"), my company's own first."""
    every = _all_currencies()
    return [c for c in every if c[0] == own] + [c for c in every if c[0] != own]
