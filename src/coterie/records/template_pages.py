"""The template editor: a company's fields per record kind, and who sees each of them.

Admins change a field's visibility (private, every participant, or chosen companies), add
custom fields and remove them; everyone else reads. Every change is one `templates.save` with
the version the page showed, so two admins editing at once cannot overwrite each other.
A removed field keeps its values: re-adding the key (or "Restore") shows them again.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.kit.problems import Problem, not_found
from coterie.network.companies import names as company_names
from coterie.records import presenters, templates
from coterie.records.fields import (
    STANDARD_FIELDS,
    CompaniesAudience,
    FieldDefinition,
    FieldType,
)
from coterie.records.kinds import KINDS, Kind, KindInfo
from coterie.records.templates import CompanyTemplate, TemplateIn
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    FormFields,
    FormInput,
    errors_from_validation,
    is_stale,
)
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_done, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

MODES = (
    ("private", "Private: only us"),
    ("participants", "Every company on the record"),
    ("companies", "Chosen companies"),
)
NEW_FIELD_TYPES = [(t.value, presenters.TYPE_LABELS[t.value]) for t in FieldType]
_SLUG = re.compile(r"[^a-z0-9]+")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_MAX_OPTION_LINES = 200


def _info(kind: str) -> KindInfo:
    try:
        return KINDS[Kind(kind)]
    except ValueError as exc:
        raise not_found("record kind") from exc


def _url(info: KindInfo) -> str:
    return f"/settings/templates/{info.kind.value}"


def _audience(definition: FieldDefinition) -> list[str]:
    if isinstance(definition.visibility, CompaniesAudience):
        return [str(c) for c in definition.visibility.companies]
    return []


def _visibility_values(template: CompanyTemplate) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in template.fields:
        values[f"vis.{definition.key}"] = definition.visibility_mode()
        values[f"aud.{definition.key}"] = _audience(definition)
    return values


def _company_choices(
    session: Session, actor: Actor, template: CompanyTemplate
) -> list[tuple[str, str]]:
    """Active partners, plus companies a field is already shared with (an ended partnership)."""
    choices = dict(presenters.partner_choices(session, actor))
    for company_id, name in company_names(session, presenters.audience_ids(template)).items():
        choices.setdefault(str(company_id), f"{name} (no longer a partner)")
    return sorted(choices.items(), key=lambda c: c[1].lower())


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    *,
    vis_values: dict[str, Any] | None = None,
    vis_errors: dict[str, str] | None = None,
    add_values: dict[str, Any] | None = None,
    add_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    template = templates.load(session, actor.company_id, info.kind.value)
    return render(
        request,
        "settings/templates.html",
        {
            "nav": "settings",
            "tab": "templates",
            "info": info,
            "kinds": list(KINDS.values()),
            "template": template,
            "standard_keys": set(STANDARD_FIELDS),
            "type_labels": presenters.TYPE_LABELS,
            "modes": MODES,
            "companies": _company_choices(session, actor, template),
            "vis_values": vis_values or _visibility_values(template),
            "vis_errors": vis_errors or {},
            "values": add_values or {"visibility": "private", "type": "text"},
            "errors": add_errors or {},
            "field_types": NEW_FIELD_TYPES,
            "defaults": {
                f.key: presenters.display(f.default, f)
                for f in template.fields
                if f.default is not None
            },
        },
        status_code=status_code,
    )


def _visibility(mode: str, company_ids: list[str], key: str, errors: dict[str, str]) -> Any:
    if mode == "participants":
        return "participants"
    if mode == "companies":
        ids: list[str] = []
        for value in company_ids:
            try:
                ids.append(str(uuid.UUID(value)))
            except ValueError:
                errors[key] = "Choose companies from the list."
                return "private"
        if not ids:
            errors[key] = "Choose at least one company, or another visibility."
        return {"companies": ids}
    return "private"


def _with_visibility(definition: FieldDefinition, visibility: Any) -> FieldDefinition:
    data = definition.model_dump(mode="json")
    data["visibility"] = visibility
    return FieldDefinition.model_validate(data)


def _save_errors(problem: Problem, index_to_key: dict[int, str]) -> dict[str, str]:
    """`body.fields.3.visibility.companies.0` -> `aud.<key of field 3>`; others -> `form`."""
    errors: dict[str, str] = {}
    for error in problem.errors or []:
        parts = str(error.get("path", "")).split(".")
        message = str(error.get("message", "")) or problem.detail
        message = message[:1].upper() + message[1:]
        if len(parts) >= 4 and parts[:2] == ["body", "fields"] and parts[2].isdigit():
            key = index_to_key.get(int(parts[2]))
            if key is not None:
                target = "aud" if parts[3] == "visibility" else parts[3]
                errors.setdefault(f"{target}.{key}", message)
                continue
        errors.setdefault(FORM_ERROR, problem.detail)
    if not errors:
        errors[FORM_ERROR] = problem.detail
    return errors


def _save(
    session: Session,
    actor: Actor,
    info: KindInfo,
    fields: list[FieldDefinition],
    version: int,
) -> None:
    try:
        data = TemplateIn(fields=fields)
    except ValidationError as exc:  # e.g. more fields than a template holds
        message = str(exc.errors()[0].get("msg", "is not valid"))
        raise Problem(422, "validation-error", "Invalid request", f"Template: {message}") from exc
    templates.save(session, actor, info.kind.value, data, version)


def _save_fields(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    fields: list[FieldDefinition],
    form: FormFields,
    message: str,
) -> Response:
    """Save `fields` as the template and go back to it with `message`, or say why not."""
    return submit(
        session,
        lambda: _save(session, actor, info, fields, form.version()),
        done=flash_done(request, _url(info), message),
        refused=lambda problem: _refused(request, info, problem),
    )


def _refused(request: Request, info: KindInfo, problem: Problem) -> Response:
    if is_stale(problem):
        message = (
            "Not saved: another admin changed this template after you opened it. "
            "Here is the latest version; make your change again."
        )
        return redirect(request, _url(info), message, "error")
    return redirect(request, _url(info), problem.detail, "error")


@router.get("/settings/templates")
def templates_home(request: Request, actor: PageActor) -> Response:
    return redirect(request, _url(KINDS[Kind.OPPORTUNITY]))


@router.get("/settings/templates/{kind}")
def template_page(request: Request, session: DB, actor: PageActor, kind: str) -> Response:
    return _page(request, session, actor, _info(kind))


@router.post("/settings/templates/{kind}")
def save_visibility(
    request: Request, session: DB, actor: PageActor, form: FormInput, kind: str
) -> Response:
    info = _info(kind)
    current = templates.load(session, actor.company_id, info.kind.value)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    fields: list[FieldDefinition] = []
    for definition in current.fields:
        key = definition.key
        mode = form.text(f"vis.{key}")
        chosen = form.texts(f"aud.{key}")
        values[f"vis.{key}"], values[f"aud.{key}"] = mode, chosen
        if mode not in {m for m, _ in MODES}:
            errors[f"vis.{key}"] = "Choose who sees this field."
            fields.append(definition)
            continue
        visibility = _visibility(mode, chosen, f"aud.{key}", errors)
        if f"aud.{key}" in errors:
            fields.append(definition)
            continue
        try:
            fields.append(_with_visibility(definition, visibility))
        except ValidationError:
            errors[f"aud.{key}"] = "Choose fewer companies (at most 500)."
            fields.append(definition)
    if errors:
        return _page(
            request, session, actor, info, vis_values=values, vis_errors=errors, status_code=422
        )
    if [f.visibility for f in fields] == [f.visibility for f in current.fields]:
        return redirect(request, _url(info), "Nothing changed.", "info")

    def refused(problem: Problem) -> Response:
        if problem.status != 422:
            return _refused(request, info, problem)
        found = _save_errors(problem, dict(enumerate(f.key for f in fields)))
        errors = {
            (k if k == FORM_ERROR or k.startswith("aud.") else "vis." + k.split(".", 1)[1]): v
            for k, v in found.items()
        }
        return _page(
            request, session, actor, info, vis_values=values, vis_errors=errors, status_code=422
        )

    return submit(
        session,
        lambda: _save(session, actor, info, fields, form.version()),
        done=flash_done(request, _url(info), "Visibility saved. Partners' pages follow at once."),
        refused=refused,
    )


# -- adding, removing and restoring custom fields ---------------------------------------------


def _slug(text: str) -> str:
    slug = _SLUG.sub("_", text.lower()).strip("_")[:60]
    return f"o_{slug}"[:60] if slug and not slug[0].isalpha() else slug


def _options(text: str, errors: dict[str, str]) -> list[dict[str, str]]:
    options: list[dict[str, str]] = []
    seen: set[str] = set()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > _MAX_OPTION_LINES:
        errors["options"] = f"At most {_MAX_OPTION_LINES} options."
        return []
    for line in lines:
        key = _slug(line)
        if not key:
            errors["options"] = f"“{line[:40]}” needs at least one letter or digit."
            return []
        if key in seen:
            errors["options"] = f"Two options read as “{key}”; make them differ."
            return []
        seen.add(key)
        options.append({"key": key, "label": line[:100]})
    return options


def _default(kind: str, text: str, options: list[dict[str, str]], errors: dict[str, str]) -> Any:
    """The typed default of a new field from its text; the service checks it once more."""
    if not text:
        return None
    by_text = {o["label"].lower(): o["key"] for o in options} | {
        o["key"]: o["key"] for o in options
    }
    if kind == FieldType.BOOL:
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        errors["default"] = "Enter yes or no, or leave it empty."
        return None
    if kind == FieldType.ENUM:
        return by_text.get(text.lower(), text)
    if kind == FieldType.MULTI_ENUM:
        return [
            by_text.get(part.strip().lower(), part.strip())
            for part in text.split(",")
            if part.strip()
        ]
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        return re.sub(r"[,\s_]", "", text)
    return text


def _validation_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for path, message in errors_from_validation(exc).items():
        if path == FORM_ERROR:
            path = "options" if "option" in message.lower() else "type"
        errors.setdefault(path.split(".")[0], message)
    return errors


_ADD_FORM_INPUTS = {"aud": "companies", "key": "key", "type": "type", "default": "default"}


def _add_form_input(error_key: str) -> str:
    """`default.<key>` (from `_save_errors`) -> the add form's `default` input."""
    return _ADD_FORM_INPUTS.get(error_key.split(".")[0], FORM_ERROR)


