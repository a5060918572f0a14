"""Creating a record from a "New …" dialog: the dialog's form for one kind (`new_form`: the
kind's shared-core inputs, its extra inputs, my template's fields for that kind) and its
submission (`create`). Errors come back into the dialog with the person's input (an htmx
fragment, or the page with the dialog open); success goes to the new record with a flash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields import templates
from coterie.fields.kinds import KindInfo
from coterie.network.companies import names as company_names
from coterie.records import forms, presenters, service
from coterie.records.forms import CoreInput, ExtraInput
from coterie.records.presenters import FieldView
from coterie.records.schemas import RecordCreate
from coterie.web.forms import FORM_ERROR, FormFields, errors_from_validation
from coterie.web.submit import submit
from coterie.web.templating import is_htmx, navigate, render

DIALOGS = frozenset({"new-record", "new-plan"})  # the dialogs a create form lives in


@dataclass
class NewForm:
    """What the "New …" dialog of one kind shows."""

    info: KindInfo
    dialog_id: str
    core: tuple[CoreInput, ...]
    fields: list[FieldView]
    motions: list[tuple[str, str]]
    colleagues: list[tuple[str, str]]
    currencies: list[tuple[str, str]]
    extra_template: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    open: bool = False  # shown open on a full page (errors without htmx)

    @property
    def action(self) -> str:
        return f"/{self.info.plural}"

    @property
    def prefix(self) -> str:
        """The start of the form's input ids (`new-record-form-title`)."""
        return f"{self.dialog_id}-form"


def _fields(session: Session, actor: Actor, kind: str, names: bool) -> list[FieldView]:
    template = templates.load(session, actor.company_id, kind)
    views = presenters.my_fields(
        template,
        None,
        hide_private=False,
        user_names={},
        company_names=company_names(session, presenters.audience_ids(template)) if names else {},
    )
    views = forms.create_fields(kind, views)
    return forms.with_stage_choices(session, actor.company_id, kind, views)


def new_form(
    session: Session,
    actor: Actor,
    info: KindInfo,
    *,
    dialog_id: str = "new-record",
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    preset: Mapping[str, str] | None = None,
    open_: bool = False,
) -> NewForm:
    """The dialog's form; `preset` fills inputs before the person does (a plan's program)."""
    kind = info.kind.value
    extension = forms.extension(kind)
    shown = dict(preset or {}) | dict(values or {})
    return NewForm(
        info=info,
        dialog_id=dialog_id,
        core=forms.kind_form(kind).core,
        fields=_fields(session, actor, kind, names=True),
        motions=presenters.motion_choices(),
        colleagues=presenters.colleague_choices(session, actor),
        currencies=forms.currency_choices(actor.company.currency),
        extra_template=extension.template if extension else None,
        extra=extension.context(session, actor, shown) if extension else {},
        values=shown,
        errors=dict(errors or {}),
        open=open_,
    )


Fallback = Callable[[NewForm, int], Response]  # the whole page with the dialog open


def create(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    form: FormFields,
    fallback: Fallback,
) -> Response:
    kind = info.kind.value
    dialog_id = form.text("dialog") if form.text("dialog") in DIALOGS else "new-record"
    kind_form = forms.kind_form(kind)
    views = _fields(session, actor, kind, names=False)
    values, inputs = presenters.new_values(views, form)
    core = {name: form.text(name) for name in kind_form.core_names if name != "description"}
    if "description" in kind_form.core_names:
        core["description"] = presenters.multiline(form, "description")
    extension = forms.extension(kind)
    extra = extension.read(form) if extension else ExtraInput({})
    shown: dict[str, Any] = {**core, **inputs, **extra.inputs}

    def again(errors: dict[str, str], status_code: int = 422) -> Response:
        known = set(shown)
        placed = {
            (name if name in known or name == FORM_ERROR else FORM_ERROR): message
            for name, message in errors.items()
        }
        if is_htmx(request):  # the form again, in the dialog it came from
            dialog = new_form(
                session, actor, info, dialog_id=dialog_id, values=shown, errors=placed
            )
            return render(
                request, "records/_new_form.html", {"nf": dialog}, status_code=status_code
            )
        # without htmx: the kind's list page, its own dialog shown open
        dialog = new_form(session, actor, info, values=shown, errors=placed, open_=True)
        return fallback(dialog, status_code)

    errors: dict[str, str] = dict(extra.errors)
    try:
        data = RecordCreate.model_validate(
            {
                "title": core["title"],
                "customer_name": core.get("customer_name", ""),
                "customer_domain": core.get("customer_domain") or None,
                "motion": core.get("motion") or None,
                "description": core.get("description", ""),
                "fields": values,
            }
        )
    except ValidationError as exc:
        errors = errors_from_validation(exc) | errors
    if errors:
        return again(errors)

    def use_case() -> Any:
        record = service.create(session, actor, kind, data)
        if extra.save is not None:
            extra.save(session, actor, record.id)
        return record

    return submit(
        session,
        use_case,
        done=lambda record: navigate(
            request, f"/{info.plural}/{record.id}", f"{info.label} “{data.title}” created."
        ),
        refused=lambda problem: again(
            presenters.field_errors(problem, list(shown)), max(problem.status, 400)
        ),
    )
