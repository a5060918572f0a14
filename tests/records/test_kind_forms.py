"""The per-kind form definitions: which shared-core inputs and which of my template's fields
each kind's "New …" form and space form offer."""

from __future__ import annotations

import pytest

from coterie.fields.definitions import FieldDefinition, FieldType, Option
from coterie.fields.kinds import MOTION_KINDS, Kind
from coterie.fields.templates import CompanyTemplate
from coterie.records import forms, presenters
from coterie.records.schemas import SpaceOut

DEAL_FIELDS = {"amount", "forecast_category", "close_date"}


def views(
    kind: str, *custom: FieldDefinition, values: dict[str, object] | None = None
) -> list[presenters.FieldView]:
    template = CompanyTemplate(kind, 1, list(custom), [])
    space = None
    if values is not None:
        space = SpaceOut.model_construct(fields=values, is_mine=True)
    return presenters.my_fields(
        template, space, hide_private=False, user_names={}, company_names={}
    )


@pytest.mark.parametrize("kind", list(Kind))
def test_motion_is_asked_only_where_the_server_takes_it(kind: Kind) -> None:
    asked = "motion" in forms.kind_form(kind.value).core_names
    assert asked == (kind.value in MOTION_KINDS)
    assert forms.kind_form(kind.value).core[0].name == "title"
    assert forms.kind_form(kind.value).core[0].required


def test_programs_and_plans_do_not_reuse_the_opportunity_form() -> None:
    for kind in ("program", "plan"):
        keys = {v.key for v in forms.create_fields(kind, views(kind))}
        assert keys == {"owner"}
        assert "customer_name" not in forms.kind_form(kind).core_names
    opportunity = {v.key for v in forms.create_fields("opportunity", views("opportunity"))}
    assert DEAL_FIELDS | {"stage", "owner"} <= opportunity
    account = {v.key for v in forms.create_fields("account", views("account"))}
    assert account == {"owner", "industry", "region"}
    assert "customer_domain" in forms.kind_form("account").core_names


def test_custom_and_required_fields_are_always_asked_for() -> None:
    custom = FieldDefinition(
        key="tier", type=FieldType.ENUM, options=[Option(key="gold", label="Gold")]
    )
    required_amount = FieldDefinition(key="amount", required=True)
    keys = {
        v.key for v in forms.create_fields("program", views("program", custom, required_amount))
    }
    assert keys == {"owner", "tier", "amount"}


def test_the_space_form_keeps_a_field_that_holds_a_value() -> None:
    filled = views("program", values={"amount": {"value": "10.00", "currency": "EUR"}})
    assert {v.key for v in forms.space_fields("program", filled)} == {"owner", "amount"}
    assert {v.key for v in forms.create_fields("program", filled)} == {"owner"}


def test_currencies_put_my_own_first_and_label_each() -> None:
    choices = forms.currency_choices("EUR")
    assert choices[0] == ("EUR", "EUR: Euro")
    assert ("USD", "US Dollar") in [(c, t.split(": ", 1)[1]) for c, t in choices]
    assert len({c for c, _ in choices}) == len(choices)