@router.post("/settings/templates/{kind}/fields")
def add_field(
    request: Request, session: DB, actor: PageActor, form: FormInput, kind: str
) -> Response:
    info = _info(kind)
    current = templates.load(session, actor.company_id, info.kind.value)
    values: dict[str, Any] = {
        "key": form.text("key").lower(),
        "label": form.text("label"),
        "type": form.text("type"),
        "options": form.text("options", strip=False),
        "required": form.flag("required"),
        "default": form.text("default"),
        "visibility": form.text("visibility"),
        "companies": form.texts("companies"),
    }
    errors: dict[str, str] = {}

    def again(found: dict[str, str]) -> Response:
        return _page(
            request, session, actor, info, add_values=values, add_errors=found, status_code=422
        )

    key = values["key"]
    if key in STANDARD_FIELDS:
        errors["key"] = f"“{key}” is a standard field; choose another key."
    elif key in current.by_key:
        errors["key"] = "Your template already has a field with this key."
    field_type = values["type"]
    if field_type not in {t.value for t in FieldType}:
        errors["type"] = "Choose one of the types."
    needs_options = field_type in (FieldType.ENUM, FieldType.MULTI_ENUM)
    options = _options(values["options"], errors) if needs_options else None
    if needs_options and not options and "options" not in errors:
        errors["options"] = "Enter the options, one per line."
    mode = values["visibility"] if values["visibility"] in {m for m, _ in MODES} else "private"
    visibility = _visibility(mode, values["companies"], "companies", errors)
    default = _default(field_type, values["default"], options or [], errors)
    if errors:
        return again(errors)
    try:
        definition = FieldDefinition.model_validate(
            {
                "key": key,
                "label": values["label"] or None,
                "type": field_type,
                "options": options,
                "required": values["required"],
                "default": default,
                "visibility": visibility,
            }
        )
    except ValidationError as exc:
        return again(_validation_errors(exc))
    fields = [*current.fields, definition]
    restored = any(f.key == key for f in current.retired)

    def refused(problem: Problem) -> Response:
        if problem.status != 422:
            return _refused(request, info, problem)
        found = _save_errors(problem, {len(fields) - 1: key})
        return again({_add_form_input(k): v for k, v in found.items()})

    message = f"Added the field “{definition.label}”."
    if restored:
        message += " Its earlier values are shown again."
    return submit(
        session,
        lambda: _save(session, actor, info, fields, form.version()),
        done=flash_done(request, _url(info), message),
        refused=refused,
    )


@router.post("/settings/templates/{kind}/fields/{key}/remove")
def remove_field(
    request: Request, session: DB, actor: PageActor, form: FormInput, kind: str, key: str
) -> Response:
    info = _info(kind)
    current = templates.load(session, actor.company_id, info.kind.value)
    definition = current.by_key.get(key)
    if definition is None or definition.is_standard:
        return redirect(request, _url(info), "That custom field is not in the template.", "error")
    fields = [f for f in current.fields if f.key != key]
    message = (
        f"Removed “{definition.label}”. Its values are kept, hidden: restore it below, or add "
        f"a field with the key “{key}” again, and they come back."
    )
    return _save_fields(request, session, actor, info, fields, form, message)


@router.post("/settings/templates/{kind}/fields/{key}/restore")
def restore_field(
    request: Request, session: DB, actor: PageActor, form: FormInput, kind: str, key: str
) -> Response:
    info = _info(kind)
    current = templates.load(session, actor.company_id, info.kind.value)
    definition = next((f for f in current.retired if f.key == key), None)
    if definition is None or key in current.by_key:
        return redirect(request, _url(info), "That field cannot be restored.", "error")
    fields = [*current.fields, definition]
    message = f"Restored “{definition.label}” with its earlier values."
    return _save_fields(request, session, actor, info, fields, form, message)
